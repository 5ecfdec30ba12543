"""The ticket table: the desk's rules as data, and the refusal of every move they do not allow."""

from __future__ import annotations

import pytest

from bot.core.tickets import OPEN, QUEUE, TRANSITIONS, DeskError, Move, TicketStatus, moved

S, M = TicketStatus, Move


@pytest.mark.parametrize(
    ("status", "move", "after"),
    [
        (S.WAITING, M.CLAIM, S.CLAIMED),
        (S.CLAIMED, M.ANSWER, S.ANSWERED),
        (S.ANSWERED, M.USER_WRITES, S.CLAIMED),
        (S.ANSWERED, M.RELEASE, S.WAITING),
        (S.ANSWERED, M.CLOSE, S.CLOSED),
        (S.CLOSED, M.USER_WRITES, S.WAITING),
        (S.CLAIMED, M.WITHDRAW, S.CLOSED),
        (S.CLAIMED, M.WITHDRAW_URGENT, S.WITHDRAWN),
        (S.WITHDRAWN, M.CLOSE, S.CLOSED),
    ],
)
def test_a_ticket_moves_as_the_desk_allows(status: TicketStatus, move: Move, after: TicketStatus) -> None:
    assert moved(status.value, move) is after


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (S.CLOSED, M.ANSWER),
        (S.CLOSED, M.CLAIM),
        (S.CLOSED, M.RELEASE),
        (S.CLOSED, M.WITHDRAW),
        (S.WAITING, M.RELEASE),
        (S.WAITING, M.ANSWER),
        (S.CLAIMED, M.CLAIM),
        (S.WITHDRAWN, M.ANSWER),
        (S.WITHDRAWN, M.USER_WRITES),
    ],
)
def test_a_move_the_rules_do_not_allow_is_refused(status: TicketStatus, move: Move) -> None:
    with pytest.raises(DeskError, match=f"a ticket that is {status.value} cannot be {move.value}"):
        moved(status.value, move)


def test_a_status_the_code_does_not_know_is_refused() -> None:
    with pytest.raises(DeskError, match="a ticket that is lost cannot be claimed"):
        moved("lost", Move.CLAIM)


def test_every_status_is_reached_and_every_move_used() -> None:
    assert {after for after in TRANSITIONS.values()} | {S.WAITING} == set(S)
    assert {move for _, move in TRANSITIONS} == set(M)
    assert set(OPEN) < set(QUEUE) and S.CLOSED.value not in QUEUE
