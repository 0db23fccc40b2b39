"""The one exception the lab raises for problems a person must fix."""

from __future__ import annotations


class LabError(RuntimeError):
    """The lab cannot do what was asked; the message says why and what to run."""
