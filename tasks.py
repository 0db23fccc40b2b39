"""Invoke tasks: `invoke post-maint`, the lab (`invoke lab.up|down|status`)."""

from __future__ import annotations

from invoke.collection import Collection

ns = Collection()
