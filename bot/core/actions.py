"""What the bot does with a message: the closed set every layer (classifier, understanding, engine, logs) shares."""

from __future__ import annotations

import enum


class Action(str, enum.Enum):
    """The value is what `ask --json` prints and the event log stores."""

    ANSWER = "answer"
    SUGGEST = "suggest"
    HANDOFF = "handoff"
    EMERGENCY = "emergency"
    SMALLTALK = "smalltalk"
