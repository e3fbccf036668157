"""Settings of a hub and of a node: one frozen object each, read from one file.

A hub keeps ``hub.toml`` in its directory, a node ``node.toml`` in its own.
``policenet hub init`` and ``policenet node init`` write them; operators edit
them. Every setting is listed in the README's configuration table (a test
keeps the table and these classes in step). Relative paths and SQLite URLs
are resolved against the directory holding the file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from policenet.domain.cases import DeadlinePolicy
from policenet.domain.registers import RegisterName
from policenet.errors import InvalidField, InvalidInput

HUB_FILE = "hub.toml"
NODE_FILE = "node.toml"


@dataclass(frozen=True, slots=True)
class HubSettings:
    """Settings of the hub (``hub.toml``)."""

    directory: Path
    db_url: str
    """Database URL: ``sqlite:///hub.db`` (relative to the directory) or ``postgresql://...``."""
    host: str = "127.0.0.1"
    """Address the hub listens on."""
    port: int = 8443
    """TCP port of the hub's TLS endpoint."""
    public_url: str = "https://127.0.0.1:8443"
    """The address nodes use to reach the hub; written into every bundle and CRL pointer."""
    hostnames: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    """Names and addresses in the hub's server certificate."""
    max_request_bytes: int = 8_388_608
    """Largest request body the hub accepts, in bytes; larger ones get 413 (bulk loads aside)."""
    max_load_bytes: int = 8_589_934_592
    """Largest bulk load (``/v1/documents/load``), in bytes; it is spooled to disk as it arrives."""
    crl_refresh_seconds: float = 5.0
    """How often the TLS layer looks for a new CRL (revocation takes effect within this)."""
    member_certificate_days: int = 365
    """Validity of member certificates issued by ``member add`` and ``member renew``."""
    server_certificate_days: int = 90
    """Validity of the hub's own TLS certificate (Mozilla "modern": at most 90 days);
    ``policenet hub renew-certificate`` issues the next one."""
    tree_head_interval_seconds: float = 10.0
    """How often the hub signs a new audit tree head when the log has grown."""
    event_heartbeat_seconds: float = 15.0
    """Idle time after which the event stream sends a heartbeat line."""
    case_deadline_hours: float = 48.0
    """How long the owner's NCB has to confirm or reject a hit."""
    urgent_case_deadline_minutes: float = 60.0
    """The same for an urgent hit (for instance on a wanted person)."""
    case_deadlines_by_register: tuple[str, ...] = ()
    """Per-register deadlines overriding the two above, as ``"register=hours/urgent_minutes"``,
    e.g. ``["persons=24/30"]``."""
    expiry_reminder_days: int = 183
    """Owners are reminded this many days before a record expires (about six months)."""
    expiry_reminder_days_by_register: tuple[str, ...] = ()
    """Per-register reminder lead times overriding the above, as ``"register=days"``."""
    review_reminder_days: int = 30
    """Owners are reminded this many days before a record's review is due."""
    expired_record_grace_days: int = 30
    """An expired record (which no longer matches) is removed this many days after expiry."""
    retention_interval_seconds: float = 3600.0
    """How often the hub sends due reminders and removes records past their grace period."""

    def deadline_policy(self) -> DeadlinePolicy:
        """The case deadlines these settings give (InvalidField for a malformed entry)."""
        per_register: dict[RegisterName, tuple[timedelta, timedelta]] = {}
        for entry in self.case_deadlines_by_register:
            try:
                name, spans = entry.split("=", 1)
                hours, minutes = spans.split("/", 1)
                per_register[RegisterName(name.strip())] = (
                    timedelta(hours=float(hours)),
                    timedelta(minutes=float(minutes)),
                )
            except ValueError:
                raise InvalidField(
                    "case_deadlines_by_register",
                    f"{entry!r} is not register=hours/urgent_minutes, e.g. persons=24/30",
                ) from None
        lengths: list[tuple[str, timedelta]] = [
            ("case_deadline_hours", timedelta(hours=self.case_deadline_hours)),
            ("urgent_case_deadline_minutes", timedelta(minutes=self.urgent_case_deadline_minutes)),
        ]
        lengths += [
            ("case_deadlines_by_register", t) for pair in per_register.values() for t in pair
        ]
        for setting, length in lengths:
            if length <= timedelta(0):
                raise InvalidField(setting, "a deadline must be longer than zero")
        return DeadlinePolicy(
            routine=timedelta(hours=self.case_deadline_hours),
            urgent=timedelta(minutes=self.urgent_case_deadline_minutes),
            per_register=per_register,
        )

    def expiry_notice(self) -> dict[RegisterName, timedelta]:
        """How long before expiry owners are reminded, per register."""
        notice = {r: timedelta(days=self.expiry_reminder_days) for r in RegisterName}
        for entry in self.expiry_reminder_days_by_register:
            try:
                name, days = entry.split("=", 1)
                notice[RegisterName(name.strip())] = timedelta(days=float(days))
            except ValueError:
                raise InvalidField(
                    "expiry_reminder_days_by_register",
                    f"{entry!r} is not register=days, e.g. documents=90",
                ) from None
        return notice

    @property
    def ca_dir(self) -> Path:
        return self.directory / "ca"

    @property
    def tls_dir(self) -> Path:
        return self.directory / "tls"

    @property
    def audit_key_path(self) -> Path:
        return self.directory / "audit" / "signing.key"


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """Settings of a member node (``node.toml``)."""

    directory: Path
    member: str
    """The member code this node speaks for (from its bundle)."""
    hub_url: str
    """The hub's address (from the bundle)."""
    db_url: str
    """The node's own database: ``sqlite:///node.db`` or ``postgresql://...``."""
    host: str = "127.0.0.1"
    """Address of the node's HTTPS port for officers and national systems."""
    port: int = 9443
    """The node's HTTPS port."""
    max_failed_logins: int = 5
    """Failed logins in a row that lock an officer's account."""
    lockout_minutes: int = 10
    """How long a locked account stays locked."""
    idle_timeout_minutes: int = 30
    """An officer session unused this long ends."""
    max_request_bytes: int = 8_388_608
    """Largest request body the node accepts, in bytes (bulk loads aside)."""
    max_load_bytes: int = 8_589_934_592
    """Largest bulk load a national system may send to ``/api/v1/documents/load``, in bytes."""
    hub_timeout_seconds: float = 10.0
    """How long the node waits for the hub before answering that it is unreachable."""
    offline_copy: bool = True
    """Keep a signed, read-only copy of the travel documents this member may see, and
    answer checks from it while the hub is unreachable."""
    copy_refresh_seconds: float = 60.0
    """How often the offline copy is brought up to date from the hub."""

    @property
    def bundle_dir(self) -> Path:
        return self.directory / "bundle"

    @property
    def tls_dir(self) -> Path:
        return self.directory / "tls"


