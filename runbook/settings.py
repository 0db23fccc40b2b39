"""The runbook's settings: defaults, Invoke config (``runbook:`` section) and overrides.

Settings come from built-in defaults, then the ``runbook`` section of the Invoke config
(``invoke.yaml``, ``invoke -f FILE``, ``Connection(config=...)``), then flags or keyword
overrides; steps read them from their host's session (``runbook.session.settings_for``). Bad
values raise ``SettingsError`` naming the setting, the value and what is accepted, before
anything runs on a host.
"""

from __future__ import annotations

import getpass
import os
import re
import socket
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runbook.configvalues import boolean
from runbook.durations import parse_duration
from runbook.errors import DurationError, SettingsError
from runbook.notify.settings import NotifySettings, build_notify_settings
from runbook.snapshot.settings import BeforeAfterSettings, parse_before_after


@dataclass(frozen=True)
class Window:
    """The provider's maintenance window, as aware datetimes; ``source`` says where it came from."""

    start: datetime
    end: datetime
    source: str = "given"


@dataclass(frozen=True)
class BackupSettings:
    """The backup to rerun when it was missed, and how to tell that it was.

    Evidence is ``evidence_file`` (the backup writes its finish time into it, as epoch
    seconds or ISO 8601) and/or ``check_command`` (exit 0 means the backup is fresh).
    """

    command: str
    evidence_file: str | None = None
    check_command: str | None = None
    max_age: float = 26 * 3600.0
    timeout: float = 3600.0
    output_lines: int = 20


