"""Viber: viberbot parses callbacks and builds messages; an async httpx client sends them.

viberbot's own sender blocks and has a fixed URL, so sending is ours, on `[viber] api_base_url`, with a timeout on
every call. Every callback's X-Viber-Content-Signature (hex HMAC-SHA256 of the raw body, keyed by the auth token)
is checked in constant time. Keyboard presses arrive as text messages carrying the button's ActionBody: ours start
with PRESS, so they cannot be confused with what a person types.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from viberbot.api.event_type import EventType
from viberbot.api.messages import MESSAGE_TYPE_TO_CLASS, TextMessage
from viberbot.api.viber_requests import (
    ViberConversationStartedRequest,
    ViberDeliveredRequest,
    ViberFailedRequest,
    ViberMessageRequest,
    ViberSeenRequest,
    ViberSubscribedRequest,
    ViberUnsubscribedRequest,
)

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

CHANNEL = "viber"
PRESS = "#mb:"
EVENT_TYPES = ["delivered", "seen", "failed", "subscribed", "unsubscribed", "conversation_started", "message"]
MEDIA_URL_KEYS = ("media", "url")
CALL_TIMEOUT = 5.0
# Viber publishes no per-second limit for send_message: broadcasts and reminders go at Telegram's pace, so that a
# broadcast never takes the process's time from the people chatting (replies are not paced)
BULK_PER_SECOND = 30
log = logging.getLogger(__name__)


class ViberStatus(enum.IntEnum):
    """The `status` of a Viber REST API answer, named as Viber's documentation names it."""

    OK = 0
    INVALID_URL = 1
    INVALID_AUTH_TOKEN = 2
    BAD_DATA = 3
    MISSING_DATA = 4
    RECEIVER_NOT_REGISTERED = 5
    RECEIVER_NOT_SUBSCRIBED = 6
    PUBLIC_ACCOUNT_BLOCKED = 7
    PUBLIC_ACCOUNT_NOT_FOUND = 8
    PUBLIC_ACCOUNT_SUSPENDED = 9
    WEBHOOK_NOT_SET = 10
    RECEIVER_NO_SUITABLE_DEVICE = 11
    TOO_MANY_REQUESTS = 12
    API_VERSION_NOT_SUPPORTED = 13
    INCOMPATIBLE_WITH_VERSION = 14
    PUBLIC_ACCOUNT_NOT_AUTHORIZED = 15
    INCHAT_REPLY_MESSAGE_NOT_ALLOWED = 16
    PUBLIC_ACCOUNT_IS_NOT_INLINE = 17
    NO_PUBLIC_CHAT = 18
    CANNOT_SEND_BROADCAST = 19
    BROADCAST_NOT_ALLOWED = 20
    UNSUPPORTED_COUNTRY = 21
    PAYMENT_UNSUPPORTED = 22
    FREE_MESSAGES_EXCEEDED = 23
    NO_BALANCE = 24
    GENERAL_ERROR = -1  # any other value

    @classmethod
    def of(cls, value: object) -> ViberStatus:
        try:
            return cls(int(str(value)))
        except ValueError:
            return cls.GENERAL_ERROR


GONE = {ViberStatus.RECEIVER_NOT_REGISTERED, ViberStatus.RECEIVER_NOT_SUBSCRIBED}  # the person left: send no more
LATER = {ViberStatus.TOO_MANY_REQUESTS}  # worth another try, after a wait; every other status is final


Deactivate = Callable[[Address], Awaitable[None]]
Receipt = Callable[[str, str], Awaitable[bool]]


class Act(enum.Enum):
    """What a callback asks of the bot once it is stored."""

    CONVERSE = "converse"  # the engine answers the person
    LEFT = "left"  # the person unsubscribed: send no more
    RECEIPT = "receipt"  # a delivered / seen / failed report for the outbox


@dataclass(frozen=True)
class Event:
    """One kind of callback: the viberbot request that parses it, whose it is, and what it asks."""

    request: type[Any]  # viberbot's request classes are untyped
    user: Callable[[Any], object]  # the user id, as the callback gives it
    act: Act


