"""`migrant-bot run`: every enabled channel, the intake, the outbox dispatcher, the event reminders and the HTTP
app (with the web console under /console unless `[console] enabled = false`; SIGHUP reloads the knowledge base if
it validates).

The HTTP app starts first, so that /healthz can say 503 while the chat services are still being reached: a
service that cannot be reached at start is tried again with backoff, one log line per attempt, until it answers
or the bot is stopped. SIGINT and SIGTERM stop it cleanly: no new updates are taken, the ones in its lanes
finish, then the connections close. An update taken but not finished when a process dies is in the inbox and is
taken over after its lease (see bot.intake). The channels come from the registry (bot.app.channel_plugins); this
module names none of them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
import signal
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import uvicorn

from bot.app import Runtime, channel_plugins, open_runtime
from bot.channels.base import Channel, ChannelPlugin, Factory
from bot.config import Config, ConfigError
from bot.core.flood import FloodGate
from bot.delivery import Sender
from bot.dispatch import Dispatcher
from bot.intake import Intake, Receiver
from bot.reload import Reloader
from bot.reminders import Reminders
from bot.storage.inbox import SqlInbox
from bot.storage.outreach import SqlOutreach
from bot.types import MediaSource
from bot.web import create_app

log = logging.getLogger(__name__)


@dataclass
class _Parts:
    """What `run` started, so that it can stop all of it."""

    ready: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    server: uvicorn.Server | None = None
    reloader: Reloader | None = None

    @property
    def receivers(self) -> dict[str, Receiver]:
        return {channel.channel: channel for channel in self.channels}


def owner_name() -> str:
    """This process's name in leases: host, pid and a random tail, so that a restart is a new owner."""
    return f"{socket.gethostname()[:12]}-{os.getpid()}-{secrets.token_hex(3)}"


class BotApp:
    """Everything `migrant-bot run` runs, built from the config: `start` brings it up, `close` takes it down."""

    def __init__(
        self,
        config: Config,
        env: Mapping[str, str] | None = None,
        plugins: Sequence[ChannelPlugin] | None = None,
    ) -> None:
        """`plugins`: the channels that may run (default: the registry's); the config says which do."""
        env = dict(os.environ) if env is None else env
        available = channel_plugins() if plugins is None else plugins
        enabled = [p for p in available if p.enabled(config)]
        if not enabled:
            sections = ", ".join(f"[{p.name}] enabled" for p in available)
            raise ConfigError(
                f"{config.source}: {sections}: no channel is enabled (set one to true, or use `migrant-bot chat`)"
            )
        self.config = config
        self._factories: list[Factory] = [p.configure(config, env) for p in enabled]  # secrets checked now
        self.parts = _Parts()
        self.runtime: Runtime | None = None
        self.intake: Intake | None = None

    async def start(self, stop: asyncio.Event) -> bool:
        """Open the database, serve HTTP, reach the chat services; False if stopped before they answered."""
        self.runtime = await open_runtime(self.config, owner=owner_name())
        # What start-up built (the libraries, the knowledge base) lives as long as the process: keep the
        # collector off it, or each full collection stalls every conversation (about 70 ms on this machine).
        gc.collect()
        gc.freeze()
        self.intake = await _start(self.config, self.runtime, self.parts, self._factories, stop)
        self.parts.ready = self.intake is not None
        return self.parts.ready

    async def close(self) -> None:
        """Stop taking updates, finish the ones taken, close every connection (`stop` must be set first)."""
        parts = self.parts
        parts.ready = False
        if parts.server is not None:
            parts.server.should_exit = True
        await asyncio.gather(*parts.tasks, return_exceptions=True)
        if self.intake is not None:
            self.intake.hurry()
            await self.intake.lanes.drain()
        for channel in parts.channels:
            await channel.close()
        if self.runtime is not None:
            await self.runtime.close()


async def run(config: Config, env: Mapping[str, str] | None = None, stop: asyncio.Event | None = None) -> None:
    app = BotApp(config, env)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def reload() -> None:  # SIGHUP: the knowledge base from disk, if it validates
        if app.parts.reloader is not None:
            app.parts.tasks.append(asyncio.create_task(_reload(app.parts.reloader)))

    loop.add_signal_handler(signal.SIGHUP, reload)
    try:
        if await app.start(stop):
            log.warning("migrant-bot is running: %s", ", ".join(app.parts.receivers))
            await stop.wait()
    finally:
        stop.set()
        await app.close()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)


async def _reload(reloader: Reloader) -> None:
    await reloader.reload()  # it logs what it did, or the first error that kept the old knowledge base


async def _start(
    config: Config, runtime: Runtime, parts: _Parts, factories: list[Factory], stop: asyncio.Event
) -> Intake | None:
    """Start everything; None when the bot was stopped before the chat services could be reached."""
    engine = runtime.engine
    assert engine is not None and engine.store is not None
    parts.channels = [build(runtime) for build in factories]
    inbox = SqlInbox(runtime.database, runtime.outbox.owner)
    intake = Intake(
        inbox,
        runtime.outbox,
        engine,
        parts.receivers,
        flood=FloodGate(config.bot.flood_per_minute, config.bot.flood_burst),
    )
    routes = [route for channel in parts.channels for route in channel.routes(intake)]
    parts.reloader = Reloader(config, engine)
    if config.console.enabled:
        from bot.webconsole.app import build_console
        from bot.webconsole.app import routes as console_routes

        media = {c.channel: c for c in parts.channels if isinstance(c, MediaSource)}
        console = await build_console(config, runtime.database, runtime.desk, parts.reloader, media)
        routes += console_routes(console)
    app = create_app(lambda: parts.ready, routes)
    listening = socket.socket(socket.AF_INET6 if ":" in config.web.host else socket.AF_INET)
    try:  # bound here, not by uvicorn, so that a taken port is one line of ours, not a server's traceback
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((config.web.host, config.web.port))
    except OSError as exc:
        listening.close()
        raise ConfigError(
            f"{config.source}: [web] host, port: cannot serve on {config.web.host}:{config.web.port} ({exc.strerror})"
        ) from exc
    parts.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", log_config=None))
    parts.tasks.append(asyncio.create_task(parts.server.serve(sockets=[listening])))
    # a webhook is set only once the server can answer its first call; uvicorn offers a flag, not an event
    while not parts.server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    for channel in parts.channels:
        if not await channel.start(stop):
            return None
    senders: dict[str, Sender] = dict(parts.receivers)
    dispatcher = Dispatcher(runtime.outbox, senders, config.handoff.delivery_attempts)
    parts.tasks.append(asyncio.create_task(dispatcher.run(stop)))
    reminders = Reminders(engine, SqlOutreach(runtime.database), runtime.outbox, config.bot.default_language)
    parts.tasks.append(asyncio.create_task(reminders.run(stop)))
    parts.tasks.append(asyncio.create_task(intake.run(stop)))
    parts.tasks.extend(asyncio.create_task(channel.run(intake, stop)) for channel in parts.channels)
    return intake
