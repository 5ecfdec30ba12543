"""A stand-in for bot.core.encoder_worker that misbehaves on demand: a text containing "crash" aborts the process,
"hang" sleeps, anything else gets a unit vector. Every start is counted in the file named by argv[1]."""

from __future__ import annotations

import json
import os
import struct
import sys
import time

DIM = 4


def main() -> None:
    with open(sys.argv[1], "a", encoding="utf-8") as starts:
        starts.write("start\n")
    output = sys.stdout.buffer
    for line in sys.stdin.buffer:
        texts = json.loads(line)
        if any("crash" in t for t in texts):
            os.abort()
        if any("hang" in t for t in texts):
            time.sleep(60)
        output.write(struct.pack("<II", len(texts), DIM))
        output.write(struct.pack(f"<{DIM * len(texts)}f", *([1.0, 0.0, 0.0, 0.0] * len(texts))))
        output.flush()


if __name__ == "__main__":
    main()
