"""The real ntpsec daemon, unpacked from Debian's package into the cache (it conflicts with chrony,
so it is never installed on the machine itself)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from lab.errors import LabError


def ensure_ntpsec(cache: Path) -> Path:
    """Root of the unpacked ntpsec package under ``cache`` (``apt-get download`` + ``dpkg-deb -x`` once)."""
    root = cache / "ntpsec"
    if (root / "usr/sbin/ntpd").is_file():
        return root
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".ntpsec-") as work:
        fetched = subprocess.run(
            ["apt-get", "download", "ntpsec"], cwd=work, capture_output=True, text=True, check=False
        )
        debs = sorted(Path(work).glob("ntpsec_*.deb"))
        if fetched.returncode != 0 or not debs:
            raise LabError(
                "`apt-get download ntpsec` failed: run `apt-get update` and check that the Debian mirror is "
                f"reachable\n{fetched.stderr.strip()}"
            )
        unpacked = Path(work, "root")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(unpacked)], check=True)
        if root.exists():
            shutil.rmtree(root)
        unpacked.rename(root)
    return root
