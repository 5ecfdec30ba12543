"""The console chat: the embedded default channel, with no tokens and no servers.

Buttons are shown as numbered options and typing the number presses the button. When standard input is not a
terminal, each line is one message and the replies are printed, so a conversation can be scripted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TextIO

from bot.types import Address, Button, Inbound, Outbound

CHANNEL = "console"
Handler = Callable[[Inbound], Awaitable[list[Outbound]]]


def render(outbound: Outbound) -> str:
    lines = [outbound.text]
    lines.extend(f"  {number}. {button.label}" for number, button in enumerate(outbound.buttons, 1))
    return "\n".join(lines)


class ConsoleChannel:
    """Reads the user's lines and prints replies; also the console's outbox sender (a consultant's answer)."""

    channel = CHANNEL
    max_length = 4096

    def __init__(
        self,
        handle: Handler,
        user: str,
        stdin: TextIO,
        stdout: TextIO,
        interactive: bool,
        language_hint: str | None = None,
    ) -> None:
        self._handle = handle
        self.address = Address(CHANNEL, user)
        self._in = stdin
        self._out = stdout
        self._interactive = interactive
        self._hint = language_hint
        self._buttons: tuple[Button, ...] = ()

    def _inbound(self, line: str) -> Inbound:
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self._buttons):
            return Inbound(self.address, payload=self._buttons[int(text) - 1].payload, language_hint=self._hint)
        return Inbound(self.address, text=line.rstrip("\n"), language_hint=self._hint)

    def show(self, replies: list[Outbound]) -> None:
        for reply in replies:
            self._out.write(render(reply) + "\n\n")
            if reply.buttons:
                self._buttons = reply.buttons
        self._out.flush()

    async def send(self, message: Outbound) -> None:
        self.show([message])

    async def _read(self) -> str | None:
        if self._interactive:
            self._out.write("> ")
            self._out.flush()
        line = await asyncio.to_thread(self._in.readline)
        return line if line else None

    async def run(self) -> None:
        while (line := await self._read()) is not None:
            if self._interactive and line.strip() in ("/quit", "/exit"):
                break
            self.show(await self._handle(self._inbound(line)))
