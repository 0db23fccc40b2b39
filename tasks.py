"""Invoke tasks: `invoke post-maint` (and `post-maint.render`), the lab (`invoke lab.up|down|status|setup`)."""

from __future__ import annotations

from invoke.collection import Collection

from runbook.cli import post_maint
from runbook.lab.tasks import lab

ns = Collection()
ns.add_collection(post_maint)
ns.add_collection(lab)
