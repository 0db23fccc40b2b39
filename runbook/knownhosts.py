"""known_hosts files read and checked as OpenSSH does (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").

paramiko's loader raises on the first line it cannot read (one ``@cert-authority`` or
``@revoked`` line stopped every host), keeps one key per type and host, and knows no
wildcards. Here each line is read on its own: ``@revoked`` keys are refused for the hosts
they name; ``@cert-authority`` lines are skipped with a warning (host certificates are not
checked); a line that cannot be read is skipped with a warning; names may be plain,
hashed (``|1|salt|hash``), wildcards or negated (``!pattern``). A server key passes when
any entry for the host has it; a host known with another key of the same type has CHANGED.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

log = logging.getLogger(__name__)

_HASHED = "|1|"


class Verdict(Enum):
    """What the known_hosts files say about a server key."""

    KNOWN = "known"
    UNKNOWN = "unknown"
    CHANGED = "changed"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Entry:
    """One usable known_hosts line: its host patterns, key type and base64 key."""

    patterns: tuple[str, ...]
    keytype: str
    key: str
    revoked: bool = False

    def matches(self, name: str) -> bool:
        """Whether ``name`` (``host`` or ``[host]:port``) is one of this line's hosts."""
        hit = False
        for pattern in self.patterns:
            negated = pattern.startswith("!")
            if _pattern_matches(pattern[1:] if negated else pattern, name):
                if negated:
                    return False
                hit = True
        return hit


@dataclass
class KnownHostsFile:
    """A parsed file: plain names indexed, other entries (hashed, wildcards, negations) scanned."""

    source: str
    by_name: dict[str, list[Entry]] = field(default_factory=dict)
    scanned: list[Entry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def entries_for(self, name: str) -> list[Entry]:
        found = list(self.by_name.get(name.lower(), ()))
        return found + [entry for entry in self.scanned if entry.matches(name)]


def parse_known_hosts(text: str, source: str) -> KnownHostsFile:
    """``text`` of the known_hosts file ``source``; unreadable and CA lines land in ``skipped``."""
    parsed = KnownHostsFile(source)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        marker = ""
        if line.startswith("@"):
            marker, _, line = line.partition(" ")
            line = line.strip()
        fields = line.split()
        where = f"{source} line {number}"
        if marker == "@cert-authority":
            parsed.skipped.append(f"{where}: @cert-authority skipped (host certificates are not checked)")
            continue
        if marker not in ("", "@revoked") or len(fields) < 3 or not _valid_key(fields[2]):
            parsed.skipped.append(f"{where}: not a known_hosts entry, skipped")
            continue
        patterns = tuple(fields[0].split(","))
        entry = Entry(patterns, fields[1], fields[2], revoked=marker == "@revoked")
        if all(_is_plain(pattern) for pattern in patterns):
            for pattern in patterns:
                parsed.by_name.setdefault(pattern.lower(), []).append(entry)
        else:
            parsed.scanned.append(entry)
    for problem in parsed.skipped:
        log.warning("runbook: known_hosts %s", problem)
    return parsed


def check(files: Sequence[KnownHostsFile], name: str, keytype: str, key: str) -> tuple[Verdict, Entry | None]:
    """The verdict on the server key ``keytype key`` (base64) for ``name``, and the entry behind it
    (for ``CHANGED``: the known key of that type)."""
    entries = [entry for known in files for entry in known.entries_for(name)]
    for entry in entries:
        if entry.revoked and entry.key == key:
            return Verdict.REVOKED, entry
    usable = [entry for entry in entries if not entry.revoked]
    for entry in usable:
        if entry.key == key:
            return Verdict.KNOWN, entry
    for entry in usable:
        if entry.keytype == keytype:
            return Verdict.CHANGED, entry
    return Verdict.UNKNOWN, None


def fingerprint(keytype: str, key: str) -> str:
    """``ssh-ed25519 SHA256:…`` as ``ssh-keygen -l`` prints it."""
    digest = base64.b64encode(hashlib.sha256(base64.b64decode(key)).digest()).decode().rstrip("=")
    return f"{keytype} SHA256:{digest}"


def entry_line(name: str, keytype: str, key: str, *, hashed: bool) -> str:
    """A known_hosts line for ``name`` (hashed as ``HashKnownHosts yes`` writes it)."""
    return f"{hash_name(name) if hashed else name} {keytype} {key}\n"


def hash_name(name: str, salt: bytes | None = None) -> str:
    """``|1|salt|hash`` of ``name`` (HMAC-SHA1 keyed by a random salt)."""
    salt = os.urandom(20) if salt is None else salt
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"{_HASHED}{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


def _pattern_matches(pattern: str, name: str) -> bool:
    if pattern.startswith(_HASHED):
        salt_text, _, _ = pattern[len(_HASHED) :].partition("|")
        try:
            salt = base64.b64decode(salt_text, validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(hash_name(name, salt), pattern)
    wildcards = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(wildcards, name.lower()) is not None


def _is_plain(pattern: str) -> bool:
    """A pattern that is one name (OpenSSH's wildcards are only ``*`` and ``?``)."""
    return not pattern.startswith(("!", _HASHED)) and "*" not in pattern and "?" not in pattern


def _valid_key(key: str) -> bool:
    try:
        return bool(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError):
        return False
