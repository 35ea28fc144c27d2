"""Supervision by systemd or upstart (`supervised`), as Redis's.

Debian's redis-server.service runs `redis-server ... --supervised systemd` as a `Type=notify`
unit: systemd waits for READY=1 on the datagram socket named by NOTIFY_SOCKET before it calls the
service started. A server told so tells it: "loading" at start, ready once it listens with its
data set loaded, STOPPING=1 when it shuts down, with Redis's STATUS texts. `auto` picks upstart
when UPSTART_JOB is set, else systemd when NOTIFY_SOCKET is; upstart is told by the server
stopping itself (SIGSTOP) at start. INFO server's process_supervised says which is in force.
"""

from __future__ import annotations

import os
import signal
import socket


def supervision(mode: str, log) -> str:
    """At start-up: the supervisor in force ("systemd", "upstart" or "no") for `mode`, the
    supervised option; systemd is told the server is loading, upstart that it is up."""
    if mode == "auto":
        mode = "upstart" if "UPSTART_JOB" in os.environ else \
            "systemd" if "NOTIFY_SOCKET" in os.environ else "no"
    if mode == "upstart":
        if "UPSTART_JOB" not in os.environ:
            log.warning("upstart supervision requested, but UPSTART_JOB not found!")
            return "no"
        log.notice("supervised by upstart, will stop to signal readiness.")
        os.kill(os.getpid(), signal.SIGSTOP)
        del os.environ["UPSTART_JOB"]
        return "upstart"
    if mode == "systemd" and notify_systemd(log, "STATUS=Redis is loading...\n"):
        log.notice("Supervised by systemd. Please make sure you set appropriate values for "
                   "TimeoutStartSec and TimeoutStopSec in your service unit.")
        return "systemd"
    return "no"


def notify_systemd(log, message: str) -> bool:
    """sd_notify: one datagram to NOTIFY_SOCKET ("@..." names an abstract socket)."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        log.warning("systemd supervision error: NOTIFY_SOCKET not found!")
        return False
    if path.startswith("@"):
        path = "\0" + path[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(path)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("systemd supervision error: sd_notify: %s", exc.strerror or exc)
        return False
    return True
