"""Button payloads: every kind packs and reads back, the wire format of buttons already sent stays readable, and
anything else reads as None (the engine's polite 'stale button')."""

from __future__ import annotations

import pytest

from bot.core.knowledge import Status
from bot.core.payloads import (
    MAX_BYTES,
    AskConsultant,
    ChooseLanguage,
    Feedback,
    HandoffReason,
    NoneOfThese,
    Payload,
    PayloadTooLong,
    RememberStatus,
    SetStatus,
    ShowEntry,
    ShowTopic,
    StatusAnswer,
    TopicMenu,
    unpack,
)

LONGEST_ENTRY = "x" * 48  # the longest id `kb validate` admits

# what buttons in people's chats carry today: a new version must still read every one of them
SENT = {
    "e:health-gp-change": ShowEntry("health-gp-change"),
    "t:work": ShowTopic("work"),
    "l:uk": ChooseLanguage("uk"),
    "m": TopicMenu(),
    "h": AskConsultant(),
    "h:l": AskConsultant(HandoffReason.LOW_CONFIDENCE),
    "h:n": AskConsultant(HandoffReason.NOT_HELPFUL),
    "n": NoneOfThese(),
    "f:+:12": Feedback(True, ticket=12),
    "f:-:12": Feedback(False, ticket=12),
    "f:+:e:health-gp-change": Feedback(True, entry="health-gp-change"),
    "f:-:e:health-gp-change": Feedback(False, entry="health-gp-change"),
    "s:tp:health-gp-change": StatusAnswer(Status.TEMPORARY_PROTECTION, "health-gp-change"),
    "s:-:health-gp-change": StatusAnswer(None, "health-gp-change"),
    "sr:as": RememberStatus(Status.ASYLUM_SEEKER),
    "st:eu": SetStatus(Status.EU_CITIZEN),
    "st:-": SetStatus(None),
}


@pytest.mark.parametrize(("packed", "payload"), SENT.items())
def test_every_kind_packs_to_the_format_buttons_carry_and_reads_back(packed: str, payload: Payload) -> None:
    assert payload.pack() == packed
    assert unpack(packed) == payload


@pytest.mark.parametrize("status", [*Status, None])
def test_the_longest_payloads_fit_telegrams_limit(status: Status | None) -> None:
    for payload in (StatusAnswer(status, LONGEST_ENTRY), Feedback(False, entry=LONGEST_ENTRY)):
        assert len(payload.pack().encode()) <= MAX_BYTES
        assert unpack(payload.pack()) == payload


@pytest.mark.parametrize(
    "packed",
    [
        "",
        "zzz",
        ":",
        "e",
        "e:",
        "e:a:b",
        "t:",
        "l:",
        "m:x",
        "n:x",
        "h:x",
        "h:",
        "f:+",
        "f:*:12",
        "f:+:12:3",
        "f:+:-1",
        "f:+:١٢",
        "f:+:e:",
        "f:+:x:entry",
        "s:zz:entry",
        "s:tp:",
        "s:tp",
        "sr:zz",
        "sr:-",
        "st:",
        "st:xx",
        "e:" + "x" * MAX_BYTES,
    ],
)
def test_a_payload_this_version_does_not_know_reads_as_none(packed: str) -> None:
    assert unpack(packed) is None


def test_a_payload_over_the_limit_is_refused_when_packed() -> None:
    with pytest.raises(PayloadTooLong, match="longer than 64 bytes"):
        ShowEntry("x" * 63).pack()


def test_feedback_is_on_a_ticket_or_an_entry_never_both_or_neither() -> None:
    with pytest.raises(ValueError, match="ticket or on an entry"):
        Feedback(True)
    with pytest.raises(ValueError, match="ticket or on an entry"):
        Feedback(True, ticket=1, entry="e")
