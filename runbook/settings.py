"""The runbook's settings: groups of frozen fields, and how config keys and overrides reach them.

``Settings`` holds the groups ``ssh``, ``ntp``, ``fleet``, ``site``, ``records``, the nested
sections ``backup``, ``before_after``, ``notify``, and the run's ``window``, ``dry_run``,
``rerun``. Each field's annotation says what it accepts (``runbook.configvalues``); one builder
(``runbook.configgroups.build_group``) reads them. Config files and flags name settings by the
flat keys of ``FLAT_KEYS`` (``max_offset`` is ``ntp.max_offset``); a file may also write a group
as a section (``ntp: {max_offset: 1s}``).

Settings come from built-in defaults, then the ``runbook`` section of the Invoke config
(``invoke.yaml``, ``invoke -f FILE``, ``Connection(config=...)``), then flags or keyword
overrides; steps read them from their host's session (``runbook.session.settings_for``). Bad
values raise ``SettingsError`` naming the setting, the value and what is accepted, before
anything runs on a host.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

from runbook.configgroups import build_group
from runbook.configvalues import (
    Choice,
    Items,
    Login,
    NotEmpty,
    NtpServer,
    Parsed,
    Pattern,
    Port,
    PositiveInt,
    PositiveSeconds,
    Scheme,
    ZoneName,
    zone_name,
)
from runbook.errors import SettingsError
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

    SHORTHAND: ClassVar[str] = "command"  # ``backup: CMD`` is ``backup: {command: CMD}``

    command: str
    evidence_file: str | None = None
    check_command: str | None = None
    max_age: PositiveSeconds = 26 * 3600.0
    timeout: PositiveSeconds = 3600.0
    output_lines: PositiveInt = 20


@dataclass(frozen=True)
class SshSettings:
    """How to reach and log in to the hosts (OpenSSH config, user, key, port) and sudo there."""

    config: str | None = None
    user: Login | None = None
    identity: str | None = None
    port: Port | None = None
    connect_timeout: PositiveSeconds = 10.0
    accept_new_host_keys: bool = False
    sudo_password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class NtpSettings:
    """The reference servers, how they are asked, and the clock policy measured against them."""

    servers: Annotated[
        tuple[NtpServer, ...], NotEmpty("give at least one NTP server (--ntp-server HOST)")
    ] = ("pool.ntp.org",)
    port: Port = 123
    timeout: PositiveSeconds = 5.0
    max_offset: PositiveSeconds = 0.5
    samples: PositiveInt = 7
    sync_wait: PositiveSeconds = 90.0
    max_backward_step: PositiveSeconds = 300.0
    allow_backward_step: bool = False


@dataclass(frozen=True)
class FleetSettings:
    """How a run goes over its hosts and steps: parallelism, failure policy, step choice, time limits."""

    parallel: PositiveInt = 10
    stop_on_failure: bool = True
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    step_timeout: PositiveSeconds = 3600.0
    command_timeout: PositiveSeconds = 120.0


@dataclass(frozen=True)
class SiteSettings:
    """The web pages ``check_site`` fetches, the text they must hold, and how long it waits."""

    urls: Annotated[tuple[str, ...], Scheme(("http://", "https://"))] = ()
    expect_text: str | None = None
    timeout: PositiveSeconds = 10.0


@dataclass(frozen=True)
class RecordSettings:
    """Where the maintenance records go and how they read: folder, zone, language, detail, secrets."""

    dir: str = "records"
    timezone: ZoneName = "UTC"
    lang: Annotated[str, Choice("en", "ja")] = "en"
    details: Annotated[str, Choice("brief", "full")] = "brief"
    redact: Annotated[tuple[Pattern, ...], Items(split_commas=False)] = ()
    operator: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _window(value: Any) -> Window:
    return parse_window(str(value))


@dataclass(frozen=True)
class Settings:
    """Everything a step may need to know beyond the host itself, in groups.

    ``settings.ssh.user``, ``settings.ntp.max_offset``, ``settings.fleet.parallel``,
    ``settings.site.urls``, ``settings.records.lang``; ``backup``, ``before_after`` and
    ``notify`` are the config file's nested sections.
    """

    ssh: SshSettings = SshSettings()
    ntp: NtpSettings = NtpSettings()
    fleet: FleetSettings = FleetSettings()
    site: SiteSettings = SiteSettings()
    records: RecordSettings = RecordSettings()
    backup: BackupSettings | None = None
    before_after: Annotated[BeforeAfterSettings, Parsed(parse_before_after, BeforeAfterSettings)] = field(
        default_factory=BeforeAfterSettings
    )
    notify: Annotated[NotifySettings, Parsed(build_notify_settings, NotifySettings)] = field(
        default_factory=NotifySettings
    )
    window: Annotated[Window | None, Parsed(_window, Window)] = None
    dry_run: bool = False
    rerun: tuple[str, ...] = ()


FLAT_KEYS: dict[str, tuple[str, ...]] = {
    "ssh_config": ("ssh", "config"),
    "user": ("ssh", "user"),
    "identity": ("ssh", "identity"),
    "port": ("ssh", "port"),
    "connect_timeout": ("ssh", "connect_timeout"),
    "accept_new_host_keys": ("ssh", "accept_new_host_keys"),
    "sudo_password": ("ssh", "sudo_password"),
    "ntp_servers": ("ntp", "servers"),
    "ntp_server": ("ntp", "servers"),
    "ntp_port": ("ntp", "port"),
    "ntp_timeout": ("ntp", "timeout"),
    "max_offset": ("ntp", "max_offset"),
    "samples": ("ntp", "samples"),
    "sync_wait": ("ntp", "sync_wait"),
    "max_backward_step": ("ntp", "max_backward_step"),
    "allow_backward_step": ("ntp", "allow_backward_step"),
    "parallel": ("fleet", "parallel"),
    "stop_on_failure": ("fleet", "stop_on_failure"),
    "only": ("fleet", "only"),
    "skip": ("fleet", "skip"),
    "step_timeout": ("fleet", "step_timeout"),
    "command_timeout": ("fleet", "command_timeout"),
    "urls": ("site", "urls"),
    "expect_text": ("site", "expect_text"),
    "http_timeout": ("site", "timeout"),
    "record_dir": ("records", "dir"),
    "timezone": ("records", "timezone"),
    "lang": ("records", "lang"),
    "details": ("records", "details"),
    "redact": ("records", "redact"),
    "operator": ("records", "operator"),
    "backup": ("backup",),
    "before_after": ("before_after",),
    "notify": ("notify",),
    "window": ("window",),
    "dry_run": ("dry_run",),
    "rerun": ("rerun",),
}
"""Each key of the config file's ``runbook:`` section (and of the flags) and the setting it sets.