S = TypeVar("S", HubSettings, NodeSettings)


def _resolve_url(url: str, directory: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/"):
        return prefix + str((directory / url[len(prefix) :]).resolve())
    return url


def _coerce(cls: type[S], directory: Path, raw: Mapping[str, Any], source: str) -> S:
    known = {f.name: f for f in fields(cls) if f.name != "directory"}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise InvalidField(unknown[0], f"is not a setting of {source}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        current = known[name].type
        if current in ("int", int) and not (isinstance(value, int) and not isinstance(value, bool)):
            raise InvalidField(name, f"must be a whole number in {source}, not {value!r}")
        if current in ("float", float) and not isinstance(value, int | float):
            raise InvalidField(name, f"must be a number in {source}, not {value!r}")
        if current in ("bool", bool) and not isinstance(value, bool):
            raise InvalidField(name, f"must be true or false in {source}, not {value!r}")
        if current in ("str", str) and not isinstance(value, str):
            raise InvalidField(name, f"must be a string in {source}, not {value!r}")
        if str(current).startswith("tuple"):
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise InvalidField(name, f"must be a list of strings in {source}")
            value = tuple(value)
        values[name] = value
    if "db_url" in values:
        values["db_url"] = _resolve_url(values["db_url"], directory)
    try:
        return cls(directory=directory, **values)
    except TypeError as exc:
        raise InvalidInput(f"{source} is missing a required setting: {exc}") from None


def load(cls: type[S], directory: Path) -> S:
    """Read the settings file of ``directory`` (``hub.toml`` or ``node.toml``).

    Raises InvalidInput naming the file when it is missing or is not valid TOML,
    and InvalidField naming a setting that is unknown or of the wrong type.
    """
    name = HUB_FILE if cls is HubSettings else NODE_FILE
    path = directory / name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{path} not found: is {directory} a policenet directory?") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid TOML: {exc}") from None
    return _coerce(cls, directory.resolve(), raw, str(path))


def dump(settings: HubSettings | NodeSettings) -> str:
    """The settings as TOML text (every setting, so the file documents itself)."""
    lines = [f"# policenet {'hub' if isinstance(settings, HubSettings) else 'node'} settings"]
    for f in fields(settings):
        if f.name == "directory":
            continue
        value = getattr(settings, f.name)
        lines.append(f"{f.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def save(settings: HubSettings | NodeSettings) -> Path:
    name = HUB_FILE if isinstance(settings, HubSettings) else NODE_FILE
    path = settings.directory / name
    path.write_text(dump(settings), encoding="utf-8")
    return path
