"""A support assistant in three steps, as real AI features are built: a router picks the queue, an answerer
drafts a reply for that queue, a guardrail checks the reply before it is sent. Both model steps run on the
embedded Gemma 3 270M through ``mendoza.model`` (cached, retried and recorded by mendoza; offline).

It is instrumented the standard way: the router is an OpenTelemetry span with the GenAI semantic conventions
(an app already traced this way needs no change for mendoza to see its steps); the guardrail uses the light
``mendoza.step`` helper. mendoza grades the route (``step: router``) and the reply, and reports each step's
reliability, where failures start, and the end-to-end rate beside the product of the step rates.
"""

from __future__ import annotations

from pathlib import Path

from opentelemetry import trace

import mendoza

QUEUES = ("billing", "technical", "account", "shipping")
_EXAMPLES = (Path(__file__).parent / "router_examples.txt").read_text(encoding="utf-8")
_tracer = trace.get_tracer("router_answerer")
_model = mendoza.model("local/gemma-3-270m", params={"temperature": 0.5})


def route(ticket: str) -> str:
    """The queue for a ticket: the model's first word, if it names a queue ("other" if not)."""
    with _tracer.start_as_current_span(
        "router",
        attributes={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gemma-3-270m"},
    ) as span:
        answer = _model.complete(
            f"{_EXAMPLES}\nTicket: {ticket}\nCategory:", name="classify", max_tokens=4, stop=["\n"]
        )
        words = answer.strip().lower().replace(".", " ").split()
        queue = next((word for word in words if word in QUEUES), "other")
        span.set_attribute("mendoza.step.input", ticket)
        span.set_attribute("mendoza.step.output", queue)
        return queue


_REPLY_EXAMPLES = """Customer: My parcel never arrived.
Agent: Sorry about that! I have asked the courier to trace it and will email you tomorrow.

Customer: The app logs me out every hour.
Agent: Thanks for telling us. Please update to version 4.2, which fixes that.

"""


def draft(ticket: str, queue: str) -> str:
    """A one-sentence reply from the queue's agent."""
    prompt = f"{_REPLY_EXAMPLES}Customer: {ticket}\nAgent:"
    return _model.complete(prompt, name="answer", max_tokens=40, stop=["\n", "Customer:"]).strip()


def _words(text: str) -> set[str]:
    return {word.strip(".,!?'\"").lower() for word in text.split()} - {""}


def guard(ticket: str, reply: str) -> str:
    """Block an empty reply, or one that only parrots the customer (most of its words are the ticket's): a
    small model often speaks as the customer instead of answering. A blocked reply is replaced by a holding
    message, so the customer still gets an answer."""
    with mendoza.step("guardrail", kind="guardrail", input=reply) as check:
        words = _words(reply)
        parrot = bool(words) and len(words & _words(ticket)) >= 0.6 * len(words)
        if not words or parrot:
            check.fail("empty reply" if not words else "the reply parrots the customer")
            check.output = "blocked"
            return "Thanks for your message: a colleague will get back to you shortly."
        check.output = "sent"
    return reply


def answer(vars: dict[str, str]) -> dict[str, str]:
    """The app mendoza calls for each case: the reply, with the queue it was routed to."""
    queue = route(vars["ticket"])
    reply = guard(vars["ticket"], draft(vars["ticket"], queue))
    return {"output": reply, "queue": queue}