The first key for a setting is its name in messages and ``--explain``; ``ntp_server`` is the
singular spelling of ``ntp_servers``."""

SETTING_NAMES = {path: key for key, path in reversed(FLAT_KEYS.items())}
"""Each setting's name in messages: the first flat key for it."""
GROUPS = tuple(item.name for item in fields(Settings) if (item.name,) not in SETTING_NAMES)
"""The groups a config file may also write as sections (``ntp: {max_offset: 1}``)."""


def flat(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with group sections (``ntp: {max_offset: 1}``) as the flat keys they stand for.

    Flat keys pass as they are (``ntp_server`` becomes ``ntp_servers``); a key that is neither
    raises ``SettingsError`` listing the known ones.
    """
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in GROUPS:
            if not isinstance(value, dict):
                raise SettingsError(f"{key} must be a mapping of {key} settings, not {value!r}")
            for inner, item in value.items():
                name = SETTING_NAMES.get((key, inner))
                if name is None:
                    known = sorted(path[1] for path in SETTING_NAMES if path[0] == key and len(path) == 2)
                    raise SettingsError(f"unknown {key} setting(s): {inner}; known: {', '.join(known)}")
                values[name] = item
        elif key in FLAT_KEYS:
            values[SETTING_NAMES[FLAT_KEYS[key]]] = value
        else:
            known = sorted({*FLAT_KEYS, *GROUPS})
            unknown = sorted(set(raw) - set(known))
            raise SettingsError(
                f"unknown runbook setting(s): {', '.join(unknown)}; known: {', '.join(known)}"
            )
    return values


def setting(settings: Settings, key: str) -> Any:
    """The value of flat key ``key`` (``max_offset``) in ``settings``."""
    value: Any = settings
    for part in FLAT_KEYS[key]:
        value = getattr(value, part)
    return value


def with_overrides(base: Settings, overrides: dict[str, Any]) -> Settings:
    """``base`` with the settings named in ``overrides`` (flat keys or groups) validated and replaced."""
    if not overrides:
        return base
    given = flat(overrides)
    parsed = build_settings(given)
    for key in given:
        base = _replaced(base, FLAT_KEYS[key], setting(parsed, key))
    return base


def build_settings(raw: dict[str, Any]) -> Settings:
    """Validate ``raw`` (config-file shapes: lists, strings with units) into ``Settings``.

    ``records.operator`` defaults to ``user@host`` of this machine and ``ssh.sudo_password``
    to ``$RUNBOOK_SUDO_PASSWORD``.
    """
    nested: dict[str, Any] = {}
    for key, value in flat(raw).items():
        *groups, last = FLAT_KEYS[key]
        section = nested
        for group in groups:
            section = section.setdefault(group, {})
        section[last] = value
    built = build_group(Settings, nested, names=SETTING_NAMES)
    if not built.records.operator:
        built = _replaced(built, ("records", "operator"), default_operator())
    if built.ssh.sudo_password is None:
        built = _replaced(built, ("ssh", "sudo_password"), sudo_password_from_environment())
    return built


def _replaced(settings: Any, path: tuple[str, ...], value: Any) -> Any:
    """``settings`` with the field at ``path`` (``("ntp", "max_offset")``) set to ``value``."""
    head, *rest = path
    inner = _replaced(getattr(settings, head), tuple(rest), value) if rest else value
    return replace(settings, **{head: inner})


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


def _looks_like_time(word: str) -> bool:
    return word[:1].isdigit()
