#!/usr/bin/python3
"""Holds many idle client connections open to a Redis-speaking server (used by bench/run.sh).

    idle_clients.py HOST PORT COUNT STATEDIR [MAX_SECONDS]

Stages, driven by files in STATEDIR so a shell script can follow along with bounded polls:
  1. opens COUNT non-blocking TCP connections (in batches, retrying refused/reset ones a few
     times), then writes "connected N" to STATEDIR/status;
  2. when STATEDIR/ping appears: sends one PING on every connection, reads every +PONG, writes
     "pinged N" to STATEDIR/status (the connections have now each carried one request, as the
     idle members of an application's connection pool have);
  3. when STATEDIR/exit appears (or MAX_SECONDS after start, or on SIGTERM/SIGINT): closes every
     connection with an RST (SO_LINGER 0, so 10,000 sockets leave no TIME_WAIT behind) and exits.
Exit status 0 when every stage reached its count, 1 otherwise.
"""

import errno
import os
import resource
import selectors
import signal
import socket
import struct
import sys
import time

BATCH = 500
CONNECT_ATTEMPTS = 5


def write_status(statedir, text):
    tmp = os.path.join(statedir, "status.tmp")
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, os.path.join(statedir, "status"))


def open_all(host, port, count, deadline):
    """Returns the list of connected sockets (may be fewer than count if the deadline passes)."""
    done = []
    attempts = {}
    pending = list(range(count))  # connection slots still to open
    sel = selectors.DefaultSelector()
    while pending and time.monotonic() < deadline:
        batch, pending = pending[:BATCH], pending[BATCH:]
        inflight = {}
        for slot in batch:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            rc = s.connect_ex((host, port))
            if rc not in (0, errno.EINPROGRESS):
                s.close()
                attempts[slot] = attempts.get(slot, 0) + 1
                if attempts[slot] < CONNECT_ATTEMPTS:
                    pending.append(slot)
                continue
            sel.register(s, selectors.EVENT_WRITE, slot)
            inflight[s.fileno()] = s
        while inflight and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1.0):
                s, slot = key.fileobj, key.data
                sel.unregister(s)
                del inflight[s.fileno()]
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err == 0:
                    done.append(s)
                else:
                    s.close()
                    attempts[slot] = attempts.get(slot, 0) + 1
                    if attempts[slot] < CONNECT_ATTEMPTS:
                        pending.append(slot)
        for s in inflight.values():
            sel.unregister(s)
            s.close()
        time.sleep(0.01)  # let the server's accept loop catch up with its backlog
    sel.close()
    return done


def ping_all(socks, deadline):
    """Sends PING on each socket and reads +PONG; returns how many answered."""
    sel = selectors.DefaultSelector()
    want = {}
    for s in socks:
        try:
            s.send(b"*1\r\n$4\r\nPING\r\n")
        except OSError:
            continue
        sel.register(s, selectors.EVENT_READ)
        want[s.fileno()] = b""
    ok = 0
    while want and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            try:
                data = s.recv(64)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                del want[s.fileno()]
                continue
            got = want[s.fileno()] + data
            if got.endswith(b"\r\n"):
                sel.unregister(s)
                del want[s.fileno()]
                ok += got == b"+PONG\r\n"
            else:
                want[s.fileno()] = got
    sel.close()
    return ok


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, count, statedir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    max_seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 900.0
    start = time.monotonic()
    stop_at = start + max_seconds

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = count + 64
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            print("idle_clients: RLIMIT_NOFILE hard limit %d < %d" % (hard, need), file=sys.stderr)
            return 1
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))

    socks = open_all(host, port, count, min(stop_at, time.monotonic() + 180))
    write_status(statedir, "connected %d" % len(socks))
    status = 0 if len(socks) == count else 1

    def wait_for(name):
        path = os.path.join(statedir, name)
        while not stopping and time.monotonic() < stop_at and not os.path.exists(path):
            time.sleep(0.05)
        return os.path.exists(path)

    if wait_for("ping"):
        pinged = ping_all(socks, min(stop_at, time.monotonic() + 120))
        write_status(statedir, "pinged %d" % pinged)
        if pinged != count:
            status = 1
        wait_for("exit")

    linger = struct.pack("ii", 1, 0)
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        except OSError:
            pass
        s.close()
    write_status(statedir, "closed")
    return status


if __name__ == "__main__":
    sys.exit(main())
