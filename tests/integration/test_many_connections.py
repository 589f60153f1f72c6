"""5,000 client connections at once, then all of them reset: the sidecar survives, forgets them all
(INFO sidecar connected_clients back to its baseline, pinned upstream connections closed in Redis)
and its memory does not grow round after round.

Each round opens 5,000 connections and, before resetting them all (SO_LINGER 0: RST, no FIN):
- 1,000 send a pipelined SET + GET and read both replies,
- 500 send a command and never read its reply (the reset comes while it is in flight),
- 500 leave a command half-written (inside a bulk string),
- 100 block in a BLPOP on a dedicated (pinned) upstream connection.
The file descriptor limits are raised here before the sidecar starts, so it inherits them.
"""

import os
import resource
import socket
import struct
import time
import unittest

from harness import DIRECT, RawClient, SidecarTestCase, encode, rss, sanitized, wait_for

CONNECTIONS = 5000
ANSWERED = 1000       # SET + GET, replies read
UNREAD = 500          # a GET whose reply is never read
HALF_WRITTEN = 500    # a command cut inside a bulk string
BLOCKED = 100         # BLPOP on a pinned upstream connection
NEEDED_FDS = CONNECTIONS + 500  # the test's sockets, or the sidecar's, plus some headroom


def raise_fd_limit():
    """Raises this process's RLIMIT_NOFILE (and so the sidecar's, started after) to the hard limit;
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


FD_LIMIT = raise_fd_limit()  # at import: before setUpClass starts the sidecar


def reset(sock):
    """Closes with an RST: SO_LINGER on with a zero timeout."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def proc_fd_limit(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                soft = line.split()[3]
                return float("inf") if soft == "unlimited" else int(soft)
    raise AssertionError("no 'Max open files' in /proc/%d/limits" % pid)


@unittest.skipIf(DIRECT, "INTEGRATION_DIRECT=1: counts the sidecar's clients and memory")
@unittest.skipIf(FD_LIMIT < NEEDED_FDS, "RLIMIT_NOFILE hard limit %s < %d" % (FD_LIMIT, NEEDED_FDS))
class ManyConnectionsTest(SidecarTestCase):

    def info(self, control):
        text = control.call_ok("INFO", "sidecar").decode()
        return dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)

    def redis_info(self, field):
        text = self.env.redis_call("INFO", "clients").decode()
        return int(dict(line.split(":", 1) for line in text.split("\r\n") if ":" in line)[field])

    def one_round(self, control, baseline, redis_baseline, round_no):
        conns = []
        try:
            started = time.monotonic()
            for _ in range(CONNECTIONS):
                conns.append(RawClient(self.env.port, timeout=20))
            wait_for(lambda: int(self.info(control)["connected_clients"]) == baseline + CONNECTIONS, 20,
                     what="all %d connections accepted" % CONNECTIONS)
            opened = time.monotonic() - started

            answered = conns[:ANSWERED]
            unread = conns[ANSWERED:ANSWERED + UNREAD]
            half = conns[ANSWERED + UNREAD:ANSWERED + UNREAD + HALF_WRITTEN]
            blocked = conns[ANSWERED + UNREAD + HALF_WRITTEN:ANSWERED + UNREAD + HALF_WRITTEN + BLOCKED]
            for i, c in enumerate(answered):
                c.send(encode("SET", "conn:%d" % i, "r%d" % round_no) + encode("GET", "conn:%d" % i))
            for i, c in enumerate(unread):
                c.send(encode("GET", "conn:%d" % i))
            for c in half:
                c.send(b"*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nwrit")
            for i, c in enumerate(blocked):
                c.send(encode("BLPOP", "never:%d" % i, "0"))
            for i, c in enumerate(answered):
                self.assertEqual((c.read_reply(), c.read_reply()), (b"OK", b"r%d" % round_no), "client %d" % i)
            wait_for(lambda: self.redis_info("blocked_clients") == BLOCKED, 20, what="BLPOPs blocked in Redis")
        finally:
            for c in conns:
                reset(c.sock)

        self.assertTrue(self.env.sidecar.running(), "the sidecar died")
        self.assertEqual(control.call("PING"), b"PONG")
        wait_for(lambda: int(self.info(control)["connected_clients"]) == baseline, 20,
                 what="connected_clients back to %d" % baseline)
        # The pinned connections of the reset clients are closed too.
        wait_for(lambda: self.redis_info("blocked_clients") == 0, 20, what="no BLPOP left in Redis")
        wait_for(lambda: self.redis_info("connected_clients") <= redis_baseline, 20,
                 what="Redis's connected_clients back to %d" % redis_baseline)
        return opened

    def test_5000_connections_reset_leave_nothing_behind(self):
        pid = self.env.sidecar.proc.pid
        self.assertGreaterEqual(proc_fd_limit(pid), NEEDED_FDS, "the sidecar did not inherit the raised limit")
        control = self.client()
        baseline = int(self.info(control)["connected_clients"])
        redis_baseline = self.redis_info("connected_clients")

        rss_kb = [rss(pid) // 1024]
        timings = []
        for round_no in (1, 2, 3):
            timings.append(self.one_round(control, baseline, redis_baseline, round_no))
            rss_kb.append(rss(pid) // 1024)

        # Still a working proxy.
        self.assertEqual(control.call("SET", "after", "1"), b"OK")
        self.assertEqual(self.env.redis_call("GET", "after"), b"1")
        info = self.info(control)
        self.assertEqual(int(info["rejected_connections"]), 0)
        self.assertEqual(info["mode"], "up")

        report = "RSS kB: start %d, after each round %s; %d connections opened in %s s" % (
            rss_kb[0], rss_kb[1:], CONNECTIONS, ["%.2f" % t for t in timings])
        print("\n" + report)
        if sanitized(pid):
            return  # ASan's quarantine keeps freed memory; LeakSanitizer checks leaks there
        # The first round grows the heap to its high-water mark; a leak would keep adding per round.
        first = rss_kb[1] - rss_kb[0]
        later = rss_kb[3] - rss_kb[1]
        self.assertLess(later, max(first // 4, 16 * 1024), "memory grew after the first round: " + report)


if __name__ == "__main__":
    unittest.main()
