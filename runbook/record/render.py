"""Rendering records with Jinja2: our templates, overridable file by file from a user folder.

The environment has autoescape off (Markdown, not HTML), ``StrictUndefined`` (a misspelt
variable is an error, not an empty string) and trimmed blocks. Host data is only ever a
template *value*, never template source, so ``{{ }}`` in command output stays literal.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from types import TracebackType

import jinja2

from runbook.errors import RecordError
from runbook.record import fleet as fleet_model
from runbook.record import model, text
from runbook.record.before_after import since_before
from runbook.record.language import Language
from runbook.results import CommandRecord, FleetRun, HostRun, Outcome, StepResult
from runbook.settings import RecordSettings, Settings

HOST_TEMPLATE = "host.md.j2"
FLEET_TEMPLATE = "fleet.md.j2"
FILTERS = {
    "cell": text.cell,
    "text": text.prose,
    "code": text.code,
    "code_cell": text.code_cell,
    "fence": text.fence,
    "seconds": text.seconds,
}


def environment(template_dir: Path | None = None, lang: str = "en") -> jinja2.Environment:
    """Our Jinja2 environment: ``template_dir`` (if given) first, then the package's templates.

    Jinja2's i18n extension gives templates ``_()``, translated into ``lang``.
    """
    loaders: list[jinja2.BaseLoader] = [jinja2.PackageLoader("runbook", "templates")]
    if template_dir is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(template_dir)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701 - Markdown; values are escaped by the filters above
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(Language(lang).catalog, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(FILTERS)
    env.globals["since_before"] = since_before
    return env


def render_host(
    run: HostRun,
    settings: Settings,
    *,
    template_dir: Path | None = None,
    now: float | None = None,
    json_name: str | None = None,
    journal_name: str | None = None,
    record: model.HostRecord | None = None,
) -> str:
    """The Markdown record of one host's run (``now``: when it is rendered, default the current time).

    ``record``: ``run``'s ``host_record`` if the caller already has it (the JSON record needs it too).
    """
    if record is None:
        record = model.host_record(
            run,
            settings,
            now=time.time() if now is None else now,
            json_name=json_name,
            journal_name=journal_name,
        )
    masked = record.run if record.run is not None else run
    return _render(
        template_dir, settings.records.lang, HOST_TEMPLATE, record=record, run=masked, settings=settings
    )


def render_fleet(
    fleet: FleetRun,
    settings: Settings,
    host_record_names: dict[str, str],
    *,
    template_dir: Path | None = None,
    now: float | None = None,
    record: fleet_model.FleetRecord | None = None,
) -> str:
    """The Markdown record of a fleet: a line per host, linking to ``host_record_names[host]``."""
    record = record or fleet_model.fleet_record(
        fleet, settings, host_record_names, now=time.time() if now is None else now
    )
    return _render(
        template_dir, settings.records.lang, FLEET_TEMPLATE, record=record, fleet=fleet, settings=settings
    )


def check_templates(template_dir: Path | None = None) -> None:
    """Raise ``RecordError`` now if a template (ours or the user's) is missing, broken or fails on a sample.

    Call before anything runs on a host, so a typo never costs a run its record.
    """
    if template_dir is not None:
        if not template_dir.is_dir():
            raise RecordError(f"template folder {template_dir} does not exist or is not a folder")
        env = environment(template_dir)
        for path in sorted(template_dir.glob("*.j2")):
            _load(env, template_dir, path.name)
    sample = _sample_run()
    settings = Settings(records=RecordSettings(operator="check@templates", timezone="Asia/Tokyo"))
    render_host(sample, settings, template_dir=template_dir, now=sample.finished)
    render_fleet(
        FleetRun([sample], sample.started, sample.finished),
        settings,
        {"sample": "sample.md"},
        template_dir=template_dir,
        now=sample.finished,
    )


@functools.lru_cache(maxsize=8)
def _shared_environment(template_dir: Path | None, lang: str) -> jinja2.Environment:
    """One environment per template folder and language, so each template compiles once per process.

    Jinja2 checks a cached template's source for changes before reusing it (``auto_reload``).
    """
    return environment(template_dir, lang)


def _render(template_dir: Path | None, lang: str, name: str, **context: object) -> str:
    env = _shared_environment(template_dir, lang)
    template = _load(env, template_dir, name)
    try:
        return template.render(**context)
    except Exception as exc:
        where = _template_line(exc.__traceback__) or name
        raise RecordError(
            f"template {where} ({_origin(env, template_dir, name)}) failed: {type(exc).__name__}: {exc}"
        ) from exc


def _load(env: jinja2.Environment, template_dir: Path | None, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        where = exc.filename or exc.name or name
        raise RecordError(f"template {where}, line {exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise RecordError(f"template {exc.name} not found in {template_dir or 'the package'}") from exc


def _origin(env: jinja2.Environment, template_dir: Path | None, name: str) -> str:
    if template_dir is not None and (template_dir / name).is_file():
        return f"from {template_dir}"
    return "built in"


def _template_line(tb: TracebackType | None) -> str:
    """``FILE, line N`` of the innermost template frame in a traceback."""
    where = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            where = f"{filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _sample_run() -> HostRun:
    """A small run touching every part of a record, to try templates on."""
    command = CommandRecord(
        "date", 0, stdout="Tue Aug 22 00:12:03 UTC 2017\n", started=1503360723.0, duration=0.1
    )
    stuck = CommandRecord("ntpdate pool.ntp.org", None, started=1503360724.0, duration=5.0, note="timed out")
    return HostRun(
        host="sample",
        results=[
            StepResult(
                "check_date",
                Outcome.OK,
                "in step",
                [command],
                1503360723.0,
                0.2,
                {"offset": 0.01, "bound": 0.003, "server": "pool.ntp.org", "stratum": 2},
            ),
            StepResult(
                "one_shot_sync",
                Outcome.FAILED,
                "ntpdate timed out",
                [stuck],
                1503360724.0,
                5.0,
                warnings=["sample warning"],
            ),
            StepResult(
                "verify", Outcome.CHANGED, "would wait", [], 1503360729.0, 0.0, {"offset": 0.01}, dry_run=True
            ),
        ],
        started=1503360723.0,
        finished=1503360730.0,
        error="sample error",
        facts={"hostname": "sample", "address": "192.0.2.1", "os": "CentOS 6.9", "init": "sysv"},
    )
