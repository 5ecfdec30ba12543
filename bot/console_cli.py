"""`migrant-bot console` (the web console alone: no chat service) and `migrant-bot staff ...` (who may log in)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys

from bot.app import Maintenance, open_runtime
from bot.cli_args import Subcommands, UsageError, language_list
from bot.cli_args import command as declare
from bot.config import Config, ConfigError
from bot.core.handoff import NAME_RULE, valid_name
from bot.storage.staff import Role, SqlStaff
from bot.tables import format_table


def add_parsers(commands: Subcommands, common: argparse.ArgumentParser) -> None:
    def command(parent: Subcommands, name: str, text: str) -> argparse.ArgumentParser:
        return declare(parent, name, text, common)

    command(commands, "console", "serve the web console alone on [web] host and port (no chat service)")
    staff = command(commands, "staff", "who may log in to the web console").add_subparsers(
        dest="staff_command", required=True
    )
    add = command(staff, "add", "give someone a role and a password (a registered consultant keeps their name)")
    add.add_argument("name", help="the name they log in and act under: letters, digits, '.', '-', '_', '@'")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--languages", help="comma-separated language codes (default: all configured)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    password = command(staff, "password", "set a new password; their sessions end")
    password.add_argument("name")
    password.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    command(staff, "list", "staff, their roles and whether they can log in")


def _password(from_stdin: bool) -> str:
    from bot.webconsole.auth import hash_password

    if from_stdin:
        secret = sys.stdin.readline().rstrip("\n")
    else:
        secret = getpass.getpass("password: ")
        if getpass.getpass("again: ") != secret:
            raise UsageError("the two passwords differ")
    try:
        return hash_password(secret)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


async def _staff(config: Config, args: argparse.Namespace) -> str:
    if args.staff_command != "list" and not valid_name(args.name):
        raise UsageError(f"'{args.name}': {NAME_RULE}")
    hashed = _password(args.password_stdin) if args.staff_command != "list" else ""
    given = getattr(args, "languages", None)
    languages = config.bot.languages if given is None else language_list(given, config.bot.languages)
    reading = args.staff_command == "list"
    runtime = await open_runtime(
        config, with_engine=False, maintenance=Maintenance.CHECK if reading else Maintenance.MIGRATE
    )
    try:
        staff = SqlStaff(runtime.database)
        if args.staff_command == "add":
            new = await staff.set_staff(args.name, Role(args.role), hashed, languages)
            await staff.audit("(cli)", "staff add", args.name, args.role)
            return f"{args.name} can log in to the console as {args.role}" + (
                "" if new else " (a registered consultant)"
            )
        if args.staff_command == "password":
            await staff.set_password(args.name, hashed)
            await staff.audit("(cli)", "staff password", args.name)
            return f"{args.name}'s password is changed; their sessions ended"
        rows = [
            [m.name, m.role.value, ",".join(m.languages), "yes" if m.has_password else "no"]
            for m in await staff.members()
        ]
        return format_table(["name", "role", "languages", "can log in"], rows) if rows else "no staff"
    finally:
        await runtime.close()


async def serve(config: Config) -> None:
    """The console and /healthz on [web] host and port until Ctrl-C."""
    import uvicorn

    from bot.reload import Reloader
    from bot.web import create_app
    from bot.webconsole.app import build_console, routes

    runtime = await open_runtime(config, with_engine=False, maintenance=Maintenance.MIGRATE)
    try:
        console = await build_console(config, runtime.database, runtime.desk, Reloader(config))
        if not any(m.has_password and m.admin for m in await console.staff.members()):
            print("no admin can log in yet: create one with `migrant-bot staff add NAME --role admin`", file=sys.stderr)
        app = create_app(lambda: True, routes(console))
        server = uvicorn.Server(
            uvicorn.Config(app, host=config.web.host, port=config.web.port, log_level="warning", lifespan="off")
        )
        print(f"the console is at http://{config.web.host}:{config.web.port}/console (Ctrl-C stops it)", flush=True)
        try:
            await server.serve()
        except SystemExit as exc:  # uvicorn exits when it cannot bind
            raise ConfigError(
                f"{config.source}: [web] host, port: cannot serve on {config.web.host}:{config.web.port}"
            ) from exc
    finally:
        await runtime.close()


def run(config: Config, args: argparse.Namespace) -> int:
    if args.command == "console":
        asyncio.run(serve(config))
        return 0
    print(asyncio.run(_staff(config, args)))
    return 0
