"""The type-driven settings builder: each annotated kind, nested groups, and the flat-key table."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any, ClassVar

import pytest

from runbook.configgroups import build_group
from runbook.configvalues import (
    Choice,
    Items,
    Login,
    NotEmpty,
    NtpServer,
    Pattern,
    Port,
    PositiveInt,
    PositiveSeconds,
    Scheme,
    ZoneName,
)
from runbook.errors import SettingsError
from runbook.settings import (
    FLAT_KEYS,
    GROUPS,
    NtpSettings,
    Settings,
    build_settings,
    flat,
    setting,
    with_overrides,
)


@dataclass(frozen=True)
class Inner:
    SHORTHAND: ClassVar[str] = "name"

    name: str
    count: PositiveInt = 1


@dataclass(frozen=True)
class Sample:
    """One field of every kind the settings use."""

    seconds: PositiveSeconds = 1.0
    count: PositiveInt = 1
    port: Port = 1
    user: Login | None = None
    hosts: Annotated[tuple[NtpServer, ...], NotEmpty("name one host")] = ("h",)
    urls: Annotated[tuple[str, ...], Scheme(("http://", "https://"))] = ()
    lang: Annotated[str, Choice("en", "ja")] = "en"
    patterns: Annotated[tuple[Pattern, ...], Items(split_commas=False)] = ()
    zone: ZoneName = "UTC"
    flag: bool = False
    ratio: float = 1.0
    text: str | None = None
    inner: Inner | None = None


def built(**raw: Any) -> Sample:
    return build_group(Sample, raw, section="sample")


@pytest.mark.parametrize(
    ("raw", "field", "value"),
    [
        ({"seconds": "1m30s"}, "seconds", 90.0),
        ({"seconds": 2}, "seconds", 2.0),
        ({"count": "7"}, "count", 7),
        ({"count": "+7"}, "count", 7),
        ({"port": 65535}, "port", 65535),
        ({"user": "deploy.ops"}, "user", "deploy.ops"),
        ({"user": ""}, "user", None),
        ({"hosts": "a.example, 10.0.0.1 ,::1"}, "hosts", ("a.example", "10.0.0.1", "::1")),
        ({"hosts": ["a", "b"]}, "hosts", ("a", "b")),
        ({"urls": ["https://x/"]}, "urls", ("https://x/",)),
        ({"lang": "JA"}, "lang", "ja"),
        ({"patterns": "a,b{1,2}"}, "patterns", ("a,b{1,2}",)),
        ({"patterns": ["a", "b"]}, "patterns", ("a", "b")),
        ({"zone": "jst"}, "zone", "Asia/Tokyo"),
        ({"flag": "yes"}, "flag", True),
        ({"flag": "off"}, "flag", False),
        ({"ratio": "0.25"}, "ratio", 0.25),
        ({"text": 12}, "text", "12"),
        ({"seconds": None}, "seconds", 1.0),
    ],
)
def test_each_kind_accepts_what_it_says(raw: dict[str, Any], field: str, value: object) -> None:
    assert getattr(built(**raw), field) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"seconds": "soon"}, "seconds: not a duration: 'soon'"),
        ({"seconds": "0s"}, "seconds must be more than zero, not '0s'"),
        ({"count": "many"}, "count must be a whole number, not 'many'"),
        ({"count": 1.5}, "count must be a whole number, not 1.5"),
        ({"count": True}, "count must be a whole number, not True"),
        ({"count": 0}, "count must be a whole number above zero, not 0"),
        ({"port": 70000}, "port must be from 1 to 65535, not 70000"),
        ({"user": "root;id"}, "user 'root;id' is not a login name"),
        ({"hosts": ["ok", "-o"]}, "NTP server '-o' is not a host name or IP address"),
        ({"hosts": []}, "hosts is empty: name one host"),
        ({"hosts": 3}, "hosts must be a list or a comma-separated string, not 3"),
        ({"urls": "ftp://x/"}, "urls: 'ftp://x/' is not http:// or https://: give a full URL"),
        ({"lang": "fr"}, "lang 'fr' is not one of en, ja"),
        ({"patterns": ["("]}, "patterns pattern '(' is not a regular expression"),
        ({"zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"flag": "perhaps"}, "flag must be true or false, not 'perhaps'"),
        ({"ratio": "half"}, "ratio must be a number, not 'half'"),
        ({"colour": 1}, "unknown sample setting(s): colour; known: count, flag, hosts, inner,"),
        ({"inner": {"count": 2}}, "inner needs at least a name (inner: {name: ...})"),
        ({"inner": {"name": "x", "size": 1}}, "unknown inner setting(s): size; known: count, name"),
        ({"inner": {"name": "x", "count": -1}}, "inner.count must be a whole number above zero"),
        ({"inner": 5}, "inner must be a mapping of name, count, not 5"),
    ],
)
def test_each_kind_refuses_with_one_line_naming_setting_and_value(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        built(**raw)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_nested_group_from_a_mapping_its_shorthand_or_an_instance() -> None:
    assert built(inner={"name": "x", "count": "3"}).inner == Inner("x", 3)
    assert built(inner="x").inner == Inner("x")
    assert built(inner=Inner("y", 2)).inner == Inner("y", 2)


def test_a_field_without_a_conversion_is_a_programming_error() -> None:
    @dataclass(frozen=True)
    class Odd:
        value: complex = 0j

    with pytest.raises(TypeError, match="no conversion"):
        build_group(Odd, {"value": "1j"})


def _leaves(cls: type, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every setting's path: fields of the groups, and the other fields of ``Settings`` as a whole."""
    found: set[tuple[str, ...]] = set()
    for item in fields(cls):
        here = (*path, item.name)
        group = item.default if path == () and item.name in GROUPS else None
        found |= _leaves(type(group), here) if group is not None else {here}
    return found


