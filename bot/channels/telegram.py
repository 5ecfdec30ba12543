"""Telegram: python-telegram-bot parses updates and calls the Bot API; the engine does everything else.

Private chats go to the engine; updates from the consultants' group go to its handler; in any other group the
bot stays silent. Every callback query is answered, every update is handled once (its id is recorded before it
is handled: by the user store for private chats, by `first_time` for the group), and every text sent is
HTML-escaped.
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
from telegram._utils.types import ODVInput  # the type of BaseRequest's timeouts, which default to "the bot's"
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData
from telegram.warnings import PTBUserWarning

from bot.types import Address, Button, DeliveryError, Inbound, Outbound, split_message

CHANNEL = "telegram"
ALLOWED_UPDATES = ("message", "callback_query")
MEDIA = ("photo", "voice", "audio", "video", "video_note", "sticker", "document", "animation", "location", "contact")
IMMEDIATE_TRIES = 3
API_CONNECTIONS = 4  # Bot API calls in flight at once, each on a kept-alive connection
log = logging.getLogger(__name__)
# `send` calls sendMessage through do_api_request on purpose (see there); python-telegram-bot would ask each time
# for its typed method instead
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)

Handler = Callable[[Inbound], Awaitable[list[Outbound]]]
FirstTime = Callable[[str], Awaitable[bool]]
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


class _BoundedRequest(HTTPXRequest):
    """At most `connections` Bot API calls at once; the rest wait their turn here, not in the connection pool.

    Telegram lets a bot send about 30 messages a second, which a few kept-alive connections carry easily; a new
    connection for every concurrent reply costs a TLS handshake each, and httpx's pool slows down as it grows.
    """

    def __init__(self, connections: int) -> None:
        super().__init__(connection_pool_size=connections)
        self._turns = asyncio.Semaphore(connections)

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE, write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE, pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        async with self._turns:
            return await super().do_request(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )


def connect(token: str, api_base_url: str) -> Bot:
    """A Bot on `{api_base_url}/bot{token}/{method}`, sending on a few kept-alive connections."""
    api = api_base_url.rstrip("/")
    return Bot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot", request=_BoundedRequest(API_CONNECTIONS))


def update_of(data: object, bot: Bot) -> Update:
    """The Update a webhook's JSON holds; ValueError when it holds none."""
    if not isinstance(data, dict):
        raise ValueError("not a Telegram update: not a JSON object")
    try:
        update = Update.de_json(data, bot)
    except (AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a Telegram update: {exc}") from exc
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


class TelegramChannel:
    channel = CHANNEL
    max_length = 4096

    def __init__(
        self, bot: Bot, handle: Handler, first_time: FirstTime, group_chat_id: int = 0,
        group: GroupHandler | None = None, deactivate: Deactivate | None = None,
    ) -> None:
        self.bot = bot
        self._handle = handle
        self._deactivate = deactivate
        self._first_time = first_time
        self._group_chat_id = group_chat_id
        self._group = group

    # -- receiving --------------------------------------------------------------------------------------------

    async def process(self, update: Update) -> None:
        """Handle one update; never raises, so one bad update cannot stop polling or the webhook."""
        key = str(update.update_id)
        try:
            chat = update.effective_chat
            if self._group is not None and chat is not None and chat.id == self._group_chat_id:
                if await self._first_time(key):
                    await self._group(update)
            elif update.callback_query is not None:
                await self._callback(update.callback_query, key)
            elif update.message is not None and update.message.chat.type == ChatType.PRIVATE:
                await self._message(update.message, key)
        except Exception:
            log.exception("telegram update %s failed", update.update_id)

    async def _message(self, message: Message, key: str) -> None:
        user = message.from_user
        inbound = Inbound(
            Address(CHANNEL, str(message.chat.id)),
            text=message.text or message.caption or "",
            language_hint=user.language_code if user else None,
            attachment=attachment_of(message),
            dedupe_key=key,
        )
        await self._reply(await self._handle(inbound))

    async def _callback(self, query: CallbackQuery, key: str) -> None:
        try:
            await query.answer()
        except TelegramError as exc:  # an expired query cannot be answered; the press is still handled
            log.info("callback query not answered: %s", exc)
        chat = query.message.chat if query.message is not None else None
        if chat is None or chat.type != ChatType.PRIVATE:
            return
        inbound = Inbound(
            Address(CHANNEL, str(chat.id)), payload=query.data or "", language_hint=query.from_user.language_code,
            dedupe_key=key,
        )
        await self._reply(await self._handle(inbound))

    async def _reply(self, replies: list[Outbound]) -> None:
        """Immediate replies: wait out a 429 a few times; a user who blocked the bot becomes inactive."""
        for reply in replies:
            for attempt in range(IMMEDIATE_TRIES):
                try:
                    await self.send(reply)
                    break
                except DeliveryError as exc:
                    if exc.blocked:
                        if self._deactivate is not None:
                            await self._deactivate(reply.address)
                        return
                    if exc.retry_after is None or attempt == IMMEDIATE_TRIES - 1:
                        log.warning("reply to a telegram chat not sent: %s", exc)
                        break
                    await asyncio.sleep(exc.retry_after)

    async def updates(self, stop: asyncio.Event, timeout: int = 25) -> AsyncIterator[Update]:
        """Long polling until `stop`; a stop interrupts the wait for updates, never the handling of one.

        Telegram counts an update as delivered once a later getUpdates asks past it, so an update that was taken
        but not handled when the process died comes again (and the update log lets it through once)."""
        offset: int | None = None
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
                    log.warning("getUpdates failed, retrying: %s", exc)
                    await asyncio.sleep(1)
                    continue
                for update in updates:
                    offset = update.update_id + 1
                    yield update
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
            except (TimedOut, NetworkError) as exc:
                raise DeliveryError(str(exc)) from exc

    async def register_commands(self, commands: dict[str, list[tuple[str, str]]]) -> None:
        """setMyCommands once per language, with descriptions in that language."""
        for language, pairs in commands.items():
            await self.bot.set_my_commands([BotCommand(c, d) for c, d in pairs], language_code=language)
