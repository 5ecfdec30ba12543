"""Embeddings of the knowledge base's texts, kept on disk by model id and text.

A restart re-embeds nothing, and an admin's edit of one entry re-embeds only the texts that changed. The
vectors of the shipped knowledge base ship with the package (`migrant-bot kb index` writes them, a test checks
they are current), so a fresh clone does not spend minutes embedding before its first answer; whatever else is
embedded goes to a local cache file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from bot.core.encoder import BATCH_TIMEOUT, Encoder, prepared, text_key

SHIPPED_DIR = Path(__file__).resolve().parent.parent / "data" / "index"
BATCH = 32


class EncoderUnavailable(Exception):
    """The encoder failed while the index was built: the bot runs on the lexical path alone."""


def _file_name(model_id: str) -> str:
    return f"{model_id}.npz"


def _read(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path) as data:
        return dict(zip(data["keys"].tolist(), data["vectors"], strict=True))


def _write(path: Path, vectors: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(vectors)
    matrix = np.stack([vectors[k] for k in keys]).astype(np.float16) if keys else np.zeros((0, 0), np.float16)
    partial = path.with_suffix(".tmp.npz")
    np.savez_compressed(partial, keys=np.array(keys), vectors=matrix)
    partial.replace(path)


class EmbeddingStore:
    def __init__(self, encoder: Encoder, cache_dir: Path | None, shipped_dir: Path = SHIPPED_DIR) -> None:
        self.encoder = encoder
        name = _file_name(encoder.model_id)
        self._cache = cache_dir / name if cache_dir is not None else None
        self._known = _read(shipped_dir / name)
        if self._cache is not None:
            self._known.update(_read(self._cache))

    def missing(self, texts: list[str]) -> list[str]:
        return self._missing([prepared(t) for t in texts])

    def _missing(self, ready: list[str]) -> list[str]:
        return list(dict.fromkeys(t for t in ready if text_key(t) not in self._known))

    def matrix(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Unit rows for `texts`, embedding and caching those not seen before."""
        ready = [prepared(t) for t in texts]
        todo = self._missing(ready)
        if todo:
            self._embed(todo, progress)
        rows = [self._known[text_key(t)] for t in ready]
        matrix = np.asarray(rows, dtype=np.float32)
        unit: np.ndarray = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-6)
        return unit

    def _embed(self, texts: list[str], progress: bool) -> None:
        started = time.monotonic()
        show = progress and len(texts) > BATCH
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            vectors = self.encoder.encode(batch, timeout=BATCH_TIMEOUT)
            if vectors is None:
                raise EncoderUnavailable("the sentence encoder failed while the index was built")
            for text, vector in zip(batch, vectors, strict=True):
                self._known[text_key(text)] = vector
            if show:
                _progress(start + len(batch), len(texts), time.monotonic() - started)
        if show:
            print(file=sys.stderr)
        if self._cache is not None:
            _write(self._cache, self._known)

    def ship(self, texts: list[str], directory: Path = SHIPPED_DIR) -> Path:
        """Write exactly the vectors of `texts` as the package's shipped index."""
        self.matrix(texts, progress=True)
        keys = {text_key(prepared(t)) for t in texts}
        path = directory / _file_name(self.encoder.model_id)
        _write(path, {k: self._known[k] for k in keys})
        return path


def _progress(done: int, total: int, elapsed: float) -> None:
    width = 30
    filled = width * done // total
    left = elapsed / done * (total - done)
    sys.stderr.write(
        f"\rembedding the knowledge base [{'#' * filled}{'.' * (width - filled)}] "
        f"{done}/{total}, about {left:.0f} s left "
    )
    sys.stderr.flush()
