"""Record checks: JSON against the shipped schemas, Markdown parsed as CommonMark with GFM tables.

Loaded as a pytest plugin (``-p record_checks``): while a test runs, every host or fleet JSON
record ``runbook.record.files`` writes is validated against its schema first.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from runbook.record import files
from runbook.record.schema import FLEET, HOST, schema


def validate_host(data: dict[str, Any]) -> None:
    jsonschema.validate(data, schema(HOST), format_checker=jsonschema.FormatChecker())


def validate_fleet(data: dict[str, Any]) -> None:
    jsonschema.validate(data, schema(FLEET), format_checker=jsonschema.FormatChecker())


def parse(markdown: str) -> list[Token]:
    """CommonMark tokens, with GFM tables."""
    return MarkdownIt("commonmark").enable("table").parse(markdown)


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first)."""
    found: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in parse(markdown):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_close" and row is not None:
            found[-1].append(row)
            row = None
    return found


def fences(markdown: str) -> list[tuple[str, str]]:
    """Every fenced block as (info, content)."""
    return [(t.info, t.content) for t in parse(markdown) if t.type == "fence"]


def list_items(markdown: str) -> list[str]:
    """The text of every list item's first paragraph."""
    tokens = parse(markdown)
    return [
        tokens[i + 2].content
        for i, token in enumerate(tokens[:-2])
        if token.type == "list_item_open" and tokens[i + 1].type == "paragraph_open"
    ]


def headings(markdown: str) -> list[str]:
    tokens = parse(markdown)
    return [tokens[i + 1].content for i, t in enumerate(tokens[:-1]) if t.type == "heading_open"]


@pytest.fixture(autouse=True)
def _validated_records(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    host_json, fleet_json = files.host_json, files.fleet_json  # type: ignore[attr-defined]

    def checked_host(*args: Any, **kwargs: Any) -> dict[str, Any]:
        data = host_json(*args, **kwargs)
        validate_host(data)
        return data

    def checked_fleet(*args: Any, **kwargs: Any) -> dict[str, Any]:
        data = fleet_json(*args, **kwargs)
        validate_fleet(data)
        return data

    monkeypatch.setattr(files, "host_json", checked_host)
    monkeypatch.setattr(files, "fleet_json", checked_fleet)
    yield
