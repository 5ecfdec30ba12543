"""The console's people and their traces: roles and password hashes (on the consultants' rows, so everyone
registered by `consultant add` is staff), server-side sessions, the audit log, canned replies, the signing key.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.tickets import DeskError
from bot.storage.database import Database
from bot.storage.models import AuditEntry, CannedReply, ConsoleKey, Consultant, StaffSession, aware, utcnow

SEEN_EVERY = dt.timedelta(seconds=30)  # a session's last use is written at most this often: reads stay reads


class Role(str, enum.Enum):
    CONSULTANT = "consultant"
    ADMIN = "admin"


@dataclass(frozen=True)
class StaffMember:
    name: str
    role: Role
    languages: tuple[str, ...]
    has_password: bool = False

    @property
    def admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class Login:
    """What a login is checked against."""

    consultant_id: int
    member: StaffMember
    password_hash: str | None


@dataclass(frozen=True)
class SessionInfo:
    member: StaffMember
    csrf: str


@dataclass(frozen=True)
class Audited:
    at: dt.datetime
    actor: str
    action: str
    target: str
    detail: str


@dataclass(frozen=True)
class Canned:
    id: int
    language: str
    title: str
    text: str


def _member(row: Consultant) -> StaffMember:
    return StaffMember(
        row.name, Role(row.role), tuple(filter(None, row.languages.split(","))), row.password_hash is not None
    )


class SqlStaff:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- people ---------------------------------------------------------------------------------------------

    async def set_staff(self, name: str, role: Role, password_hash: str, languages: tuple[str, ...]) -> bool:
        """Give `name` a role and a password, registering them as a consultant if they are not yet; True when
        they were new. Someone who can already log in is refused: `staff password` changes a password."""
        async with self._db.sessions.begin() as session:
            row = await session.scalar(select(Consultant).where(Consultant.name == name))
            if row is not None and row.password_hash is not None:
                raise DeskError(f"'{name}' can log in already (use `migrant-bot staff password {name}`)")
            if row is None:
                session.add(
                    Consultant(name=name, languages=",".join(languages), role=role.value, password_hash=password_hash)
                )
                return True
            row.role, row.password_hash = role.value, password_hash
            if languages:
                row.languages = ",".join(languages)
            return False

    async def set_password(self, name: str, password_hash: str) -> None:
        """A new password; every session of the person ends."""
        async with self._db.sessions.begin() as session:
            row = await session.scalar(select(Consultant).where(Consultant.name == name))
            if row is None:
                raise DeskError(f"no staff member named '{name}' (see `migrant-bot staff list`)")
            row.password_hash = password_hash
            await session.execute(
                update(StaffSession)
                .where(StaffSession.consultant_id == row.id, StaffSession.ended_at.is_(None))
                .values(ended_at=utcnow())
            )

    async def members(self) -> list[StaffMember]:
        async with self._db.sessions() as session:
            return [_member(row) for row in await session.scalars(select(Consultant).order_by(Consultant.name))]

    async def login(self, name: str) -> Login | None:
        async with self._db.sessions() as session:
            row = await session.scalar(select(Consultant).where(Consultant.name == name))
            return Login(row.id, _member(row), row.password_hash) if row else None

    async def rehash(self, consultant_id: int, password_hash: str) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(Consultant).where(Consultant.id == consultant_id).values(password_hash=password_hash)
            )

    # -- sessions -------------------------------------------------------------------------------------------

    async def start_session(self, consultant_id: int, token_hash: str) -> str:
        """Record a new session; returns its CSRF token."""
        csrf = secrets.token_urlsafe(24)
        async with self._db.sessions.begin() as session:
            session.add(StaffSession(token_hash=token_hash, consultant_id=consultant_id, csrf=csrf))
        return csrf

    async def session(self, token_hash: str, idle: dt.timedelta) -> SessionInfo | None:
        """The live session with this token, or None (unknown, ended, idle too long, or its person removed)."""
        now = utcnow()
        async with self._db.sessions() as session:
            found = (
                await session.execute(
                    select(StaffSession, Consultant)
                    .join(Consultant, Consultant.id == StaffSession.consultant_id)
                    .where(StaffSession.token_hash == token_hash, StaffSession.ended_at.is_(None))
                )
            ).first()
        if found is None:
            return None
        row, consultant = found
        if now - aware(row.seen_at) > idle or consultant.password_hash is None:
            return None
        if now - aware(row.seen_at) > SEEN_EVERY:
            async with self._db.sessions.begin() as session:
                await session.execute(update(StaffSession).where(StaffSession.id == row.id).values(seen_at=now))
        return SessionInfo(_member(consultant), row.csrf)

    async def end_session(self, token_hash: str) -> None:
        async with self._db.sessions.begin() as session:
            await session.execute(
                update(StaffSession).where(StaffSession.token_hash == token_hash).values(ended_at=utcnow())
            )

    # -- the audit log --------------------------------------------------------------------------------------

    async def audit(self, actor: str, action: str, target: str, detail: str = "") -> None:
        async with self._db.sessions.begin() as session:
            session.add(AuditEntry(actor=actor, action=action, target=target[:96], detail=detail[:300]))

    async def audit_log(self, limit: int = 200) -> list[Audited]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
            return [Audited(aware(r.at), r.actor, r.action, r.target, r.detail) for r in rows]

    # -- canned replies -------------------------------------------------------------------------------------

    async def canned(self, language: str | None = None) -> list[Canned]:
        query = select(CannedReply).order_by(CannedReply.language, CannedReply.title)
        if language is not None:
            query = query.where(CannedReply.language == language)
        async with self._db.sessions() as session:
            return [Canned(r.id, r.language, r.title, r.text) for r in await session.scalars(query)]

    async def add_canned(self, language: str, title: str, text: str) -> int:
        async with self._db.sessions.begin() as session:
            row = CannedReply(language=language, title=title, text=text)
            session.add(row)
            await session.flush()
            return row.id

    async def remove_canned(self, canned_id: int) -> bool:
        async with self._db.sessions.begin() as session:
            result = await session.execute(delete(CannedReply).where(CannedReply.id == canned_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's result has rowcount

    # -- the signing key ------------------------------------------------------------------------------------

    async def key(self, name: str = "session") -> bytes:
        """The console's signing key, made once per database so that every process signs alike (of two
        processes making it at once, one insert fails and that process reads the other's)."""
        try:
            async with self._db.sessions.begin() as session:
                row = await session.get(ConsoleKey, name)
                if row is None:
                    row = ConsoleKey(name=name, value=secrets.token_hex(32))
                    session.add(row)
                value = row.value
        except IntegrityError:
            async with self._db.sessions() as session:
                value = (await session.get_one(ConsoleKey, name)).value
        return bytes.fromhex(value)
