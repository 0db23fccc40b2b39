"""A fake NTP server on a loopback address, answering as told (honest or not)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import ntplib


@dataclass
class Behaviour:
    offset: float = 0.0
    stratum: int = 2
    leap: int = 0
    kiss: str = ""
    silent: bool = False
    wrong_origin: bool = False
    """Echo a transmit timestamp that is not the request's (a stale or forged reply)."""
    held: float = 0.0
    """Seconds the server claims it held the request (transmit minus receive; negative: before)."""


class FakeNTP:
    """Answers NTP client packets on ``address`` as told by ``behaviour``; echoes the origin as sent."""

    def __init__(self, address: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((address, port))
        self.port = self.sock.getsockname()[1]
        self.behaviour = Behaviour()
        self.queries = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return
            self.queries += 1
            b = self.behaviour
            if b.silent:
                continue
            now = ntplib.system_to_ntp_time(time.time() + b.offset)
            reply = ntplib.NTPPacket(version=4, mode=4, tx_timestamp=now + b.held)
            reply.leap, reply.stratum = b.leap, 0 if b.kiss else b.stratum
            reply.ref_id = int.from_bytes(b.kiss.encode().ljust(4, b"\0")) if b.kiss else 0x7F7F0101
            reply.recv_timestamp = now
            packet = bytearray(reply.to_data())
            origin = bytes(data[40:48])
            packet[24:32] = bytes(8 - len(origin)) + origin if not b.wrong_origin else b"\x83\xaa\x7e\x80" * 2
            self.sock.sendto(bytes(packet), peer)

    def close(self) -> None:
        self.sock.close()