@dataclass(frozen=True)
class Settings:
    """Everything a step may need to know beyond the host itself."""

    ntp_servers: tuple[str, ...] = ("pool.ntp.org",)
    ntp_port: int = 123
    ntp_timeout: float = 5.0
    max_offset: float = 0.5
    samples: int = 7
    sync_wait: float = 90.0
    command_timeout: float = 120.0
    dry_run: bool = False
    max_backward_step: float = 300.0
    allow_backward_step: bool = False
    backup: BackupSettings | None = None
    urls: tuple[str, ...] = ()
    rerun: tuple[str, ...] = ()
    expect_text: str | None = None
    http_timeout: float = 10.0
    record_dir: str = "records"
    timezone: str = "UTC"
    window: Window | None = None
    sudo_password: str | None = field(default=None, repr=False)
    operator: str = ""
    parallel: int = 10
    stop_on_failure: bool = True
    ssh_config: str | None = None
    user: str | None = None
    identity: str | None = None
    port: int | None = None
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    connect_timeout: float = 10.0
    step_timeout: float = 3600.0
    accept_new_host_keys: bool = False
    before_after: BeforeAfterSettings = field(default_factory=BeforeAfterSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    lang: str = "en"
    details: str = "brief"
    redact: tuple[str, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def with_overrides(base: Settings, overrides: dict[str, Any]) -> Settings:
    """``base`` with the settings named in ``overrides`` validated and replaced."""
    if not overrides:
        return base
    parsed = build_settings(overrides)
    names = {"ntp_servers" if k == "ntp_server" else k for k in overrides}
    return replace(base, **{name: getattr(parsed, name) for name in names})


def build_settings(raw: dict[str, Any]) -> Settings:
    """Validate ``raw`` (config-file shapes: lists, strings with units) into ``Settings``."""
    known = {f.name for f in fields(Settings)} | {"ntp_server"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise SettingsError(
            f"unknown runbook setting(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values: dict[str, Any] = {}
    servers = raw.get("ntp_servers", raw.get("ntp_server"))
    if servers is not None:
        values["ntp_servers"] = _strings("ntp_servers", servers)
        if not values["ntp_servers"]:
            raise SettingsError("ntp_servers is empty: give at least one NTP server (--ntp-server HOST)")
        for server in values["ntp_servers"]:
            _check_ntp_server(server)
    for name in ("ntp_timeout", "max_offset", "sync_wait", "command_timeout"):
        if name in raw:
            values[name] = _seconds(name, raw[name], positive=True)
    for name in ("http_timeout", "connect_timeout", "max_backward_step", "step_timeout"):
        if name in raw:
            values[name] = _seconds(name, raw[name], positive=True)
    for name in ("ntp_port", "samples", "parallel", "port"):
        if name in raw and raw[name] is not None:
            values[name] = _positive_int(name, raw[name])
    if values.get("port", 0) > 65535:
        raise SettingsError(f"port must be from 1 to 65535, not {raw['port']!r}")
    if raw.get("user") is not None:
        values["user"] = _login(str(raw["user"]))
    if raw.get("identity") is not None:
        values["identity"] = str(raw["identity"])
    for name in ("only", "skip"):
        if name in raw:
            values[name] = _strings(name, raw[name])
    for name in ("dry_run", "stop_on_failure", "accept_new_host_keys", "allow_backward_step"):
        if name in raw:
            values[name] = boolean(name, raw[name])
    for name in ("record_dir", "operator", "expect_text", "sudo_password", "ssh_config"):
        if name in raw and raw[name] is not None:
            values[name] = str(raw[name])
    if "urls" in raw:
        values["urls"] = _strings("urls", raw["urls"])
        for url in values["urls"]:
            if not url.startswith(("http://", "https://")):
                raise SettingsError(f"url {url!r} is not http:// or https://: give a full URL")
    if "rerun" in raw:
        values["rerun"] = _strings("rerun", raw["rerun"])
    values.update(_record_options(raw))
    if "timezone" in raw:
        values["timezone"] = zone_name(str(raw["timezone"]))
    if raw.get("backup") is not None:
        values["backup"] = _backup(raw["backup"])
    if raw.get("before_after") is not None:
        values["before_after"] = parse_before_after(raw["before_after"])
    if raw.get("notify") is not None:
        notify = raw["notify"]
        values["notify"] = notify if isinstance(notify, NotifySettings) else build_notify_settings(notify)
    if raw.get("window") is not None:
        window = raw["window"]
        values["window"] = window if isinstance(window, Window) else parse_window(str(window))
    values.setdefault("operator", default_operator())
    if "sudo_password" not in values:
        from_environment = sudo_password_from_environment()
        if from_environment:
            values["sudo_password"] = from_environment
    return replace(Settings(), **values)


SUDO_PASSWORD_VARIABLE = "RUNBOOK_SUDO_PASSWORD"  # noqa: S105 (the variable's name)
_from_environment: dict[str, str] = {}


def sudo_password_from_environment() -> str | None:
    """``$RUNBOOK_SUDO_PASSWORD``, taken out of the environment on the first read.

    No local child process (a ``ProxyCommand``, ``Match exec``, a hook) inherits it; later
    reads in this process get the value remembered (a new value set meanwhile wins).
    """
    value = os.environ.pop(SUDO_PASSWORD_VARIABLE, None)
    if value is not None:
        _from_environment[SUDO_PASSWORD_VARIABLE] = value
    return _from_environment.get(SUDO_PASSWORD_VARIABLE)


_NTP_SERVER = re.compile(r"[A-Za-z0-9._:-]{1,253}", re.ASCII)


def _check_ntp_server(name: str) -> None:
    """Refuse ``name`` unless it is a host name or IP address that cannot be read as an option."""
    if not _NTP_SERVER.fullmatch(name) or name.startswith("-"):
        raise SettingsError(
            f"NTP server {name!r} is not a host name or IP address: use letters, digits, "
            "'.', '-', '_' and ':' only, not starting with '-'"
        )


def parse_window(text: str) -> Window:
    """``START..END`` in ISO 8601 with an offset or a trailing zone name.

    ``2017-08-22T02:00+09:00..2017-08-22T05:00+09:00`` or ``2017-08-22 02:00..05:00 Asia/Tokyo``
    (an END without a date takes START's date; a zone name applies to both ends).
    """
    body = text.strip()
    zone: ZoneInfo | None = None
    head, _, last = body.rpartition(" ")
    if head and ".." in head and not _looks_like_time(last):
        zone = ZoneInfo(zone_name(last))
        body = head.strip()
    start_text, sep, end_text = body.partition("..")
    if not sep or not start_text or not end_text:
        raise SettingsError(
            f"window {text!r} is not START..END (e.g. 2017-08-22T02:00+09:00..2017-08-22T05:00+09:00 "
            "or '2017-08-22 02:00..05:00 Asia/Tokyo')"
        )
    start = _moment(start_text.strip(), zone, text)
    end_text = end_text.strip()
    if len(end_text) <= 5 or (end_text[0:2].isdigit() and end_text[2:3] == ":"):
        end_text = f"{start.date().isoformat()}T{end_text}"
    end = _moment(end_text, zone or start.tzinfo, text)
    if end <= start:
        raise SettingsError(f"window {text!r} ends before it starts")
    return Window(start=start, end=end)


def default_operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _moment(text: str, zone: Any, whole: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise SettingsError(f"window {whole!r}: {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        if zone is None:
            raise SettingsError(
                f"window {whole!r}: {text!r} has no time zone; add an offset (+09:00) or a zone name"
            )
        moment = moment.replace(tzinfo=zone)
    return moment


ZONE_ABBREVIATIONS = {
    "UTC": "UTC",
    "GMT": "UTC",
    "Z": "UTC",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "HKT": "Asia/Hong_Kong",
    "SGT": "Asia/Singapore",
    "CET": "Europe/Paris",
    "CEST": "Europe/Paris",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
}
"""Abbreviations ``--timezone`` and ``--window`` both take, as the IANA zone they stand for
(ambiguous ones such as CST or IST are left out: give the IANA name)."""


def zone_name(name: str) -> str:
    """The IANA zone ``name`` names (an abbreviation such as ``JST`` becomes ``Asia/Tokyo``).

    ``--timezone`` and ``--window`` both read zones through here, so they take and refuse the same.
    """
    text = name.strip()
    full = ZONE_ABBREVIATIONS.get(text.upper(), text)
    try:
        ZoneInfo(full)
    except (ZoneInfoNotFoundError, ValueError):
        known = ", ".join(sorted(ZONE_ABBREVIATIONS))
        raise SettingsError(
            f"unknown time zone {name!r}: use an IANA name such as Asia/Tokyo or UTC, or one of {known}"
        ) from None
    return full


def _looks_like_time(word: str) -> bool:
    return word[:1].isdigit()


LANGUAGES = ("en", "ja")
DETAILS = ("brief", "full")


def _record_options(raw: dict[str, Any]) -> dict[str, Any]:
    """``lang``, ``details`` and ``redact`` (extra secret patterns, each a regular expression)."""
    values: dict[str, Any] = {}
    for name, choices in (("lang", LANGUAGES), ("details", DETAILS)):
        if raw.get(name) is not None:
            value = str(raw[name]).strip().lower()
            if value not in choices:
                raise SettingsError(f"{name} {raw[name]!r} is not one of {', '.join(choices)}")
            values[name] = value
    if raw.get("redact") is not None:
        given = raw["redact"]
        patterns = (given,) if isinstance(given, str) else _strings("redact", given)
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SettingsError(
                    f"redact pattern {pattern!r} is not a regular expression ({exc}): fix it in redact:"
                ) from None
        values["redact"] = tuple(patterns)
    return values


def _strings(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, list | tuple):
        items = [str(part).strip() for part in value]
    else:
        raise SettingsError(f"{name} must be a list or a comma-separated string, not {value!r}")
    return tuple(item for item in items if item)


def _login(user: str) -> str:
    """A login name as OpenSSH and useradd take them (it reaches ssh_config matching and sudo)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}", user):
        raise SettingsError(f"user {user!r} is not a login name (letters, digits, '_', '.', '-'): fix --user")
    return user


def _seconds(name: str, value: Any, *, positive: bool = False) -> float:
    try:
        seconds = parse_duration(value)
    except DurationError as exc:
        raise SettingsError(f"{name}: {exc}") from None
    if positive and seconds <= 0:
        raise SettingsError(f"{name} must be more than zero, not {value!r}")
    return seconds


def _positive_int(name: str, value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None
    if number <= 0 or (str(value).strip() not in {str(number), f"+{number}"} and not isinstance(value, int)):
        raise SettingsError(f"{name} must be a whole number above zero, not {value!r}")
    return number


def _backup(value: Any) -> BackupSettings:
    if isinstance(value, BackupSettings):
        return value
    if isinstance(value, str):
        value = {"command": value}
    if not isinstance(value, dict) or not value.get("command"):
        raise SettingsError("backup needs at least a command (backup: {command: ..., evidence_file: ...})")
    allowed = {f.name for f in fields(BackupSettings)}
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SettingsError(
            f"unknown backup setting(s): {', '.join(unknown)}; known: {', '.join(sorted(allowed))}"
        )
    backup = BackupSettings(command=str(value["command"]))
    changes: dict[str, Any] = {}
    for name in ("evidence_file", "check_command"):
        if value.get(name):
            changes[name] = str(value[name])
    for name in ("max_age", "timeout"):
        if name in value:
            changes[name] = _seconds(f"backup.{name}", value[name], positive=True)
    if "output_lines" in value:
        changes["output_lines"] = _positive_int("backup.output_lines", value["output_lines"])
    return replace(backup, **changes)
