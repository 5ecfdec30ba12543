"""A ticket's life: its statuses, the moves between them, and the one table that says which move leads where.

The store applies a move with `moved()`; a move the table does not hold is refused with a DeskError, so no code
path can put a ticket where the desk's rules do not allow (a closed ticket answered, a waiting one released).
"""

from __future__ import annotations

import enum


class DeskError(Exception):
    """A desk action that cannot be done; the message says why, for the consultant."""


class TicketStatus(str, enum.Enum):
    WAITING = "waiting"  # in the queue, nobody holds it
    CLAIMED = "claimed"  # a consultant holds it
    ANSWERED = "answered"  # its consultant replied; the person may write again
    WITHDRAWN = "withdrawn"  # an urgent ticket the person cancelled: it stays until a consultant closes it
    CLOSED = "closed"


class Move(enum.Enum):
    CLAIM = "claimed"
    RELEASE = "released"
    ANSWER = "answered"
    CLOSE = "closed"
    USER_WRITES = "written to"
    WITHDRAW = "withdrawn"
    WITHDRAW_URGENT = "withdrawn while urgent"


_S, _M = TicketStatus, Move
TRANSITIONS: dict[tuple[TicketStatus, Move], TicketStatus] = {
    (_S.WAITING, _M.CLAIM): _S.CLAIMED,
    (_S.CLAIMED, _M.RELEASE): _S.WAITING,
    (_S.ANSWERED, _M.RELEASE): _S.WAITING,
    (_S.CLAIMED, _M.ANSWER): _S.ANSWERED,
    (_S.ANSWERED, _M.ANSWER): _S.ANSWERED,
    (_S.CLAIMED, _M.CLOSE): _S.CLOSED,
    (_S.ANSWERED, _M.CLOSE): _S.CLOSED,
    (_S.WITHDRAWN, _M.CLOSE): _S.CLOSED,
    (_S.WAITING, _M.USER_WRITES): _S.WAITING,
    (_S.CLAIMED, _M.USER_WRITES): _S.CLAIMED,
    (_S.ANSWERED, _M.USER_WRITES): _S.CLAIMED,  # back with the consultant who answered
    (_S.CLOSED, _M.USER_WRITES): _S.WAITING,  # reopened (the store allows it only soon after closing)
    **{(status, _M.WITHDRAW): _S.CLOSED for status in (_S.WAITING, _S.CLAIMED, _S.ANSWERED)},
    **{(status, _M.WITHDRAW_URGENT): _S.WITHDRAWN for status in (_S.WAITING, _S.CLAIMED, _S.ANSWERED)},
}
# as stored: what a person's new messages join, and what consultants see by default
OPEN: tuple[str, ...] = (TicketStatus.WAITING.value, TicketStatus.CLAIMED.value, TicketStatus.ANSWERED.value)
QUEUE: tuple[str, ...] = (*OPEN, TicketStatus.WITHDRAWN.value)


def moved(status: str, move: Move) -> TicketStatus:
    """Where `move` takes a ticket in `status`, or a DeskError when the desk's rules do not allow it."""
    try:
        return TRANSITIONS[TicketStatus(status), move]
    except (KeyError, ValueError):
        raise DeskError(f"a ticket that is {status} cannot be {move.value}") from None
