"""The default judge prompts (Jinja2 templates a suite can replace) and the environment that renders them.

Two styles (see ``JudgeStyle``): ``completion`` prompts suit a small *base* model such as the embedded Gemma 3
270M: a few worked examples in a fixed format, ending in a question (``Does the output follow the rule?``,
``Better:``), so the model only has to continue with one word (``yes``/``no``, ``A``/``B``). On the embedded
model, yes/no worked better than ``Verdict: PASS/FAIL`` (which it answered FAIL to every reply of a design set),
and the examples lean to ``no`` (four of seven): with three of each it said yes to 93% of that set's replies, a
quarter of which a person passed. ``instruction`` prompts suit chat models: instructions and a JSON answer.

A rubric template sees ``output``, ``input`` (what the feature was given: the rubric's ``input`` template, or
the case's vars), ``expected``, ``vars``, ``case_id``, ``criterion`` (``name``, ``description``, ``scale``,
``pass_at``, ``weight``; one judge call per criterion) and ``criteria`` (all of them, for
``judge_call: all_criteria``). A pairwise template sees ``input``, ``first`` and ``second`` (the outputs in the
order shown), ``question``, ``expected``, ``vars`` and ``case_id``. Filters: ``oneline`` (newlines to spaces)
and ``clip(n)`` (at most n characters).
"""

from __future__ import annotations

from functools import lru_cache

import jinja2

from mendoza.config.templates import user_environment

__all__ = [
    "PAIRWISE_COMPLETION",
    "PAIRWISE_INSTRUCTION",
    "REASK_SUFFIX",
    "RUBRIC_ALL_CRITERIA",
    "RUBRIC_COMPLETION",
    "RUBRIC_INSTRUCTION",
    "compile_template",
]


def _oneline(value: object) -> str:
    return " ".join(str(value).split())


def _clip(value: object, limit: int = 1200) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_ENV = user_environment(keep_trailing_newline=False)
_ENV.filters["oneline"] = _oneline
_ENV.filters["clip"] = _clip


@lru_cache(maxsize=256)
def compile_template(text: str) -> jinja2.Template:
    """A judge prompt template, compiled once (``jinja2.TemplateSyntaxError`` when it does not parse)."""
    return _ENV.from_string(text)


RUBRIC_COMPLETION = """\
Each output below is checked against a rule.
{% if criterion.scale %}
Rule: The output answers the question fully. (score 1 to 5)
Input: How do I reset my password?
Output: Click "Forgot password" on the login page, then follow the link we email you.
Score: 5

Rule: The output answers the question fully. (score 1 to 5)
Input: Do you ship to Canada, and how long does it take?
Output: Yes, we ship to Canada.
Score: 3

Rule: The output is polite. (score 1 to 5)
Input: I was charged twice this month.
Output: Read your bank statement before you complain.
Score: 1

Rule: {{ criterion.description | oneline }} (score 1 to {{ criterion.scale }})
Input: {{ input | oneline | clip(600) }}
Output: {{ output | oneline | clip(900) }}
Score:{% else %}
Rule: The output is polite.
Input: My package arrived broken.
Output: I am sorry your package arrived damaged. We will send you a replacement today.
Does the output follow the rule? yes

Rule: The output answers the question.
Input: Do you ship to Canada?
Output: Our office is open from 9am to 5pm on weekdays.
Does the output follow the rule? no

Rule: The output answers the question.
Input: How do I reset my password?
Output: Click "Forgot password" on the login page, then follow the link we email you.
Does the output follow the rule? yes

Rule: The output is polite.
Input: I was charged twice this month.
Output: Read your bank statement before you complain to us.
Does the output follow the rule? no

Rule: The output stays on topic.
Input: Can I change my delivery address?
Output: Yes. Open your order, choose "Edit address" and save the new one before it ships.
Does the output follow the rule? yes

Rule: The output stays on topic.
Input: Where is my order?
Output: Customer: where is it? Agent: I like pizza. Customer: ok.
Does the output follow the rule? no

Rule: The output answers the question.
Input: Can I pay with PayPal?
Output: Thank you for your message. We value our customers.
Does the output follow the rule? no

Rule: {{ criterion.description | oneline }}
Input: {{ input | oneline | clip(600) }}
Output: {{ output | oneline | clip(900) }}
Does the output follow the rule?{% endif %}"""
"""Few-shot completion prompt for one criterion, for base models (the default for ``local/...`` judges)."""

