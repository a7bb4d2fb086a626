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


def draft(ticket: str, queue: str) -> str:
    """A one-sentence reply from the queue's agent."""
    prompt = (
        f"You are a friendly {queue} support agent. Reply to the customer in one short sentence.\n\n"
        f"Customer: {ticket}\nAgent:"
    )
    return _model.complete(prompt, name="answer", max_tokens=40, stop=["\n", "Customer:"]).strip()


def guard(reply: str) -> str:
    """Block an empty reply or one that promises money back (only a person may do that)."""
    with mendoza.step("guardrail", kind="guardrail", input=reply) as check:
        blocked = not reply or "refund" in reply.lower() and "will" in reply.lower()
        if blocked:
            check.fail("empty reply or a refund promise")
            reply = "Thanks for your message: a colleague will get back to you shortly."
        check.output = "blocked" if blocked else "sent"
    return reply


def answer(vars: dict[str, str]) -> dict[str, str]:
    """The app mendoza calls for each case: the reply, with the queue it was routed to."""
    queue = route(vars["ticket"])
    reply = guard(draft(vars["ticket"], queue))
    return {"output": reply, "queue": queue}
