"""The consultants' Telegram group: a card per ticket, claims and answers from the group.

A feed loop posts a card for each new ticket (in its own forum topic when the group is a forum), forwards what
users write or send afterwards, and announces urgent tickets again when nobody claimed them. Telegram lets a bot
post about 20 messages a minute in a group: when more tickets arrive than that, cards are batched several to a
message, never dropped; a batched ticket gets its own card once someone claims it. Only registered consultants
(their Telegram id set with `migrant-bot consultant add ... --telegram-id`) change anything; text for staff is
English.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections import deque
from collections.abc import Callable

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError

from bot.core.handoff import Desk, TicketInfo, TicketLine
from bot.core.tickets import DeskError
from bot.storage.cards import CardInfo, NewLine, SqlCards
from bot.storage.desk import SqlDesk

log = logging.getLogger(__name__)
PER_MINUTE = 20
BATCH = 5
_ATTACHMENT = re.compile(
    r"^\[(photo|voice|audio|video|video_note|sticker|document|animation) ([^\]\s]+)\]\s*(.*)$", re.S
)
_LOCATION = re.compile(r"^\[location (-?[\d.]+),(-?[\d.]+)\]\s*(.*)$", re.S)


class GroupRate:
    """Messages this process may still post to the group in the current minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._clock = clock
        self._sent: deque[float] = deque()

    def available(self) -> int:
        now = self._clock()
        while self._sent and now - self._sent[0] >= 60:
            self._sent.popleft()
        return self._per_minute - len(self._sent)

    def spend(self) -> None:
        self._sent.append(self._clock())


def card_text(ticket: TicketInfo, lines: list[TicketLine]) -> str:
    urgent = "🚨 URGENT · " if ticket.priority == "urgent" else ""
    question = "\n".join(line.text for line in lines if line.author == "user")[:1500] or "(no question yet)"
    return (
        f"{urgent}Ticket #{ticket.id} · {ticket.pseudonym} · {ticket.language} · {ticket.channel}\n"
        f"reason: {ticket.reason} · topic: {ticket.topic or '-'} · legal status: {ticket.person_status or '-'}\n\n"
        f"{question}\n\n"
        "Claim it, then reply to this message to answer the user."
    )


def buttons(ticket_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Claim", callback_data=f"c:claim:{ticket_id}"),
                InlineKeyboardButton("Close", callback_data=f"c:close:{ticket_id}"),
            ]
        ]
    )