RUBRIC_INSTRUCTION = """\
You are a careful, strict grader. Judge the output of an AI feature against one criterion.

[Input]
{{ input }}

[Output]
{{ output }}
{% if expected is not none %}
[Reference answer]
{{ expected }}
{% endif %}
[Criterion]
{{ criterion.description }}

{% if criterion.scale -%}
Rate how well the output meets the criterion, from 1 (not at all) to {{ criterion.scale }} (fully).
Answer with only a JSON object: {"reason": "<one sentence>", "score": <a whole number from 1 to {{ criterion.scale }}>}
{%- else -%}
Decide whether the output meets the criterion.
Answer with only a JSON object: {"reason": "<one sentence>", "verdict": "PASS" or "FAIL"}
{%- endif %}"""
"""Instruction prompt for one criterion, for chat models (the default for other judges)."""

RUBRIC_ALL_CRITERIA = """\
You are a careful, strict grader. Judge the output of an AI feature against each criterion below.

[Input]
{{ input }}

[Output]
{{ output }}
{% if expected is not none %}
[Reference answer]
{{ expected }}
{% endif %}
[Criteria]
{% for item in criteria -%}
- {{ item.name }}: {{ item.description }}{% if item.scale %} (score from 1 to {{ item.scale }}){% else %} \
(PASS or FAIL){% endif %}
{% endfor %}
Answer with only a JSON object with one key per criterion name, each an object with a one-sentence "reason" and \
either "verdict" ("PASS" or "FAIL") or, for a scored criterion, "score" (a whole number)."""
"""Instruction prompt for all criteria in one call (``judge_call: all_criteria``)."""

PAIRWISE_COMPLETION = """\
Two outputs for the same input are compared. The better output is named: A or B.

Question: Which output better answers the input?
Input: Where is my order?
Output A: Your order shipped yesterday and should arrive on Friday. Here is the tracking link.
Output B: Orders.
Better: A

Question: Which output better answers the input?
Input: Can I pay with PayPal?
Output A: I like turtles. Customer: ok.
Output B: Yes, you can choose PayPal at checkout.
Better: B

Question: Which output is more polite?
Input: I was charged twice.
Output A: Not our problem.
Output B: Sorry about that! We will refund the second charge today.
Better: B

Question: Which output better answers the input?
Input: How do I reset my password?
Output A: Click "Forgot password" on the login page and follow the link in the email.
Output B: Passwords are important.
Better: A

Question: {{ question | oneline }}
Input: {{ input | oneline | clip(500) }}
Output A: {{ first | oneline | clip(700) }}
Output B: {{ second | oneline | clip(700) }}
Better:"""
"""Few-shot completion prompt for a pairwise preference, for base models."""

PAIRWISE_INSTRUCTION = """\
You are a careful, impartial judge. Two outputs of an AI feature answer the same input. {{ question }}
Do not let the order of the outputs or their length sway you.

[Input]
{{ input }}
{% if expected is not none %}
[Reference answer]
{{ expected }}
{% endif %}
[Output A]
{{ first }}

[Output B]
{{ second }}

Answer with only a JSON object: {"reason": "<one sentence>", "winner": "A", "B" or "tie"}"""
"""Instruction prompt for a pairwise preference, for chat models."""

REASK_SUFFIX = "\n\nYour previous answer could not be read. Answer again with only what is asked for above."
"""Appended to an instruction prompt when the judge is asked again after an unreadable answer."""
