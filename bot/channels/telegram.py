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
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable

from telegram import Bot, BotCommand, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot.types import Address, Button, DeliveryError, Handler, Inbound, Outbound, Received, split_message

CHANNEL = "telegram"
ALLOWED_UPDATES = ("message", "callback_query")
MEDIA = ("photo", "voice", "audio", "video", "video_note", "sticker", "document", "animation", "location", "contact")
API_CONNECTIONS = 16  # Bot API calls in flight at once: a few chats whose calls hang cannot hold them all
CALL_TIMEOUT = 5.0  # seconds to connect, to send a request and to read its answer; a hung call gives up then
log = logging.getLogger(__name__)
# `send` calls sendMessage through do_api_request on purpose (see there); python-telegram-bot would ask each time
# for its typed method instead
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

GroupHandler = Callable[[Update], Awaitable[None]]
Deactivate = Callable[[Address], Awaitable[None]]


def attachment_of(message: Message) -> str | None:
    """'photo <file id>', 'location 42.69,23.32'...: what a consultant needs to open the media."""
    for kind in MEDIA:
        value = getattr(message, kind, None)
        if not value:
            continue
        if kind == "photo":
            return f"photo {value[-1].file_id}"
        if kind == "location":
            return f"location {value.latitude},{value.longitude}"
        if kind == "contact":
            return "contact"
        return f"{kind} {getattr(value, 'file_id', '')}".strip()
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
        connection_pool_size=API_CONNECTIONS, connect_timeout=CALL_TIMEOUT, read_timeout=CALL_TIMEOUT,
        write_timeout=CALL_TIMEOUT, pool_timeout=2 * CALL_TIMEOUT,
    )
    return Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot", request=request,
               get_updates_request=HTTPXRequest(connect_timeout=CALL_TIMEOUT, read_timeout=CALL_TIMEOUT))


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


def chat_of(update: Update) -> str:
    """The lane an update belongs to: its chat, else its sender, else its own id."""
    if update.effective_chat is not None:
        return str(update.effective_chat.id)
    if update.effective_user is not None:
        return str(update.effective_user.id)
    return f"update {update.update_id}"


def _seconds(value: int | float | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _hint(value: object) -> str | None:
    return value if isinstance(value, str) else None


class TelegramChannel:
    channel = CHANNEL
    max_length = 4096

    def __init__(self, bot: Bot, group_chat_id: int = 0, group: GroupHandler | None = None) -> None:
        self.bot = bot
        self._group_chat_id = group_chat_id
        self._group = group

    # -- receiving --------------------------------------------------------------------------------------------

    def received(self, update: Update, body: str) -> Received:
        return Received(CHANNEL, str(update.update_id), chat_of(update), body, self._inbound(update), update)

    def parse(self, body: str) -> Received:
        try:
            data = json.loads(body)
        except RecursionError as exc:  # nested past what the JSON parser follows
            raise ValueError("not a Telegram update: nested too deeply") from exc
        return self.received(update_of(data, self.bot), body)

    def _inbound(self, update: Update) -> Inbound | None:
        """What a person did in a private chat; None for the groups."""
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            return None
        address = Address(CHANNEL, str(chat.id))
        query = update.callback_query
        if query is not None:
            return Inbound(address, payload=query.data or "", language_hint=_hint(query.from_user.language_code))
        message = update.message
        if message is None:
            return None
        user = message.from_user
        return Inbound(
            address, text=message.text or message.caption or "",
            language_hint=_hint(user.language_code) if user else None, attachment=attachment_of(message),
        )

    async def process(self, received: Received, handle: Handler) -> list[Outbound]:
        update = received.detail
        assert isinstance(update, Update)
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

    async def updates(self, stop: asyncio.Event, timeout: int = 25) -> AsyncIterator[list[Received]]:
        """Long polling until `stop`, a batch at a time; a stop interrupts the wait for updates, never a batch.

        Telegram counts an update as delivered once a later getUpdates asks past it: the caller stores a batch
        before asking for the next, so an update is never confirmed before it is stored."""
        offset: int | None = None
        failures = 0
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                fetch = asyncio.ensure_future(
                    self.bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
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
                if updates:
                    offset = updates[-1].update_id + 1
                    yield [self.received(u, json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
        finally:
            stopping.cancel()

    # -- sending ----------------------------------------------------------------------------------------------

    async def send(self, message: Outbound) -> None:
        """Send as HTML with everything escaped, split at paragraphs; errors become DeliveryError by meaning.

        The raw sendMessage call (with the keyboard's JSON made once) skips building a Message object from
        Telegram's answer, which the bot never reads."""
        parts = split_message(html.escape(message.text, quote=False), self.max_length)
        for number, part in enumerate(parts):
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

    async def register_commands(self, commands: dict[str, list[tuple[str, str]]]) -> None:
        """setMyCommands once per language, with descriptions in that language."""
        for language, pairs in commands.items():
            await self.bot.set_my_commands([BotCommand(c, d) for c, d in pairs], language_code=language)
