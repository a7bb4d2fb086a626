"""``mendoza cases review DRAFTS --suite SUITE``: nothing enters a suite unreviewed.

Each draft of a drafts file (``cases draft|perturb|import|dedupe``: one ``{"case": {...}, "provenance": {...}}``
a line) not yet decided is shown with its provenance, and a key read from the keyboard decides it, as
``mendoza label`` reads its answers: a (accept), r (reject), e (edit the case as JSON, validated as a case of
the suite), s (skip: asked again next time), q (quit). With ``--web`` the same review is a page of the viewer
(``/drafts``), with the same decisions file and the same rule.

What accepting, editing and rejecting do (validation, the cases file, provenance, the decisions file that lets a
review resume and never append a case twice) is ``mendoza.config.drafts.DraftReview``, reached through
``mendoza.api``; this module is only the keyboard.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from mendoza import api
from mendoza.cli.options import db_option, serve_options
from mendoza.cli.text import plain
from mendoza.core import Case
from mendoza.errors import ConfigError

__all__ = ["decisions_path", "review_command"]

#: Kept for older imports: where decisions are recorded.
decisions_path = api.decisions_path

_HELP = "a accept, r reject, e edit, s skip, q quit"
_KEYS = {
    "a": "accept", "accept": "accept", "r": "reject", "reject": "reject", "e": "edit", "edit": "edit",
    "s": "skip", "skip": "skip", "": "skip", "q": "quit", "quit": "quit",
}
#: How many lines of a drafts file that are not drafts are listed (the rest are counted).
_BAD_LISTED = 10


def _show(draft: api.Draft, case: Case | None, position: int, total: int) -> None:
    click.echo(f"\n[{position}/{total}] draft line {draft.line}: {plain(draft.case_id or '?', 200)}")
    if case is not None:
        for name, value in case.vars.items():
            click.echo(f"  {plain(name, 80)}: {plain(value, 2000, one_line=False)}")
        if case.expected is not None:
            click.echo(f"  expected: {plain(json.dumps(case.expected, ensure_ascii=False), 2000)}")
        if case.tags:
            click.echo(f"  tags: {plain(', '.join(case.tags), 500)}")
    provenance = ", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in draft.provenance.items())
    click.echo(f"  provenance: {plain(provenance or '(none)', 1000)}")


def _edit(review: api.DraftReview, draft: api.Draft, row: dict[str, Any]) -> tuple[dict[str, Any], Case] | None:
    """The case edited in the user's editor, or None (left unchanged, or invalid: one line says why)."""
    text = click.edit(json.dumps(row, indent=2, ensure_ascii=False) + "\n", extension=".json")
    if text is None:
        click.echo("not edited")
        return None
    try:
        edited = json.loads(text)
    except json.JSONDecodeError as exc:
        click.echo(f"invalid edit: not JSON ({exc.msg}, line {exc.lineno}); the draft is unchanged")
        return None
    try:
        case = review.check(draft, edited)
    except ConfigError as exc:
        click.echo(f"invalid edit: {plain(exc, 500)}; the draft is unchanged")
        return None
    return edited, case


@click.command("review")
@click.argument("drafts_path", metavar="DRAFTS", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--suite", "suite_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="The suite the accepted cases join.")
@click.option("--cases-file", type=click.Path(dir_okay=False, path_type=Path),
              help="The JSONL file accepted cases are appended to (default: the suite's 'cases:' file; needed when "
                   "the suite's cases are inline).")
@click.option("--web", is_flag=True,
              help="Review in the browser instead: serve the viewer's drafts page (/drafts) until Ctrl-C.")
@db_option
@serve_options
def review_command(
    drafts_path: Path, suite_path: Path, cases_file: Path | None, web: bool, db: Path | str | None, port: int,
    host: str, tokens: tuple[str, ...], tokens_file: Path | None,
) -> None:
    """Review the drafts in DRAFTS one by one, from the keyboard: a accept, r reject, e edit, s skip, q quit
    (--web: in the browser, on the viewer's drafts page). Accepted cases are appended to the suite's cases file
    with their provenance under metadata.provenance; decisions are kept in DRAFTS.decisions.jsonl, so a second
    review resumes where the first stopped. --db, --port, --host and --token are for --web."""
    suite = api.load_suite(suite_path)
    try:
        target = api.cases_target(suite_path, cases_file)
    except ConfigError as exc:  # where accepted cases go is a choice of options
        raise click.UsageError(exc.detail) from None
    review = api.DraftReview(drafts_path, suite, target)
    drafts = review.file()
    for bad in drafts.bad[:_BAD_LISTED]:
        click.echo(f"not a draft, left out: {plain(bad, 300)}")
    if len(drafts.bad) > _BAD_LISTED:
        click.echo(f"... and {len(drafts.bad) - _BAD_LISTED} more lines that are not drafts")
    if web:
        from mendoza.viewer import parse_tokens, serve

        token, named = parse_tokens(tokens, tokens_file)
        serve(db, host=host, port=port, token=token, tokens=named, announce=click.echo, drafts=review)
        return
    pending = review.pending()
    if not pending:
        click.echo(f"nothing to review: every draft of {plain(drafts_path, 300)} is decided")
        return
    click.echo(f"{len(pending)} drafts to review ({len(drafts.drafts) - len(pending)} decided before). {_HELP}")
    counts = {"accept": 0, "reject": 0, "skip": 0}
    for position, draft in enumerate(pending, start=1):
        action = _review_one(review, draft, position, len(pending))
        if action == "quit":
            break
        counts[action] += 1
    click.echo(
        f"accepted {counts['accept']}, rejected {counts['reject']}, skipped {counts['skip']}; "
        f"accepted cases go to {plain(review.target, 300)}"
    )


def _review_one(review: api.DraftReview, draft: api.Draft, position: int, total: int) -> str:
    """Show one draft and act on the keys typed; returns accept, reject, skip or quit."""
    row: dict[str, Any] | None = None  # the edited case, once edited
    try:
        case: Case | None = review.check(draft)
    except ConfigError as exc:
        case = None
        click.echo(f"  this draft is not a valid case of the suite: {plain(exc, 500)} (e edits it, r rejects it)")
    _show(draft, case, position, total)
    while True:
        try:
            answer = click.prompt("review", default="", show_default=False, prompt_suffix=" > ")
        except click.exceptions.Abort:
            return "quit"  # end of input (Ctrl-D, Ctrl-C, a closed pipe): stop; every decision made is kept
        action = _KEYS.get(answer.strip().lower())
        if action is None:
            click.echo(f"unknown answer. {_HELP}")
            continue
        if action == "edit":
            result = _edit(review, draft, draft.row if row is None else row)
            if result is not None:
                row, case = result
                _show(draft, case, position, total)
            continue
        if action == "accept" and case is None:
            click.echo("this draft is not a valid case of the suite: e edits it, r rejects it, s skips it")
            continue
        break
    if action in ("quit", "skip"):
        return action
    try:
        accepted = review.decide(draft, "accept" if action == "accept" else "reject", row)
    except api.CaseIdTaken as exc:
        click.echo(f"{plain(exc.detail, 300)}: draft skipped (e changes its id)")
        return "skip"
    except api.DraftDecided as exc:  # another review (a browser tab, a second terminal) decided it meanwhile
        click.echo(f"{plain(exc.detail, 300)} by another review: draft skipped")
        return "skip"
    if accepted is not None:
        click.echo(f"accepted: {plain(accepted.id, 200)}")
    else:
        click.echo(f"rejected: {plain((row or draft.row).get('id', '?'), 200)}")
    return str(action)
