"""Review mode: walk the samples most worth a person's look (grader disagreements, flaky cases, failures)
one by one, from the keyboard: next, previous, pass, fail, note."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from mendoza.api import QueueItem, review_queue
from mendoza.core import Run
from mendoza.viewer.pages.sample import ReviewPosition, SampleView, build_sample, find_run_sample
from mendoza.viewer.params import BadParameter, integer
from mendoza.viewer.render import page
from mendoza.viewer.state import ViewerState, viewer_state

__all__ = ["ReviewView", "build_review", "review_page"]


@dataclass(frozen=True, slots=True)
class ReviewView:
    """Review mode at one position of the queue (``sample`` is None when the queue is empty)."""

    run: Run
    total: int
    at: int
    variants: tuple[str, ...]
    sample: SampleView | None


def _queue(state: ViewerState, run: Run, variants: tuple[str, ...]) -> list[QueueItem]:
    # The order uses automatic verdicts only: it changes when samples arrive, not when a person labels.
    return state.cached(
        ("queue", run.id, run.done_samples, variants), lambda: review_queue(state.store, run.id, variants)
    )


def build_review(state: ViewerState, run: Run, variants: tuple[str, ...], at: int) -> ReviewView:
    """Review mode of ``run`` (its ``variants``) at position ``at`` (brought within the queue)."""
    queue = _queue(state, run, variants)
    if not queue:
        return ReviewView(run, 0, 0, variants, None)
    at = min(at, len(queue) - 1)
    entry = queue[at]
    query = urlencode([("variant", variant) for variant in variants]) if variants != run.variant_ids else ""
    position = ReviewPosition(at=at, total=len(queue), reason=entry.reason, variants=variants, query=query)
    record = find_run_sample(state, run, entry.sample_id)
    return ReviewView(run, len(queue), at, variants, build_sample(state, run, record, review=position))


async def review_page(request: Request) -> Response:
    """``GET /runs/{run}/review?at=N``: the N-th sample (0-based) most worth a look."""
    state = viewer_state(request)
    run = state.run(request.path_params["run"])
    chosen = tuple(request.query_params.getlist("variant")) or run.variant_ids
    unknown = [variant for variant in chosen if variant not in run.variant_ids]
    if unknown:
        raise BadParameter(f"run {run.id} has no variant {unknown[0][:60]!r}")
    variants = tuple(variant for variant in run.variant_ids if variant in chosen)
    at = integer(request.query_params, "at", 0, low=0)
    return page(request, "review.html", build_review(state, run, variants, at))
