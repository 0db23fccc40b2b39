"""What a setting accepts, said in its type: ``Annotated[float, Seconds()]``, ``Port``, ``Choice(...)``.

A settings group annotates each field with one of these; ``runbook.configgroups.build_group``
reads the annotations and converts config-file shapes (``"30s"``, ``"yes"``, comma strings)
into the field's type, or raises ``SettingsError`` naming the setting, the value and what
is accepted. A ``Kind`` converts a raw value; a ``Check`` looks at the converted one.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runbook.durations import parse_duration
from runbook.errors import DurationError, SettingsError

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


def boolean(name: str, value: Any) -> bool:
    """``value`` of setting ``name`` as a bool: a bool, or yes/no, true/false, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")


class Kind(ABC):
    """Converts a raw config value of setting ``name`` into the field's type."""

    @abstractmethod
    def convert(self, name: str, value: Any) -> Any: ...


class Check(ABC):
    """Refuses a converted value of setting ``name`` that its field does not accept."""

    @abstractmethod
    def check(self, name: str, value: Any) -> None: ...


@dataclass(frozen=True)
class Seconds(Kind):
    """A duration: a number of seconds or ``30s``, ``1m30s``, ``500ms``; above zero if ``positive``."""

    positive: bool = True

    def convert(self, name: str, value: Any) -> float:
        try:
            seconds = parse_duration(value)
        except DurationError as exc:
            raise SettingsError(f"{name}: {exc}") from None
        if self.positive and seconds <= 0:
            raise SettingsError(f"{name} must be more than zero, not {value!r}")
        return seconds


@dataclass(frozen=True)
class Whole(Kind):
    """A whole number above zero (up to ``maximum`` when given); ``"5"`` is read as 5."""

    maximum: int | None = None

    def convert(self, name: str, value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise SettingsError(f"{name} must be a whole number, not {value!r}") from None
        written = isinstance(value, int) or str(value).strip().lstrip("+") == str(number)
        if isinstance(value, bool) or not written:
            raise SettingsError(f"{name} must be a whole number, not {value!r}")
        if self.maximum is not None and not 1 <= number <= self.maximum:
            raise SettingsError(f"{name} must be from 1 to {self.maximum}, not {value!r}")
        if number < 1:
            raise SettingsError(f"{name} must be a whole number above zero, not {value!r}")
        return number


@dataclass(frozen=True)
class Matching(Kind):
    """Text that matches ``pattern`` in full, not starting with ``-`` (it could read as an option).

    ``refusal`` completes "NOUN 'VALUE' is not ..."; ``noun`` is what one value is called
    (``NTP server``), the setting's name when not given.
    """

    pattern: str
    refusal: str
    noun: str = ""

    def convert(self, name: str, value: Any) -> str:
        text = str(value).strip()
        if not re.fullmatch(self.pattern, text, re.ASCII) or text.startswith("-"):
            raise SettingsError(f"{self.noun or name} {text!r} is not {self.refusal}")
        return text


@dataclass(frozen=True)
class Choice(Kind):
    """One of a few words, in any case (``JA`` is ``ja``)."""

    choices: tuple[str, ...]

    def __init__(self, *choices: str) -> None:
        object.__setattr__(self, "choices", choices)

    def convert(self, name: str, value: Any) -> str:
        word = str(value).strip().lower()
        if word not in self.choices:
            raise SettingsError(f"{name} {value!r} is not one of {', '.join(self.choices)}")
        return word


@dataclass(frozen=True)
class Regex(Kind):
    """A regular expression as Python's ``re`` reads it."""

    def convert(self, name: str, value: Any) -> str:
        pattern = str(value)
        try:
            re.compile(pattern)
        except re.error as exc:
            raise SettingsError(
                f"{name} pattern {pattern!r} is not a regular expression ({exc}): fix it in {name}:"
            ) from None
        return pattern


@dataclass(frozen=True)
class Zone(Kind):
    """An IANA time zone name or one of ``ZONE_ABBREVIATIONS``, kept as the IANA name."""

    def convert(self, name: str, value: Any) -> str:
        return zone_name(str(value))


@dataclass(frozen=True)
class Parsed(Kind):
    """A value read by ``parse`` (its own checks and messages), or already a ``ready`` instance."""

    parse: Callable[[Any], Any]
    ready: type | None = None

    def convert(self, name: str, value: Any) -> Any:
        return value if self.ready and isinstance(value, self.ready) else self.parse(value)


@dataclass(frozen=True)
class Items:
    """How a tuple setting reads one string: split at commas (``a, b``) or as a single item."""

    split_commas: bool = True


@dataclass(frozen=True)
class NotEmpty(Check):
    """At least one item; ``hint`` says how to give one."""

    hint: str

    def check(self, name: str, value: Any) -> None:
        if not value:
            raise SettingsError(f"{name} is empty: {self.hint}")


@dataclass(frozen=True)
class Scheme(Check):
    """Each text starts with one of ``schemes`` (``http://``)."""

    schemes: tuple[str, ...]

    def check(self, name: str, value: Any) -> None:
        for text in value:
            if not str(text).startswith(self.schemes):
                raise SettingsError(f"{name}: {text!r} is not {' or '.join(self.schemes)}: give a full URL")


PositiveSeconds = Annotated[float, Seconds()]
PositiveInt = Annotated[int, Whole()]
Port = Annotated[int, Whole(65535)]
Login = Annotated[
    str,
    Matching(
        r"[A-Za-z_][A-Za-z0-9_.-]{0,31}",
        "a login name: use letters, digits, '_', '.' and '-', starting with a letter or '_'",
    ),
]
NtpServer = Annotated[
    str,
    Matching(
        r"[A-Za-z0-9._:-]{1,253}",
        "a host name or IP address: use letters, digits, '.', '-', '_' and ':' only, not starting with '-'",
        noun="NTP server",
    ),
]
Pattern = Annotated[str, Regex()]
ZoneName = Annotated[str, Zone()]


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
