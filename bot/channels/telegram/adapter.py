"""Telegram: python-telegram-bot parses updates and calls the Bot API; the engine does everything else.

Private chats go to the engine; updates from the consultants' group go to its handler; in any other group the
bot stays silent. Every callback query is answered and every text sent is HTML-escaped. Receiving (storing,
dedupe, lanes) is the intake's; this module only turns updates into what the engine reads and replies into
Bot API calls, each with a timeout.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import html
import json
import logging
import mimetypes
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable

from telegram import Bot, BotCommand, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot.pacing import Pace
from bot.types import (
    MEDIA_LIMIT,
    Address,
    Button,
    DeliveryError,
    Handler,
    Inbound,
    Media,
    MediaUnavailable,
    Outbound,
    Received,
    split_message,
)

CHANNEL = "telegram"
ALLOWED_UPDATES = ("message", "callback_query")
MEDIA = ("photo", "voice", "audio", "video", "video_note", "sticker", "document", "animation", "location", "contact")
API_CONNECTIONS = 16  # Bot API calls in flight at once: a few chats whose calls hang cannot hold them all
MESSAGES_PER_SECOND = 30  # the Bot API's limit in all chats ([telegram] messages_per_second)...
RESERVED = 1  # ...of which broadcasts and reminders leave one a second free for the people chatting
CHAT_INTERVAL = 1.0  # and, for broadcasts and reminders, one message per chat per second
CALL_TIMEOUT = 5.0  # seconds to connect, to send a request and to read its answer; a hung call gives up then
log = logging.getLogger(__name__)
# `send` and `updates` call sendMessage and getUpdates through do_api_request on purpose (see there);
# python-telegram-bot would ask each time for its typed methods instead
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.(sendMessage|getUpdates)'", category=PTBUserWarning)

GroupHandler = Callable[[Update], Awaitable[None]]
Deactivate = Callable[[Address], Awaitable[None]]


def _at(data: object, *path: str) -> object:
    """A value deep in an update's JSON, or None where any step is missing or not an object."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# what a kind of media is when its file name says nothing (Telegram's photos are JPEG, voice notes Ogg Opus)
MEDIA_TYPES = {"photo": "image/jpeg", "voice": "audio/ogg", "video": "video/mp4", "video_note": "video/mp4"}


def attachment_of(message: dict[str, object]) -> str | None:
    """'photo <file id>', 'location 42.69,23.32'...: what a consultant needs to open the media."""
    for kind in MEDIA:
        value = message.get(kind)
        if not value:
            continue
        if kind == "photo":
            return f"photo {_at(value[-1], 'file_id') or ''}".strip() if isinstance(value, list) else "photo"
        if kind == "location":
            return f"location {_at(value, 'latitude')},{_at(value, 'longitude')}"
        if kind == "contact":
            return "contact"
        return f"{kind} {_at(value, 'file_id') or ''}".strip()
    return None


@functools.lru_cache(maxsize=1024)
def keyboard(buttons: tuple[Button, ...]) -> str | None:
    """The inline keyboard as the Bot API's JSON, made once per set of buttons (the menus repeat): one button a
    row, except short ones (👍 👎) which share a row."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for button in buttons:
        key = InlineKeyboardButton(button.label[:64], callback_data=button.payload)
        if len(button.label) <= 3 and rows and all(len(k.text) <= 3 for k in rows[-1]):
            rows[-1].append(key)
        else:
            rows.append([key])
    return json.dumps(InlineKeyboardMarkup(rows).to_dict(), ensure_ascii=False)


def connect(token: str, api_base_url: str) -> Bot:
    """A Bot on `{api_base_url}/bot{token}/{method}`; a call waits at most CALL_TIMEOUT for each step, and up to
    twice that for a free connection."""
    api = api_base_url.rstrip("/")
    request = HTTPXRequest(
        connection_pool_size=API_CONNECTIONS,
        connect_timeout=CALL_TIMEOUT,
        read_timeout=CALL_TIMEOUT,
        write_timeout=CALL_TIMEOUT,
        pool_timeout=2 * CALL_TIMEOUT,
    )
    return Bot(
        token,
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=request,
        get_updates_request=HTTPXRequest(connect_timeout=CALL_TIMEOUT, read_timeout=CALL_TIMEOUT),
    )


def update_of(data: object, bot: Bot) -> Update:
    """The Update a webhook's JSON holds; ValueError when it holds none (whatever is wrong with it)."""
    if not isinstance(data, dict):
        raise ValueError("not a Telegram update: not a JSON object")
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:  # python-telegram-bot raises what a field's parser raises: a huge date overflows...
        raise ValueError(f"not a Telegram update: {type(exc).__name__}") from exc
    if update is None or not isinstance(update.update_id, int):
        raise ValueError("not a Telegram update: no update_id")
    return update


