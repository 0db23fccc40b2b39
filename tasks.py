"""Invoke tasks: `invoke post-maint` (and `.render`), `invoke check` and the lab (`invoke lab.*`)."""

from __future__ import annotations

from invoke.collection import Collection

from lab.tasks import lab
from runbook.cli import check, post_maint
from runbook.premaint import pre_maint

ns = Collection()
ns.add_collection(post_maint)
ns.add_collection(pre_maint)
ns.add_task(check)
ns.add_collection(lab)