class ConsultantGroup:
    def __init__(
        self,
        bot: Bot,
        chat_id: int,
        desk: Desk,
        store: SqlDesk,
        cards: SqlCards,
        reminder_minutes: int,
        rate: GroupRate | None = None,
    ) -> None:
        self.bot = bot
        self.chat_id = chat_id
        self._desk = desk
        self._store = store
        self._cards = cards
        self._reminder_minutes = reminder_minutes
        self._rate = rate or GroupRate(PER_MINUTE)
        self._forum: bool | None = None

    # -- posting ----------------------------------------------------------------------------------------------

    async def _is_forum(self) -> bool:
        if self._forum is None:
            chat = await self.bot.get_chat(self.chat_id)
            self._forum = bool(getattr(chat, "is_forum", False))
        return self._forum

    async def _send(
        self,
        text: str,
        card: CardInfo | None = None,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
        thread_id: int | None = None,
    ) -> Message:
        self._rate.spend()
        return await self.bot.send_message(
            self.chat_id,
            html.escape(text, quote=False),
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            message_thread_id=thread_id or (card.thread_id if card else None),
            reply_to_message_id=reply_to or (card.message_id if card and not card.thread_id else None),
        )

    async def post_card(self, ticket_id: int) -> None:
        """The ticket's own card, in its own forum topic when the group is a forum."""
        ticket, lines = await self._store.show(ticket_id)
        thread_id = None
        if await self._is_forum():
            self._rate.spend()
            topic = await self.bot.create_forum_topic(
                self.chat_id, f"#{ticket.id} {ticket.pseudonym} {ticket.language}"
            )
            thread_id = topic.message_thread_id
        message = await self._send(card_text(ticket, lines), markup=buttons(ticket.id), thread_id=thread_id)
        await self._cards.placed(ticket.id, message.message_id, thread_id)

    async def post_new_tickets(self) -> None:
        budget = self._rate.available()
        if budget <= 0:
            return
        waiting = await self._cards.unposted(limit=budget * BATCH)
        forum = await self._is_forum()
        if len(waiting) <= (budget // 2 if forum else budget):
            for ticket_id in waiting:
                if await self._cards.reserve(ticket_id):
                    await self.post_card(ticket_id)
            return
        for start in range(0, len(waiting), BATCH):
            if self._rate.available() <= 0:
                return
            chunk = [t for t in waiting[start : start + BATCH] if await self._cards.reserve(t)]
            if chunk:
                await self._post_batch(chunk)

    async def _post_batch(self, ticket_ids: list[int]) -> None:
        """Several tickets in one message, without their words (a claim shows them on the ticket's own card)."""
        lines, keys = [], []
        for ticket_id in ticket_ids:
            ticket, _ = await self._store.show(ticket_id)
            urgent = "🚨 " if ticket.priority == "urgent" else ""
            lines.append(
                f"{urgent}#{ticket.id} {ticket.pseudonym} {ticket.language} {ticket.reason} "
                f"topic: {ticket.topic or '-'}"
            )
            keys.append([InlineKeyboardButton(f"Claim #{ticket.id}", callback_data=f"c:claim:{ticket.id}")])
        text = f"{len(ticket_ids)} new tickets (many at once; each gets its own card when claimed):\n\n" + "\n".join(
            lines
        )
        await self._send(text, markup=InlineKeyboardMarkup(keys))

    async def forward_new_lines(self) -> None:
        budget = self._rate.available()
        for line in await self._cards.new_user_lines(limit=max(budget, 0)):
            await self._forward(line)
            await self._cards.shown(line)

    async def _forward(self, line: NewLine) -> None:
        ticket_ref = f"#{line.ticket_id}"
        self._rate.spend()
        thread, reply = line.card.thread_id, None if line.card.thread_id else line.card.message_id
        media = _ATTACHMENT.match(line.text)
        location = _LOCATION.match(line.text)
        if media:
            kind, file_id, caption = media.groups()
            send = getattr(self.bot, f"send_{kind}")
            kwargs = {"caption": f"{ticket_ref} {caption}".strip()} if kind not in ("sticker", "video_note") else {}
            posted = await send(self.chat_id, file_id, message_thread_id=thread, reply_to_message_id=reply, **kwargs)
        elif location:
            posted = await self.bot.send_location(
                self.chat_id,
                float(location.group(1)),
                float(location.group(2)),
                message_thread_id=thread,
                reply_to_message_id=reply,
            )
        else:
            posted = await self.bot.send_message(
                self.chat_id,
                html.escape(f"{ticket_ref} user: {line.text}", quote=False),
                parse_mode=ParseMode.HTML,
                message_thread_id=thread,
                reply_to_message_id=reply,
            )
        await self._cards.posted(line.ticket_id, posted.message_id)

    async def scrub_erased(self) -> None:
        """A person who used /forget: their card now says so, and what was forwarded of theirs is deleted (or,
        where Telegram no longer lets a bot delete it, emptied)."""
        for card, posts in await self._cards.erased():
            if card.message_id is not None:
                self._rate.spend()
                try:
                    await self.bot.edit_message_text(
                        f"Ticket #{card.ticket_id}: the person erased their data; their words are gone.",
                        chat_id=self.chat_id,
                        message_id=card.message_id,
                    )
                except TelegramError as exc:
                    log.warning("ticket %s: card not edited: %s", card.ticket_id, exc)
            for message_id in posts:
                try:
                    await self.bot.delete_message(self.chat_id, message_id)
                except TelegramError:
                    try:
                        await self.bot.edit_message_text(
                            "(erased by the person)", chat_id=self.chat_id, message_id=message_id
                        )
                    except TelegramError as exc:
                        log.warning("ticket %s: a forwarded message stays: %s", card.ticket_id, exc)
            await self._cards.scrubbed(card.ticket_id)

    async def remind_urgent(self) -> None:
        for card in await self._cards.due_reminders(self._reminder_minutes):
            if self._rate.available() <= 0:
                return
            await self._send(f"🚨 Urgent ticket #{card.ticket_id} is still waiting: please claim it.", card=card)
            await self._cards.reminded(card.ticket_id)

    async def feed_once(self) -> None:
        await self.scrub_erased()
        await self.post_new_tickets()
        await self.forward_new_lines()
        await self.remind_urgent()

    async def run(self, stop: asyncio.Event, interval: float = 3.0) -> None:
        while not stop.is_set():
            try:
                await self.feed_once()
            except (TelegramError, DeskError) as exc:
                log.warning("consultants' group feed: %s", exc)
            except Exception:
                log.exception("consultants' group feed failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass

    # -- what consultants do in the group ---------------------------------------------------------------------

    async def handle(self, update: Update) -> None:
        if update.callback_query is not None:
            await self._press(update.callback_query)
        elif update.message is not None:
            await self._message(update.message)

    async def _press(self, query: CallbackQuery) -> None:
        consultant = await self._store.consultant_by_telegram(query.from_user.id)
        if consultant is None:
            await query.answer("Only registered consultants can do this.", show_alert=True)
            return
        action, _, number = (query.data or "").removeprefix("c:").partition(":")
        if action not in ("claim", "close") or not number.isdigit():
            await query.answer("This button is no longer valid.", show_alert=True)
            return
        ticket_id = int(number)
        try:
            if action == "claim":
                await self._store.claim(ticket_id, consultant.name)
            else:
                await self._desk.close(ticket_id, consultant.name)
        except DeskError as exc:
            await query.answer(str(exc), show_alert=True)
            return
        done = "claimed" if action == "claim" else "closed"
        await query.answer(f"Ticket #{ticket_id} {done}.")
        card = await self._cards.card(ticket_id)
        if action == "claim" and card is not None and card.message_id is None:
            await self.post_card(ticket_id)  # it was in a batch: now it gets its own card to reply to
            card = await self._cards.card(ticket_id)
        await self._send(f"Ticket #{ticket_id} {done} by {consultant.name}.", card=card)

    async def _message(self, message: Message) -> None:
        if message.from_user is None:
            return
        consultant = await self._store.consultant_by_telegram(message.from_user.id)
        if consultant is None:
            return  # anyone else in the group changes nothing
        text = (message.text or "").strip()
        command, _, rest = text.partition(" ")
        command = command.split("@")[0].lower() if command.startswith("/") else ""
        if command == "/queue":
            await self._send(await self._queue_summary(), reply_to=message.message_id)
            return
        reply_to = message.reply_to_message.message_id if message.reply_to_message else None
        thread = message.message_thread_id if message.is_topic_message else None
        ticket_id = await self._cards.ticket_for(reply_to, thread)
        if ticket_id is None or not text:
            return
        try:
            if command == "/close":
                await self._desk.close(ticket_id, consultant.name)
            elif command == "/release":
                await self._store.release(ticket_id, consultant.name)
            elif command == "/note":
                await self._store.note(ticket_id, consultant.name, rest.strip() or "(empty note)")
            elif command:
                raise DeskError(f"unknown command {command}: use /close, /release, /note TEXT or /queue")
            else:
                await self._desk.reply(ticket_id, consultant.name, text)
        except DeskError as exc:
            await self._send(f"⚠️ {exc}", reply_to=message.message_id)
            return
        await self.bot.set_message_reaction(self.chat_id, message.message_id, "👍")

    async def _queue_summary(self) -> str:
        waiting = await self._store.list_tickets(status="waiting")
        if not waiting:
            return "No tickets are waiting."
        by_language: dict[str, list[str]] = {}
        for ticket in waiting:
            mark = "🚨" if ticket.priority == "urgent" else ""
            by_language.setdefault(ticket.language, []).append(f"{mark}#{ticket.id}")
        return "Waiting tickets:\n" + "\n".join(f"{lang}: {' '.join(ids)}" for lang, ids in sorted(by_language.items()))
