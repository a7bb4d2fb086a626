"""Small real suites for the viewer's tests: a flaky ticket router on the mock provider, and an echo suite
that carries XSS payloads from its cases into prompts, outputs, case ids and tags."""

from __future__ import annotations

from mendoza.core import Case, GraderSpec, Suite, Variant

TICKETS = [
    ("refund-1", "I was charged twice for my order, please give my money back", "billing", ("money",)),
    ("refund-2", "Where is the refund for the shoes I returned last week?", "billing", ("money",)),
    ("login-1", "I cannot log in since I changed my password", "account", ("access",)),
    ("login-2", "The two-factor code never arrives on my phone", "account", ("access",)),
    ("ship-1", "My parcel says delivered but it is not here", "shipping", ("delivery",)),
    ("ship-2", "Can I change the delivery address of order 5512?", "shipping", ("delivery",)),
    ("bug-1", "The app crashes when I open the settings page", "technical", ("app",)),
    ("bug-2", "Dark mode makes the buttons unreadable", "technical", ("app",)),
]

# The graders: the right queue named (contains), and a short answer (length). An answer that hedges names the
# queue but runs long, so the two graders disagree on it.
GRADERS = (
    GraderSpec(type="contains", params={"value": "{{ expected }}"}, name="contains"),
    GraderSpec(type="length", params={"max": 24, "unit": "chars"}, name="length"),
)


def ticket_suite(name: str = "ticket-router", repeats: int = 4, *, better: bool = False) -> Suite:
    """A ticket router with two mock variants: ``zero-shot`` is flaky (right, hedging, or wrong by the seed),
    ``few-shot`` is mostly right. ``better`` makes zero-shot right more often (a second run to compare)."""
    zero_shot_outputs = ["{{ queue }}", "{{ queue }} (I am fairly sure about it)", "general", "{{ queue }}"]
    if better:
        zero_shot_outputs = ["{{ queue }}", "{{ queue }}", "{{ queue }}", "general"]
    return Suite(
        name=name,
        description="Route support tickets to one of four queues.",
        cases=tuple(
            Case(id=case_id, vars={"ticket": ticket, "queue": queue}, expected=queue, tags=tags)
            for case_id, ticket, queue, tags in TICKETS
        ),
        variants=(
            Variant(
                id="zero-shot",
                model="mock",
                prompt="Ticket: {{ ticket }}\nQueue:",
                params={"outputs": zero_shot_outputs},
            ),
            Variant(
                id="few-shot",
                model="mock",
                prompt="Examples...\nTicket: {{ ticket }}\nQueue:",
                params={"outputs": ["{{ queue }}", "{{ queue }}", "{{ queue }}", "{{ queue }}", "spam"]},
            ),
        ),
        graders=GRADERS,
        repeats=repeats,
        seed=7,
    )


PAYLOADS = {
    "script": "<script>window.__pwned = 'script'; document.title = 'pwned'</script>",
    "img": "<img src=x onerror=\"window.__pwned = 'img'; document.title = 'pwned'\">",
    "link": "<a href=\"javascript:window.__pwned = 'link'\">click me</a> [more](javascript:alert(1))",
    "attr": '" onmouseover="window.__pwned = \'attr\'" x="',
    "svg": "<svg onload=\"window.__pwned = 'svg'\"></svg>",
}


def xss_suite() -> Suite:
    """An echo suite whose cases carry XSS payloads into vars, prompts, outputs, case ids and tags."""
    return Suite(
        name="<script>window.__pwned='suite'</script>",
        description="<img src=x onerror=\"window.__pwned='description'\">",
        cases=tuple(
            Case(
                id=f"{key}-<b>{key}</b>",
                vars={"text": payload},
                expected="never there",
                tags=(f"<i onclick=\"window.__pwned='{key}'\">{key}</i>", "javascript:alert(1)"),
            )
            for key, payload in PAYLOADS.items()
        ),
        variants=(Variant(id="echo-<u>v</u>", model="echo", prompt="Say: {{ text }}"),),
        graders=(
            GraderSpec(type="contains", params={"value": "{{ text }}"}, name="contains"),
            GraderSpec(type="contains", params={"value": "never there"}, name="contains-2"),
        ),
        repeats=2,
    )
