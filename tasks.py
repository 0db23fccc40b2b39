"""Invoke tasks: `invoke post-maint`, the lab (`invoke lab.up|down|status`)."""

from __future__ import annotations

from invoke.collection import Collection

from runbook.lab.tasks import lab

ns = Collection()
ns.add_collection(lab)
