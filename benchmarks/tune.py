"""Grid search of the [classifier] thresholds on a labelled set (a dev set: what is tuned here is not a hold-out).

    python -m benchmarks.tune tests/data/dev.jsonl [--config bot.toml]

The encoder's vectors are computed once and reused, so each setting costs only the cheap steps. Two stages: the
crisis thresholds first, on the semantic layer alone (with the lexicon off, the dev set's emergencies stand
for wording nobody foresaw), then the FAQ's with the best crisis ones. Prints the best
settings of each stage with their figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.app import build_engine
from bot.config import ClassifierSection, load_config
from bot.core.encoder import Encoder
from bot.core.engine import Engine
from bot.core.safety import SafetyCheck
from bot.evaluation import Case, Tally, evaluate, load_cases
from bot.tables import format_table, percent

CRISIS_GRID = {
    "crisis_similarity": [0.90, 0.92, 0.94],
    "crisis_margin": [0.0, 0.01, 0.02],
    "crisis_probability": [0.7, 0.8, 0.9],
}
FAQ_GRID = {
    "lexical_weight": [0.3, 0.4, 0.5],
    "similarity_weight": [0.1, 0.2, 0.3],
    "answer_threshold": [0.6, 0.7],
    "answer_margin": [0.15, 0.3],
    "suggest_threshold": [0.1],
    "out_of_scope": [0.5],
}
Row = tuple[tuple[float, ...], tuple[float, ...], Tally]


class MemoEncoder:
    """The engine's encoder with every text's vector kept: a grid costs one encoding per message."""

    def __init__(self, encoder: Encoder) -> None:
        self.inner = encoder
        self.model_id = encoder.model_id
        self.memo: dict[tuple[str, ...], np.ndarray | None] = {}

    def encode(self, texts: list[str], timeout: float = 3.0) -> np.ndarray | None:
        key = tuple(texts)
        if key not in self.memo:
            self.memo[key] = self.inner.encode(texts, timeout)
        return self.memo[key]


def by_recall(total: Tally) -> tuple[float, ...]:
    """Emergencies caught, less half the false alarms: a miss can cost a life, a false alarm one message."""
    return (total.emergency_hits - total.false_alarms / 2,)


def by_accuracy(total: Tally) -> tuple[float, ...]:
    """Wrong answers within 1% first, then topic accuracy (out-of-scope rejections count a quarter) less false
    alarms."""
    others = total.topical + total.out_of_scope + total.smalltalk + total.foreign
    return (
        total.wrong_answers <= 0.01 * total.topical,
        total.topic_right / max(total.topical, 1)
        + total.rejected / max(total.out_of_scope, 1) / 4
        - total.false_alarms / max(others, 1),
    )


def search(
    engine: Engine,
    cases: list[Case],
    base: ClassifierSection,
    grid: dict[str, list[float]],
    key: Callable[[Tally], tuple[float, ...]],
) -> list[Row]:
    """Every combination of `grid` over `base`, best first by `key`."""
    rows: list[Row] = []
    names = list(grid)
    for values in itertools.product(*grid.values()):
        settings = dataclasses.replace(base, **dict(zip(names, values, strict=True)))
        if settings.problems():
            continue
        engine.understander.settings = settings
        total = evaluate(engine, cases).total
        rows.append((key(total), values, total))
    rows.sort(key=lambda r: r[0], reverse=True)
    return rows


def render(rows: list[Row], names: list[str]) -> str:
    table = []
    for _, values, total in rows[:12]:
        others = total.topical + total.out_of_scope + total.smalltalk + total.foreign
        table.append(
            [
                *values,
                percent(total.topic_right, total.topical),
                percent(total.wrong_answers, total.topical),
                percent(total.emergency_hits, total.emergencies),
                percent(total.false_alarms, others),
                percent(total.rejected, total.out_of_scope),
                percent(total.smalltalk_hits, total.smalltalk),
            ]
        )
    return format_table([*names, "topic", "wrong", "recall", "false alarms", "oos", "smalltalk"], table) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--config", default=None)
    parser.add_argument("--crisis", action="store_true", help="also search the crisis thresholds (slow)")
    args = parser.parse_args()
    config = load_config(args.config)
    engine = build_engine(config)
    engine.understander.encoder = MemoEncoder(engine.understander.encoder)  # type: ignore[assignment]  # may be None: then it fails at once
    cases = load_cases(args.file, tuple(engine.knowledge.topics))
    # the semantic layer alone (the lexicon switched off): what it catches of what no phrase foresaw
    lexicon = engine.understander.safety
    engine.understander.safety = SafetyCheck(())
    crisis = search(engine, cases, config.classifier, CRISIS_GRID if args.crisis else {}, by_recall)
    engine.understander.safety = lexicon
    print("the semantic crisis layer alone\n" + render(crisis, list(CRISIS_GRID if args.crisis else {})), flush=True)
    best = dict(zip(CRISIS_GRID, crisis[0][1], strict=True)) if args.crisis else {}
    faq = search(engine, cases, dataclasses.replace(config.classifier, **best), FAQ_GRID, by_accuracy)
    print(render(faq, list(FAQ_GRID)))


if __name__ == "__main__":
    main()
