"""The console chat: the embedded default channel, with no tokens and no servers.

Buttons are shown as numbered options and typing the number presses the button; the numbers run on through all
the messages of one reply (the languages 1-6, then the topics 7-15), so a number always means what the screen
shows last. When standard input is not a terminal, each line is one message and the replies are printed, so a
conversation can be scripted. Lines are read in a thread of their own, so Ctrl-C ends the chat at once.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TextIO

from bot.types import Address, Button, Handler, Inbound, Outbound

CHANNEL = "console"
QUIT = ("/quit", "/exit")


def render(outbound: Outbound, first_number: int = 1) -> str:
    """A reply as plain text, its buttons as numbered options starting at `first_number`."""
    lines = [outbound.text]
    lines.extend(f"  {number}. {button.label}" for number, button in enumerate(outbound.buttons, first_number))
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
        shown: list[Button] = []
        for reply in replies:
            self._out.write(render(reply, len(shown) + 1) + "\n\n")
            shown.extend(reply.buttons)
        if shown:
            self._buttons = tuple(shown)
        self._out.flush()

    async def send(self, message: Outbound) -> None:
        self.show([message])

    def _lines(self) -> asyncio.Queue[str | None]:
        """Standard input, a line at a time, read by a daemon thread: a blocking read must not keep the process
        alive after Ctrl-C."""
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        def read() -> None:
            for line in iter(self._in.readline, ""):
                loop.call_soon_threadsafe(lines.put_nowait, line)
            loop.call_soon_threadsafe(lines.put_nowait, None)

        threading.Thread(target=read, name="console input", daemon=True).start()
        return lines

    async def run(self) -> None:
        lines = self._lines()
        while True:
            if self._interactive:
                self._out.write("> ")
                self._out.flush()
            line = await lines.get()
            if line is None or line.strip() in QUIT:
                return
            self.show(await self._handle(self._inbound(line)))
