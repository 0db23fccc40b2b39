"""The JSON Schemas of the host record and the fleet summary, shipped in ``runbook/schemas``."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

HOST = "host-record.schema.json"
FLEET = "fleet-record.schema.json"


@functools.cache
def schema(name: str) -> dict[str, Any]:
    """The schema ``name`` (``HOST`` or ``FLEET``) as a dict."""
    text = resources.files("runbook").joinpath("schemas", name).read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
