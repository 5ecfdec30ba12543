"""What every `migrant-bot` command shares in parsing its arguments: the common options, the way a command is
declared, and the one-line error for arguments that make no sense (exit 2)."""

from __future__ import annotations

import argparse
from typing import Any, Protocol


class Subcommands(Protocol):
    """What `add_subparsers()` returns, as far as the commands use it (argparse names its class privately)."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit 2."""


def common_options(default: bool = False) -> argparse.ArgumentParser:
    """--config and --debug, taken before or after the command alike: the top parser's copy has the defaults,
    the commands' copy has none, so that a value given before the command is not overwritten by it."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--config",
        metavar="PATH",
        default=None if default else argparse.SUPPRESS,
        help="bot.toml to use (default: $MIGRANT_BOT_CONFIG, ./bot.toml, built-in defaults)",
    )
    parent.add_argument(
        "--debug",
        action="store_true",
        default=False if default else argparse.SUPPRESS,
        help="debug logging (may log message text; never secrets)",
    )
    return parent


def command(parent: Subcommands, name: str, text: str, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """A (sub)command with its help text and the common options."""
    return parent.add_parser(name, help=text, description=text, parents=[common])


def language_list(given: str, configured: tuple[str, ...]) -> tuple[str, ...]:
    """A --languages value ('bg,ru,en'): at least one code, each a configured language."""
    languages = tuple(code.strip() for code in given.split(",") if code.strip())
    unknown = [code for code in languages if code not in configured]
    if not languages or unknown:
        raise UsageError(f"--languages: {', '.join(unknown) or 'none given'}; configured: {', '.join(configured)}")
    return languages


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value
