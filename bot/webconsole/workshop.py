"""The admins' workshop: the knowledge base as it is on disk (validated, reloadable), the unanswered questions
and what to do with them, the figures, canned replies, staff and the audit log. Every change is audited."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response

from bot.core.handoff import NAME_RULE, valid_name
from bot.core.knowledge import Problem
from bot.core.tickets import DeskError
from bot.storage.staff import Role
from bot.unanswered import group
from bot.webconsole import auth, kb_files
from bot.webconsole import figures as desk_figures
from bot.webconsole.app import HEADERS, Console, Who, form_of, go, page, refused

DONE = {
    "reloaded": "The knowledge base is reloaded: the bot answers from the files on disk now.",
    "added": "The questions are added to the entry, validated and reloaded.",
    "marked": "The questions are marked and leave this list.",
    "canned": "Canned replies updated.",
    "staff": "Staff updated.",
}
MARKS = {"new_entry": "needs a new entry", "out_of_scope": "out of scope"}


def _done(request: Request) -> str:
    return DONE.get(request.query_params.get("done", ""), "")


async def knowledge(console: Console, request: Request, who: Who) -> Response:
    checked, problems = console.reloader.check()
    today = dt.date.today()
    due = {what for what, _ in checked.due(today)}
    show = request.query_params.get("show", "")
    entries = [
        e
        for e in checked.entries.values()
        if not (show == "due" and e.id not in due) and not (show == "verify" and not e.verify)
    ]
    entries.sort(key=lambda e: (e.topic, e.id))
    return page(
        console,
        request,
        who,
        "knowledge.html",
        entries=entries,
        problems=problems,
        errors=sum(p.error for p in problems),
        due=due,
        show=show,
        serving=len(console.reloader.knowledge().entries),
        done=_done(request),
    )


async def reload(console: Console, request: Request, who: Who) -> Response:
    problems = await console.reloader.reload()
    errors = [p for p in problems if p.error]
    await console.staff.audit(who.name, "kb reload", "knowledge", f"{len(errors)} error(s)")
    if errors:
        return _invalid(
            console,
            request,
            who,
            "The files do not validate: the bot goes on answering from the knowledge base it had.",
            errors,
        )
    return go("/admin/knowledge", "reloaded")


def _invalid(
    console: Console, request: Request, who: Who, message: str, errors: list[Problem], diff: str = ""
) -> Response:
    """The page for a knowledge base that did not validate: what was kept, every error with its file and line."""
    return page(console, request, who, "refused.html", status=409, message=message, problems=errors, diff=diff)


async def unanswered(console: Console, request: Request, who: Who) -> Response:
    days = int(request.query_params.get("days", "30")) if request.query_params.get("days", "30").isdigit() else 30
    questions = await console.users.unanswered(days)
    groups = group(questions, await console.reloader.current())
    files: dict[str, tuple[str, str]] = {}  # entry -> (file name, digest) for the add action
    for each in groups or ():
        if each.fits_entry and each.entry not in files:
            path = kb_files.entry_file(console.config.knowledge_path, each.entry)
            if path is not None:
                text = path.read_text(encoding="utf-8")
                files[each.entry] = (path.name, kb_files.digest(text))
                console.seen[kb_files.digest(text)] = text
    return page(
        console,
        request,
        who,
        "unanswered.html",
        groups=groups,
        questions=questions,
        files=files,
        days=days,
        marks=MARKS,
        done=_done(request),
    )


async def add_paraphrases(console: Console, request: Request, who: Who) -> Response:
    form = await form_of(request)
    entry, seen = str(form.get("entry", "")), str(form.get("digest", ""))
    ids = [int(str(i)) for i in form.getlist("question") if str(i).isdigit()]
    chosen = await console.users.unanswered_by_id(ids)
    if not chosen:
        return refused(console, request, who, 400, "Choose at least one question.")
    if entry not in console.reloader.knowledge().entries:
        return refused(console, request, who, 400, f"There is no entry '{entry[:64]}'.")
    path = kb_files.entry_file(console.config.knowledge_path, entry)
    if path is None:
        return refused(console, request, who, 409, f"No file holds the entry '{entry}' any more.")
    by_language: dict[str, list[str]] = {}
    for question in chosen:
        by_language.setdefault(question.language, []).append(question.text)
    before = path.read_text(encoding="utf-8")
    try:
        diff, added = kb_files.add_paraphrases(path, entry, by_language, seen, console.seen.get(seen))
    except kb_files.EditRefused as exc:
        return page(console, request, who, "refused.html", status=409, message=str(exc), diff=exc.diff)
    problems = await console.reloader.reload()
    errors = [p for p in problems if p.error]
    if errors:  # the edit broke the files: put the file back as it was, and say so
        path.write_text(before, encoding="utf-8")
        await console.reloader.reload()
        return _invalid(console, request, who, "The edit did not validate and was undone.", errors, diff)
    await console.users.mark_unanswered([q.id for q in chosen], "added")
    await console.staff.audit(who.name, "kb add paraphrases", entry, f"{added} paraphrase(s) into {path.name}")
    return go("/admin/unanswered", "added")


async def mark(console: Console, request: Request, who: Who) -> Response:
    form = await form_of(request)
    verdict = str(form.get("mark", ""))
    ids = [int(str(i)) for i in form.getlist("question") if str(i).isdigit()]
    if verdict not in MARKS or not ids:
        return refused(console, request, who, 400, "Choose questions and what they are.")
    count = await console.users.mark_unanswered(ids, verdict)
    await console.staff.audit(who.name, "unanswered mark", verdict, f"{count} question(s)")
    return go("/admin/unanswered", "marked")


def _range(console: Console, request: Request) -> desk_figures.Range:
    today = dt.datetime.now(console.zone).date()

    def day(name: str, default: dt.date) -> dt.date:
        try:
            return dt.date.fromisoformat(request.query_params.get(name, ""))
        except ValueError:
            return default

    last = day("to", today)
    first = min(day("from", last - dt.timedelta(days=13)), last)
    first = max(first, last - dt.timedelta(days=366))
    language = request.query_params.get("lang", "")
    return desk_figures.Range(first, last, console.zone, language if language in console.config.bot.languages else None)


async def _tables(console: Console, span: desk_figures.Range) -> list[desk_figures.Table]:
    return await desk_figures.tables(
        console.figures, span, console.reloader.knowledge(), console.config.handoff.answer_within_hours
    )


async def figures(console: Console, request: Request, who: Who) -> Response:
    span = _range(console, request)
    return page(
        console, request, who, "figures.html", tables=await _tables(console, span), span=span, query=request.url.query
    )


async def figures_csv(console: Console, request: Request, who: Who) -> Response:
    name = str(request.path_params["table"])
    for table in await _tables(console, _range(console, request)):
        if table.name == name:
            headers = {**HEADERS, "Content-Disposition": f'attachment; filename="{name}.csv"'}
            return Response(table.csv(), media_type="text/csv; charset=utf-8", headers=headers)
    return refused(console, request, who, 404, "There is no such table.")


async def canned(console: Console, request: Request, who: Who) -> Response:
    return page(console, request, who, "canned.html", canned=await console.staff.canned(), done=_done(request))


async def add_canned(console: Console, request: Request, who: Who) -> Response:
    form = await form_of(request)
    language, title, text = (
        str(form.get("language", "")),
        str(form.get("title", "")).strip(),
        str(form.get("text", "")).strip(),
    )
    if language not in console.config.bot.languages or not title or not text:
        return refused(console, request, who, 400, "A canned reply needs a language, a title and a text.")
    await console.staff.add_canned(language, title[:80], text[:4000])
    await console.staff.audit(who.name, "canned add", language, title[:80])
    return go("/admin/canned", "canned")


async def remove_canned(console: Console, request: Request, who: Who) -> Response:
    canned_id = int(request.path_params["id"])
    if not await console.staff.remove_canned(canned_id):
        return refused(console, request, who, 404, "There is no such canned reply.")
    await console.staff.audit(who.name, "canned remove", str(canned_id))
    return go("/admin/canned", "canned")


async def staff(console: Console, request: Request, who: Who) -> Response:
    return page(
        console,
        request,
        who,
        "staff.html",
        members=await console.staff.members(),
        roles=[r.value for r in Role],
        done=_done(request),
    )


async def add_staff(console: Console, request: Request, who: Who) -> Response:
    form = await form_of(request)
    name, role = str(form.get("name", "")).strip(), str(form.get("role", ""))
    languages = tuple(code for code in form.getlist("languages") if code in console.config.bot.languages)
    if not valid_name(name) or role not in {r.value for r in Role}:
        return refused(console, request, who, 400, f"{NAME_RULE.capitalize()}; choose a role.")
    try:
        hashed = auth.hash_password(str(form.get("password", "")))
        await console.staff.set_staff(name, Role(role), hashed, languages or console.config.bot.languages)
    except (auth.PasswordTooWeak, DeskError) as exc:
        return refused(console, request, who, 409, str(exc))
    await console.staff.audit(who.name, "staff add", name, role)
    return go("/admin/staff", "staff")


async def audit(console: Console, request: Request, who: Who) -> Response:
    return page(console, request, who, "audit.html", entries=await console.staff.audit_log())
