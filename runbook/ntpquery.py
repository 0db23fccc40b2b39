"""One checked NTP client exchange (RFC 5905 client mode).

ntplib accepts any reply from the server's address: one whose origin timestamp is not the
request's transmit timestamp (a stale or forged packet) gave an offset of two billion
seconds. Here the request carries 32 random bits in its transmit timestamp's fraction, a
reply must echo all 64 bits as its origin timestamp (others are ignored until the timeout),
and a reply whose timing is impossible (negative delay, server sent before it received)
is refused. Local times come from one wall reading plus the monotonic clock, so the
controller's own clock stepping during the exchange cannot distort the result.
"""

from __future__ import annotations

import secrets
import socket
import struct
import time
from dataclasses import dataclass

import ntplib

_NTP_EPOCH = ntplib.NTP.NTP_DELTA
_SERVER_MODES = {4, 5}  # server, broadcast


class NTPExchangeError(Exception):
    """No usable reply; the message says why (no reply, not ours, impossible timing)."""


@dataclass(frozen=True)
class Exchange:
    """What one server said: its stratum, leap and reference id, and the offset and delay."""

    stratum: int
    leap: int
    ref_id: int
    offset: float
    delay: float


def exchange(server: str, *, port: int = 123, timeout: float = 5.0) -> Exchange:
    """Ask ``server`` once; ``NTPExchangeError`` when no reply matches or its timing is impossible."""
    try:
        family, _, _, _, address = socket.getaddrinfo(server, port, type=socket.SOCK_DGRAM)[0]
    except (OSError, UnicodeError) as exc:
        raise NTPExchangeError(f"cannot resolve: {getattr(exc, 'strerror', None) or exc}") from None
    request = bytearray(ntplib.NTPPacket(version=4, mode=3).to_data())
    ignored = 0
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sent_wall, sent = time.time(), time.monotonic()
        request[40:48] = struct.pack("!I", int(sent_wall) + _NTP_EPOCH) + secrets.token_bytes(4)
        try:
            sock.sendto(bytes(request), address)
            while True:
                sock.settimeout(max(0.001, timeout - (time.monotonic() - sent)))
                reply, source = sock.recvfrom(512)
                received = time.monotonic()
                if source[:2] == address[:2] and len(reply) >= 48 and reply[24:32] == request[40:48]:
                    break
                ignored += 1
        except TimeoutError:
            extra = f" ({ignored} reply(s) not matching the request ignored)" if ignored else ""
            raise NTPExchangeError(f"no reply within {timeout:g} s{extra}") from None
        except OSError as exc:
            raise NTPExchangeError(exc.strerror or str(exc)) from None
    return _checked(reply, sent_wall, received - sent)


def _checked(reply: bytes, sent_wall: float, elapsed: float) -> Exchange:
    packet = ntplib.NTPPacket()
    packet.from_data(reply)
    if packet.mode not in _SERVER_MODES:
        raise NTPExchangeError(f"reply in mode {packet.mode}, not from a server")
    t1 = sent_wall  # the packet's fraction is the random nonce, not the time
    t4 = t1 + elapsed
    t2 = ntplib.ntp_to_system_time(packet.recv_timestamp)
    t3 = ntplib.ntp_to_system_time(packet.tx_timestamp)
    if t3 < t2:
        raise NTPExchangeError(f"impossible reply: sent {t2 - t3:.6f} s before the request was received")
    delay = (t4 - t1) - (t3 - t2)
    if delay < 0:
        raise NTPExchangeError(
            f"impossible reply: negative delay {delay:.6f} s (the server held the request "
            f"{t3 - t2:.6f} s, the round trip took {elapsed:.6f} s)"
        )
    return Exchange(
        stratum=int(packet.stratum),
        leap=int(packet.leap),
        ref_id=int(packet.ref_id),
        offset=((t2 - t1) + (t3 - t4)) / 2,
        delay=delay,
    )
