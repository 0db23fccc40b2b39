"""The JSON Schemas: shipped in the package, published in docs/templates.md, and met by real records."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from record_checks import fences, validate_fleet, validate_host
from record_seed import recorded, seed_run, seed_settings

from runbook.record import fleet_json, host_json
from runbook.record.schema import FLEET, HOST, schema
from runbook.results import FleetRun, HostRun

DOCS = Path(__file__).resolve().parents[2] / "docs" / "templates.md"


def test_schemas_are_valid_and_published_as_shipped() -> None:
    published = [body for info, body in fences(DOCS.read_text(encoding="utf-8")) if info == "json"]
    for name in (HOST, FLEET):
        jsonschema.Draft202012Validator.check_schema(schema(name))
        shipped = Path(__file__).resolve().parents[2] / "runbook" / "schemas" / name
        assert shipped.read_text(encoding="utf-8") in published, f"docs/templates.md lacks the current {name}"


def test_the_recorded_lab_run_and_its_rendering_meet_the_schema() -> None:
    validate_host(recorded())
    run = seed_run()
    validate_host(host_json(run, seed_settings("ja"), now=run.finished))
    broken = HostRun(host="db01", started=run.started, finished=run.finished, error="unreachable")
    fleet = FleetRun([run, broken], started=run.started, finished=run.finished)
    validate_fleet(fleet_json(fleet, seed_settings(), {"lab1": "lab1.md"}, now=run.finished))


def test_the_schema_catches_a_number_written_as_text() -> None:
    data = host_json(seed_run(), seed_settings(), now=0.0)
    data["header"]["clock"]["before"]["offset"] = "10800.0"
    with pytest.raises(jsonschema.ValidationError):
        validate_host(data)
