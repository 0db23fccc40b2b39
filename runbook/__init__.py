"""runbook: checks and repairs a server needs after its provider's maintenance."""
