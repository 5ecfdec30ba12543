"""What a person sent besides text, opened for a consultant: fetched from their chat service at the moment the
ticket shows it, passed through and never stored, each opening in the audit log.

A ticket keeps only the reference (Telegram's file id, Viber's link), so the file lives where the person put it;
the running bot's channel fetches it. A file is shown inline only as a type a browser renders without running
anything (no SVG, no HTML); any other is a download, and every answer carries a CSP that forbids scripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bot.core.handoff import TicketLine
from bot.core.tickets import DeskError
from bot.types import MediaUnavailable
from bot.webconsole.app import HEADERS, Console, Who, refused

ATTACHMENT = re.compile(
    r"^\[(photo|voice|audio|video|video_note|sticker|document|animation|picture|file|location)"
    r" ([^\]]*)\]\s*(.*)$",
    re.S,
)
INLINE = {
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp4",
    "video/mp4",
    "video/webm",
}


@dataclass(frozen=True)
class Attachment:
    kind: str  # photo, voice, document...: as the channel named it
    reference: str  # what fetches it (a file id, a link), or a location's coordinates
    caption: str


def attachment_of(line: TicketLine) -> Attachment | None:
    """The attachment a person's line of a ticket carries, if any."""
    found = ATTACHMENT.match(line.text) if line.author == "user" else None
    return Attachment(found.group(1), found.group(2), found.group(3)) if found else None


async def attachment(console: Console, request: Request, who: Who) -> Response:
    ticket_id, number = int(request.path_params["id"]), int(request.path_params["line"])
    try:
        ticket, lines = await console.desk.ticket(ticket_id)
    except DeskError as exc:
        return refused(console, request, who, 404, str(exc))
    found = attachment_of(lines[number]) if 0 <= number < len(lines) else None
    if found is None or found.kind == "location":
        return refused(console, request, who, 404, "There is no such attachment.")
    source = console.media.get(ticket.channel)
    if source is None:
        return refused(console, request, who, 404, f"Attachments open only while the bot runs its {ticket.channel}.")
    try:
        media = await source.media(found.kind, found.reference)
    except MediaUnavailable as exc:
        return refused(console, request, who, 502, f"The {found.kind} cannot be opened: {exc}.")
    await console.staff.audit(who.name, "attachment open", f"ticket {ticket_id}", found.kind)
    inline = media.content_type in INLINE
    disposition = "inline" if inline else f'attachment; filename="ticket-{ticket_id}-{found.kind}-{number}"'
    headers = {**HEADERS, "Content-Security-Policy": "default-src 'none'; sandbox", "Content-Disposition": disposition}
    kind = media.content_type if inline else "application/octet-stream"
    return Response(media.content, media_type=kind, headers=headers)
