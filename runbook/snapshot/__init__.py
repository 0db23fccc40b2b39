"""Before and after a maintenance: the host's state (services, sockets, mounts, boot), read by the
probe's ``state.sh`` fact unit, kept in a snapshot file by ``pre-maint`` and compared by ``compare``."""
