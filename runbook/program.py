"""The ``runbook`` console script: runbook's commands, and only the core options that work for them.

Invoke's own program offers options the runbook ignores or that would mislead (``-R/--dry``
echoes instead of running, ``--prompt-for-sudo-password`` asks for a value nothing reads,
``-T``, ``-w``, ``-p``, ``-e``, ``--hide``): they are not offered here. A usage mistake (an
unknown option or command, a flag without its value) is one line on stderr, with a "did you
mean" where one fits, and exit status 2, before anything runs; in the flags of a check
(``PLUGIN_COMMANDS``) it is the check's UNKNOWN line on stdout and exit status 3.
"""

from __future__ import annotations

import difflib
import os
import re
import sys

from invoke.exceptions import Exit, ParseError, UnexpectedExit
from invoke.parser.argument import Argument
from invoke.program import Program

USAGE_ERROR = 2
PLUGIN_COMMANDS = {"check": "CLOCK"}
"""Commands that are Monitoring Plugins checks (docs/monitoring.md), with their service label: a usage
mistake in their flags is their UNKNOWN line on stdout and exit 3, which an engine reads as UNKNOWN (2
would read as CRITICAL)."""
PLUGIN_UNKNOWN = 3
_KEPT = (
    *("help", "version", "list", "list-format", "list-depth"),
    *("config", "complete", "print-completion-script", "debug"),
)


class RunbookProgram(Program):
    """Invoke's ``Program`` without the core options the runbook does not honour; usage errors exit 2."""

    def core_args(self) -> list[Argument]:
        return [arg for arg in super().core_args() if arg.name in _KEPT]

    def parse_core_args(self) -> None:
        super().parse_core_args()
        for arg in super().core_args():  # the parent reads some of the options left out
            if arg.name not in self.args:
                self.args[arg.name] = arg

    def update_config(self, merge: bool = True) -> None:
        """Only the runtime config file (``-f FILE``) comes from the command line."""
        self.config.load_overrides({}, merge=False)
        runtime: str | None = self.args.config.value or os.environ.get("INVOKE_RUNTIME_CONFIG")
        self.config.set_runtime_path(runtime)  # type: ignore[arg-type]  # Invoke takes a str too
        self.config.load_runtime(merge=False)
        if merge:
            self.config.merge()

    def run(self, argv: list[str] | None = None, exit: bool = True) -> None:
        """Run as Invoke does, but a usage mistake is one line and exit 2 (raised when ``exit`` is false)."""
        try:
            self._run(argv)
        except ParseError as exc:
            if not exit:
                raise
            service = PLUGIN_COMMANDS.get(str(getattr(getattr(exc, "context", None), "name", "")))
            if service is not None:
                print(f"{service} UNKNOWN - {self.usage_message(exc)}")
                sys.exit(PLUGIN_UNKNOWN)
            print(f"{self.binary or self.name}: {self.usage_message(exc)}", file=sys.stderr)
            sys.exit(USAGE_ERROR)

    def _run(self, argv: list[str] | None) -> None:
        """``Program.run``'s steps, parse errors raised to ``run``, the rest ending as Invoke ends it."""
        try:
            self.create_config()
            self.parse_core(argv)
            self.parse_collection()
            self.parse_tasks()
            self.parse_cleanup()
            self.update_config()
            self.execute()
        except (UnexpectedExit, Exit) as exc:
            if isinstance(exc, Exit) and exc.message:
                print(exc.message, file=sys.stderr)
            if isinstance(exc, UnexpectedExit) and exc.result.hide:
                print(exc, file=sys.stderr, end="")
            sys.exit(exc.result.exited if isinstance(exc, UnexpectedExit) else exc.code)
        except KeyboardInterrupt:
            sys.exit(1)

    def usage_message(self, error: ParseError) -> str:
        """Invoke's parse error as one line that names the mistake and what to do."""
        parsed = str(error)
        unknown = re.fullmatch(r"No idea what '(.+)' is!", parsed)
        if unknown:
            word = unknown[1]
            if word.startswith("-"):
                return f"unknown option {word}{_did_you_mean(word, self._flags(error))}; see --help"
            collection = getattr(self, "collection", None) or self.namespace
            names = sorted(
                {name for task, aliases in collection.task_names.items() for name in (task, *aliases)}
                if collection is not None
                else set()
            )
            return f"unknown command {word!r}{_did_you_mean(word, names)}; see --list"
        missing = re.fullmatch(r"Flag <Argument: (\w+).*> needed value and was not given one!", parsed)
        if missing:
            flag = "--" + missing[1].replace("_", "-")
            return f"option {flag} needs a value ({flag} VALUE); see --help"
        return parsed.rstrip("!").strip() + "; see --help"

    def _flags(self, error: ParseError) -> list[str]:
        """The flags that could have been meant: the failing context's, the core ones, every command's."""
        contexts = [getattr(error, "context", None), self.initial_context]
        collection = getattr(self, "collection", None) or self.namespace
        if collection is not None:
            contexts.extend(collection.to_contexts(ignore_unknown_help=True))
        return sorted({flag for context in contexts if context is not None for flag in context.flags})


def _did_you_mean(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""