def lane_of(data: dict[str, object]) -> str:
    """The lane an update belongs to: its chat, else its sender, else its own id."""
    for path in (
        ("message", "chat", "id"),
        ("callback_query", "message", "chat", "id"),
        ("message", "from", "id"),
        ("callback_query", "from", "id"),
    ):
        found = _at(data, *path)
        if isinstance(found, (int, str)) and not isinstance(found, bool):
            return str(found)
    return f"update {data.get('update_id')}"


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _hint(value: object) -> str | None:
    return value if isinstance(value, str) else None


class TelegramChannel:
    channel = CHANNEL
    max_length = 4096

    def __init__(
        self,
        bot: Bot,
        group_chat_id: int = 0,
        group: GroupHandler | None = None,
        per_second: int = MESSAGES_PER_SECOND,
    ) -> None:
        self.bot = bot
        self._group_chat_id = group_chat_id
        self._group = group
        self.pace = Pace(per_second, CHAT_INTERVAL, RESERVED)

    # -- receiving --------------------------------------------------------------------------------------------

    def parse(self, body: str) -> Received:
        """The update's key, lane and what the person did, read straight from its JSON: cheap enough for every
        update that arrives, a flood included. python-telegram-bot builds its objects only for the updates that
        are handled (`update`, when polling has them already)."""
        try:
            data = json.loads(body)
        except RecursionError as exc:  # nested past what the JSON parser follows
            raise ValueError("not a Telegram update: nested too deeply") from exc
        return self.received(data, body)

    def received(self, data: object, body: str) -> Received:
        """An update already parsed from `body` (getUpdates parses a whole batch at once)."""
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("update_id"), int)
            or isinstance(data["update_id"], bool)
        ):
            raise ValueError("not a Telegram update: no update_id")
        return Received(CHANNEL, str(data["update_id"]), lane_of(data), body, self._inbound(data))

    @staticmethod
    def _inbound(data: dict[str, object]) -> Inbound | None:
        """What a person did in a private chat; None for the groups."""
        query = data.get("callback_query")
        message = _at(query, "message") if isinstance(query, dict) else data.get("message")
        chat = _at(message, "chat")
        if not isinstance(chat, dict) or chat.get("type") != "private" or not isinstance(message, dict):
            return None
        address = Address(CHANNEL, str(chat.get("id")))
        if isinstance(query, dict):
            return Inbound(
                address, payload=str(query.get("data") or ""), language_hint=_hint(_at(query, "from", "language_code"))
            )
        text = message.get("text") or message.get("caption") or ""
        return Inbound(
            address,
            text=text if isinstance(text, str) else "",
            language_hint=_hint(_at(message, "from", "language_code")),
            attachment=attachment_of(message),
        )

    async def process(self, received: Received, handle: Handler) -> list[Outbound]:
        update = update_of(json.loads(received.body), self.bot)
        chat = update.effective_chat
        if self._group is not None and chat is not None and chat.id == self._group_chat_id:
            await self._group(update)
            return []
        if update.callback_query is not None:
            await self._answer(update.callback_query)
        return await handle(received.inbound) if received.inbound is not None else []

    @staticmethod
    async def _answer(query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramError as exc:  # an expired query cannot be answered; the press is still handled
            log.info("callback query not answered: %s", exc)

    async def updates(self, stop: asyncio.Event, long_poll: int = 25) -> AsyncIterator[list[Received]]:
        """Long polling until `stop`, a batch at a time; a stop interrupts the wait for updates, never a batch.

        Telegram counts an update as delivered once a later getUpdates asks past it: the caller stores a batch
        before asking for the next, so an update is never confirmed before it is stored. The raw getUpdates
        call keeps the updates as JSON: python-telegram-bot builds its objects only for those handled."""
        offset: int | None = None
        failures = 0
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                fetch = asyncio.ensure_future(
                    self.bot.do_api_request(
                        "getUpdates",
                        {"offset": offset, "timeout": long_poll, "allowed_updates": list(ALLOWED_UPDATES)},
                        read_timeout=long_poll + CALL_TIMEOUT,
                    )
                )
                await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not fetch.done():
                    fetch.cancel()
                    break
                try:
                    updates = fetch.result()
                except (TimedOut, NetworkError) as exc:
                    failures += 1
                    wait = min(30.0, 0.5 * 2 ** min(failures, 6))
                    log.warning("getUpdates failed (%s); trying again in %.0f s", exc, wait)
                    await asyncio.wait({stopping}, timeout=wait)
                    continue
                failures = 0
                batch = []
                for data in updates if isinstance(updates, list) else []:
                    try:
                        batch.append(self.received(data, json.dumps(data, ensure_ascii=False)))
                    except ValueError as exc:  # Telegram sent something that is no update: skip it
                        log.error("getUpdates returned something that is no update: %s", exc)
                    if isinstance(data, dict) and isinstance(data.get("update_id"), int):
                        offset = max(offset or 0, data["update_id"] + 1)
                if batch:
                    yield batch
        finally:
            stopping.cancel()

    # -- sending ----------------------------------------------------------------------------------------------

    async def send(self, message: Outbound) -> None:
        """Send as HTML with everything escaped, split at paragraphs; errors become DeliveryError by meaning.

        The raw sendMessage call (with the keyboard's JSON made once) skips building a Message object from
        Telegram's answer, which the bot never reads."""
        parts = split_message(html.escape(message.text, quote=False), self.max_length)
        for number, part in enumerate(parts):
            await self.pace.wait(message.address.chat_id, message.bulk)
            request: dict[str, object] = {"chat_id": int(message.address.chat_id), "text": part, "parse_mode": "HTML"}
            if number == len(parts) - 1 and message.buttons:
                request["reply_markup"] = keyboard(message.buttons)
            try:
                await self.bot.do_api_request("sendMessage", request)
            except Forbidden as exc:
                raise DeliveryError(str(exc), blocked=True) from exc
            except RetryAfter as exc:
                raise DeliveryError(str(exc), retry_after=_seconds(exc.retry_after)) from exc
            except BadRequest as exc:
                raise DeliveryError(str(exc), permanent=True) from exc
            except TelegramError as exc:  # timeouts, network trouble, 5xx: worth another try
                raise DeliveryError(str(exc)) from exc

    async def media(self, kind: str, reference: str) -> Media:
        """A file a person sent, by the file id the ticket keeps: getFile, then the download, in memory only."""
        try:
            file = await self.bot.get_file(reference)
            if file.file_size is not None and file.file_size > MEDIA_LIMIT:
                raise MediaUnavailable.too_large(kind)
            content = bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            raise MediaUnavailable(f"Telegram did not give the {kind}: {exc}") from exc
        guessed = mimetypes.guess_type(file.file_path or "")[0]
        return Media(content, guessed or MEDIA_TYPES.get(kind, "application/octet-stream"))

    async def register_commands(self, commands: dict[str, list[tuple[str, str]]]) -> None:
        """setMyCommands once per language, with descriptions in that language."""
        for language, pairs in commands.items():
            await self.bot.set_my_commands([BotCommand(c, d) for c, d in pairs], language_code=language)
