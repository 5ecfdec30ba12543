"""False alarms on messages that mean nothing: seeded Latin-letter non-words ("vesoj zubod") through the whole
understanding step, as a message would go. None is an emergency; the table says how many got the emergency reply,
and by which crisis category.

    python -m benchmarks.nonwords [--count 200] [--seed 11]

Not a labelled set anyone tuned on: the words are generated, so every run with a seed is a first run for it.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

from bot.app import build_engine
from bot.config import load_config
from bot.core.actions import Action
from bot.tables import format_table, percent

ROOT = Path(__file__).resolve().parent.parent
CONSONANTS, VOWELS = "bcdfghjklmnprstvwxz", "aeiou"


def non_words(count: int, seed: int) -> list[str]:
    """`count` messages of one to four pronounceable non-words."""
    rng = random.Random(seed)

    def word() -> str:
        syllables = "".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(rng.randint(1, 3)))
        return syllables + rng.choice(CONSONANTS)

    return [" ".join(word() for _ in range(rng.randint(1, 4))) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    engine = build_engine(load_config(ROOT / "bot.toml", env={}))
    actions: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for text in non_words(args.count, args.seed):
        understanding = engine.understand(text)
        actions[understanding.action.value] += 1
        if understanding.action is Action.EMERGENCY:
            categories[understanding.category or "?"] += 1
    rows = [[action, n, percent(n, args.count)] for action, n in actions.most_common()]
    rows += [[f"  emergency: {category}", n, percent(n, args.count)] for category, n in categories.most_common()]
    print(format_table(["non-words answered as", "messages", "share"], rows))


if __name__ == "__main__":
    main()
