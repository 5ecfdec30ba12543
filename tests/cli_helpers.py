"""The command called in this process, as tests use it: main(argv) with its output and exit code captured."""

from __future__ import annotations

import io
import sys

import pytest

from bot.cli import main


def cli(
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str | None = None,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[int, str, str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse's own way out: --version, --help, argument errors
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