EVENTS: dict[str, Event] = {
    EventType.MESSAGE: Event(ViberMessageRequest, lambda r: r.sender.id, Act.CONVERSE),
    EventType.SUBSCRIBED: Event(ViberSubscribedRequest, lambda r: r.user.id, Act.CONVERSE),
    EventType.CONVERSATION_STARTED: Event(ViberConversationStartedRequest, lambda r: r.user.id, Act.CONVERSE),
    EventType.UNSUBSCRIBED: Event(ViberUnsubscribedRequest, lambda r: r.user_id, Act.LEFT),
    EventType.DELIVERED: Event(ViberDeliveredRequest, lambda r: r.user_id, Act.RECEIPT),
    EventType.SEEN: Event(ViberSeenRequest, lambda r: r.user_id, Act.RECEIPT),
    EventType.FAILED: Event(ViberFailedRequest, lambda r: r.user_id, Act.RECEIPT),
}
# what viberbot raises for a field that is missing or of the wrong shape (its own checks raise bare Exceptions,
# which parse() avoids by checking the event and the message type first)
MALFORMED = (KeyError, TypeError, AttributeError, ValueError)


def known(data: dict[str, Any]) -> Event | None:
    """The callback's kind, when this bot acts on it and viberbot can parse it (a message of a type it knows)."""
    event = EVENTS.get(str(data.get("event", "")))
    if event is None or event.request is not ViberMessageRequest:
        return event
    message = data.get("message")
    return event if isinstance(message, dict) and message.get("type") in MESSAGE_TYPE_TO_CLASS else None


async def call(
    client: httpx.AsyncClient, api_base_url: str, token: str, method: str, payload: dict[str, object]
) -> dict[str, object]:
    """POST one Viber REST API method; transport trouble becomes a (retryable) DeliveryError."""
    try:
        response = await client.post(
            f"{api_base_url.rstrip('/')}/{method}",
            json=payload,
            headers={"X-Viber-Auth-Token": token},
            timeout=CALL_TIMEOUT,
        )
        response.raise_for_status()
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DeliveryError(f"viber {method}: {exc}") from exc
    return answer if isinstance(answer, dict) else {}


def webhook_request(url: str) -> dict[str, object]:
    return {"url": url, "event_types": EVENT_TYPES, "send_name": True, "send_photo": False}