def test_every_flat_key_sets_a_real_field_and_every_field_has_a_key() -> None:
    leaves = _leaves(Settings)
    assert set(FLAT_KEYS.values()) == leaves
    defaults = Settings()
    for key in FLAT_KEYS:
        setting(defaults, key)  # raises AttributeError for a path that is not a field


def test_groups_are_the_settings_fields_that_hold_groups() -> None:
    assert GROUPS == ("ssh", "ntp", "fleet", "site", "records")


def test_flat_keys_and_group_sections_give_the_same_settings() -> None:
    by_keys = build_settings({"max_offset": "2s", "ntp_timeout": 1, "user": "ops", "record_dir": "out"})
    by_groups = build_settings(
        {"ntp": {"max_offset": "2s", "timeout": 1}, "ssh": {"user": "ops"}, "records": {"dir": "out"}}
    )
    assert by_keys == by_groups
    assert by_keys.ntp == NtpSettings(max_offset=2.0, timeout=1.0)
    assert flat({"ntp_server": "a", "site": {"timeout": 3}}) == {"ntp_servers": "a", "http_timeout": 3}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"ntp": {"max_ofset": 1}}, "unknown ntp setting(s): max_ofset; known: allow_backward_step,"),
        ({"ntp": 3}, "ntp must be a mapping of ntp settings, not 3"),
        ({"ntp_timeout": 0}, "ntp_timeout must be more than zero, not 0"),
        ({"ntp": {"timeout": 0}}, "ntp_timeout must be more than zero, not 0"),
        ({"record_dirs": "x"}, "unknown runbook setting(s): record_dirs; known: accept_new_host_keys,"),
    ],
)
def test_bad_group_sections_and_flat_keys_name_the_setting(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        build_settings(raw)
    assert message in str(raised.value)


def test_an_override_replaces_one_field_and_keeps_the_rest_of_its_group() -> None:
    base = build_settings({"ntp_servers": ["a"], "samples": 3, "lang": "ja"})
    changed = with_overrides(base, {"max_offset": "1s", "ntp": {"samples": 5}})
    assert changed.ntp == NtpSettings(servers=("a",), samples=5, max_offset=1.0)
    assert changed.records == base.records
