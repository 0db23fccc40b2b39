"""Three runbook steps composed in your own script, on one verified SSH connection.

    python docs/examples/three_steps.py HOST SSH_CONFIG NTP_SERVER

Checks the host's clock, fixes it with a one-shot sync when it is off (stopping ntpd around
ntpdate if ntpd holds the NTP socket), and verifies the result. Exit status 0 when every
step succeeded.
"""

import sys

from runbook import check_date, connect, one_shot_sync, verify_clock


def main(host: str, ssh_config: str, ntp_server: str) -> int:
    with connect(host, ssh_config=ssh_config, ntp_servers=[ntp_server]) as c:
        for step in (check_date, one_shot_sync, verify_clock):
            result = step(c)
            print(f"{result.step}: {result.outcome} - {result.message}")
            if not result:
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