def signature_of(body: bytes, token: str) -> str:
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def keyboard(buttons: tuple[Button, ...]) -> dict[str, object] | None:
    """Viber's six-column grid: one button a row, short ones (👍 👎) three columns side by side."""
    if not buttons:
        return None
    return {
        "Type": "keyboard",
        "DefaultHeight": False,
        "Buttons": [
            {
                "Columns": 3 if len(b.label) <= 3 else 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": PRESS + b.payload,
                "Text": b.label[:250],
                "Silent": True,
            }
            for b in buttons
        ],
    }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class ViberChannel:
    channel = CHANNEL
    max_length = 7000

    def __init__(
        self,
        token: str,
        api_base_url: str,
        sender_name: str,
        sender_avatar: str,
        client: httpx.AsyncClient,
        deactivate: Deactivate,
        receipt: Receipt,
    ) -> None:
        self._token = token
        self._api = api_base_url.rstrip("/")
        self._sender = {"name": sender_name[:28], **({"avatar": sender_avatar} if sender_avatar else {})}
        self._client = client
        self.pace = Pace(BULK_PER_SECOND, reserve=1)
        self._deactivate = deactivate
        self._receipt = receipt

    # -- callbacks --------------------------------------------------------------------------------------------

    def authentic(self, body: bytes, signature: str) -> bool:
        return hmac.compare_digest(signature_of(body, self._token).encode(), signature.strip().lower().encode())

    def parse(self, body: str) -> Received:
        """The callback in a body; `detail` is None for an event this bot does not act on (answered 200)."""
        try:
            data = json.loads(body)
        except RecursionError as exc:
            raise ValueError("nested too deeply") from exc
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        event, token = str(data.get("event", "")), str(data.get("message_token", ""))
        ignored = Received(CHANNEL, f"{event}:{token}", "events", body)
        kind = known(data)
        if kind is None:
            log.info("viber callback %r ignored", event[:40])
            return ignored
        try:
            request = kind.request().from_dict(data)
        except MALFORMED:
            request = None
        lane = _text(kind.user(request)) if request is not None else None
        if request is not None and not lane and kind.act is Act.RECEIPT:
            lane = "events"  # a receipt names its message, not always its user: it needs no user's lane
        if not lane:
            log.info("viber callback %r ignored: a field is missing or malformed", event[:40])
            return ignored
        inbound = self._inbound(request) if kind.act is Act.CONVERSE else None
        return Received(CHANNEL, f"{event}:{token}", lane, body, inbound, request)

    @staticmethod
    def welcomes(received: Received) -> bool:
        """A conversation_started callback: the only one whose reply is the HTTP response body."""
        return bool(getattr(received.detail, "event_type", None) == EventType.CONVERSATION_STARTED)

    def _inbound(self, request: Any) -> Inbound:
        if request.event_type == EventType.MESSAGE:
            return self._message_inbound(request)
        return Inbound(
            Address(CHANNEL, str(request.user.id)), text="/start", language_hint=_text(request.user.language)
        )

    async def process(self, received: Received, handle: Handler) -> list[Outbound]:
        """What a callback asks: a conversation for the engine, a user who left, a receipt for the outbox."""
        request: Any = received.detail
        kind = EVENTS.get(str(getattr(request, "event_type", "")))
        if received.inbound is not None:
            return await handle(received.inbound)
        if kind is not None and kind.act is Act.LEFT:
            await self._deactivate(Address(CHANNEL, str(request.user_id)))
        elif kind is not None and kind.act is Act.RECEIPT:
            await self._receipt(str(request.message_token), str(request.event_type))
        return []

    def _message_inbound(self, request: ViberMessageRequest) -> Inbound:
        address = Address(CHANNEL, str(request.sender.id))
        message = request.message.to_dict()
        kind = message.get("type")
        hint = _text(request.sender.language)
        text = str(message.get("text") or "")
        if kind == "text" and text.startswith(PRESS):
            return Inbound(address, payload=text[len(PRESS) :], language_hint=hint)
        if kind == "text":
            return Inbound(address, text=text, language_hint=hint)
        if kind == "location":
            location = message.get("location") or {}
            where = (
                f"location {location.get('lat')},{location.get('lon')}" if isinstance(location, dict) else "location"
            )
            return Inbound(address, attachment=where, language_hint=hint)
        link = next((str(message[k]) for k in MEDIA_URL_KEYS if message.get(k)), "")
        return Inbound(address, text=text, attachment=f"{kind} {link}".strip(), language_hint=hint)

    def welcome_body(self, replies: list[Outbound]) -> dict[str, object] | None:
        """The one message Viber lets a bot send before the user writes, for the HTTP response body."""
        return self._message(replies[0]) if replies else None

    # -- sending ----------------------------------------------------------------------------------------------

    def _message(self, message: Outbound, text: str | None = None) -> dict[str, object]:
        board = keyboard(message.buttons)
        built = TextMessage(text=message.text if text is None else text, keyboard=board).to_dict()
        return {"sender": self._sender, "min_api_version": 3, **built}

    async def _post(self, method: str, payload: dict[str, object]) -> dict[str, object]:
        return await call(self._client, self._api, self._token, method, payload)

    async def send(self, message: Outbound) -> str | None:
        """Send, split at 7000 characters; a non-zero status becomes a DeliveryError by its meaning."""
        token: str | None = None
        parts = split_message(message.text, self.max_length)
        for number, part in enumerate(parts):
            await self.pace.wait(message.address.chat_id, message.bulk)
            body = self._message(message if number == len(parts) - 1 else Outbound(message.address, part), part)
            answer = await self._post("send_message", {"receiver": message.address.chat_id, **body})
            status = ViberStatus.of(answer.get("status"))
            if status is not ViberStatus.OK:
                reason = f"viber status {int(status)} {status.name}: {answer.get('status_message', '')}"
                if status in GONE:
                    raise DeliveryError(reason, blocked=True)
                if status in LATER:
                    raise DeliveryError(reason)  # Viber names no wait: the delivery policy backs off
                log.error("viber refused a message: %s", reason)
                raise DeliveryError(reason, permanent=True)
            token = str(answer.get("message_token", "")) or None
        return token

    async def media(self, kind: str, reference: str) -> Media:
        """A file a person sent, by the link Viber put in the callback (it expires after a while), read into
        memory up to MEDIA_LIMIT and never stored."""
        if not reference.startswith(("https://", "http://")):
            raise MediaUnavailable(f"the {kind} has no link to fetch it by")
        try:
            async with self._client.stream("GET", reference) as response:
                if response.status_code != 200:
                    raise MediaUnavailable(f"Viber answered {response.status_code} for the {kind} (links expire)")
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MEDIA_LIMIT:
                        raise MediaUnavailable.too_large(kind)
                kind_type = response.headers.get("content-type", "application/octet-stream").split(";")[0]
        except httpx.HTTPError as exc:
            raise MediaUnavailable(f"the {kind} could not be fetched: {type(exc).__name__}") from exc
        return Media(bytes(content), kind_type)

    async def set_webhook(self, url: str) -> dict[str, object]:
        return await self._post("set_webhook", webhook_request(url))
