"""The circuit between UP (forwarding) and DOWN (local store): how fast and how reliably it flips.

Redis missing at start, killed, SIGSTOPped while busy or idle, restarted again and again; the
sidecar must answer at once from its local store while Redis is gone, flip back to forwarding by
itself, count every flip, and never leave a pinned client hanging on a Redis that is gone.
Every test starts a fresh Redis and sidecar (--upstream-timeout 500 --probe-interval 250).
"""

import socket
import time
import unittest

from degraded_support import (ConnectionClosed, DegradedEnv, DegradedTestCase, RawClient, ReplyError, Sidecar, encode,
                              info_sidecar, mode, read_or_closed, sidecar_only, timed_call, transitions, wait_mode)

# Seconds the sidecar may take to notice that Redis is back (probes back off to 4 x 250 ms).
UP_DEADLINE = 2.0
# Seconds within which a GET must be answered once Redis is SIGSTOPped (timeout is 500 ms).
STALL_ANSWER_DEADLINE = 1.0
# Seconds within which a pinned client must learn that Redis is gone.
PINNED_DEADLINE = 3.0


@sidecar_only("the circuit is the sidecar's")
class StartWithoutRedisTest(DegradedTestCase):
    start_redis = False

    def test_serves_locally_at_once_then_goes_up_by_itself(self):
        c = self.client(timeout=2)
        self.assertEqual(mode(self.port), "down")
        self.assertEqual(transitions(self.port), 0, "down from the start is no transition")
        r, took = timed_call(c, "SET", "local-only", "v1")
        self.assertEqual(r, b"OK")
        self.assertLess(took, 0.5, "SET with no Redis at all took %.3fs" % took)
        r, took = timed_call(c, "GET", "local-only")
        self.assertEqual(r, b"v1")
        self.assertLess(took, 0.5)
        self.assertEqual(c.call("INCR", "local-counter"), 1)

        self.env.start_redis()
        took = wait_mode(self.port, "up", UP_DEADLINE + 1.0, "mode:up once Redis started")
        self.assertLess(took, UP_DEADLINE, "mode:up came %.2fs after Redis answered PING" % took)
        self.assertEqual(transitions(self.port), 1)

        # Forwarding: what Redis holds is what the sidecar answers, on the old connection too.
        self.env.redis_call("SET", "from-redis", "r1")
        self.assertEqual(c.call("GET", "from-redis"), b"r1")
        with RawClient(self.port, timeout=2) as d:
            self.assertEqual(d.call("GET", "from-redis"), b"r1")
            self.assertEqual(d.call("SET", "through-sidecar", "s1"), b"OK")
        self.assertEqual(self.env.redis_call("GET", "through-sidecar"), b"s1")
        # A key written only locally while down is not Redis's: once up, Redis answers for it.
        self.assertIsNone(c.call("GET", "local-only"))


@sidecar_only("the circuit is the sidecar's")
class StartWithRedisTest(unittest.TestCase):
    """A sidecar started next to a running Redis (an app and its sidecar starting together)."""

    def test_first_requests_after_start_are_forwarded(self):
        # The very first requests, sent as soon as the port accepts, must reach Redis: answering
        # them locally while the pool is still connecting would lose writes (a revoked token).
        env = DegradedEnv()
        self.addCleanup(env.stop)
        env.redis.start()
        lost = []
        for i in range(5):
            sc = Sidecar(env.tmp, env.redis.port).start(wait_ping=False)
            try:
                deadline = time.monotonic() + 10
                while True:
                    try:
                        c = RawClient(sc.port, timeout=3)
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.002)
                with c:
                    key = "jwt_token_blacklist_early%d" % i
                    self.assertEqual(c.call("SET", key, "1", "EX", "604800"), b"OK")
                if env.redis_call("GET", key) != b"1":
                    lost.append(key)
            finally:
                sc.stop()
        self.assertEqual(lost, [], "SET sent right after the sidecar started (Redis running) answered OK but "
                                   "never reached Redis: %d of 5 starts" % len(lost))


@sidecar_only("the circuit is the sidecar's")
class KillAndStallTest(DegradedTestCase):

    def test_kill_next_command_answered_locally_without_error(self):
        c = self.client(timeout=3)
        self.assertEqual(c.call("SET", "before", "1"), b"OK")
        self.assertEqual(mode(self.port), "up")
        self.env.redis.kill()
        # The very next commands, whether or not the sidecar noticed yet: replay-safe ones are
        # answered by the local store, not with an error.
        r, took = timed_call(c, "SET", "after-kill", "v")
        self.assertEqual(r, b"OK", "SET right after SIGKILL -> %r" % (r,))
        self.assertLess(took, 1.0)
        r, took = timed_call(c, "GET", "after-kill")
        self.assertEqual(r, b"v", "GET right after SIGKILL -> %r" % (r,))
        wait_mode(self.port, "down", 2.0, "mode:down after SIGKILL")
        for cmd, expected in ((("INCR", "n"), 1), (("INCRBY", "n", "4"), 5), (("EXISTS", "after-kill"), 1),
                              (("DEL", "after-kill"), 1), (("PING",), b"PONG")):
            r, took = timed_call(c, *cmd)
            self.assertEqual(r, expected, "%r while down -> %r" % (cmd, r))
            self.assertLess(took, 0.5, "%r while down took %.3fs" % (cmd, took))

    def test_sigstop_get_answered_within_1s_then_up_after_sigcont(self):
        c = self.client(timeout=3)
        self.assertEqual(c.call("SET", "k", "redis-value"), b"OK")
        self.assertEqual(mode(self.port), "up")
        self.env.redis.pause()
        self.addCleanup(self._resume_quietly)
        t0 = time.monotonic()
        try:
            r = c.call("GET", "k")
        except socket.timeout:
            self.fail("GET to a SIGSTOPped Redis: no answer within 3s")
        took = time.monotonic() - t0
        self.assertNotIsInstance(r, ReplyError, "GET while Redis is SIGSTOPped must be answered locally")
        self.assertLess(took, STALL_ANSWER_DEADLINE, "GET answered %.3fs after SIGSTOP" % took)
        self.assertEqual(mode(self.port), "down")
        # Later requests do not wait for the timeout any more.
        r, took = timed_call(c, "SET", "k", "local-value")
        self.assertEqual(r, b"OK")
        self.assertLess(took, 0.5)

        self.env.redis.resume()
        t0 = time.monotonic()
        wait_mode(self.port, "up", UP_DEADLINE + 1.0, "mode:up after SIGCONT")
        took = time.monotonic() - t0
        self.assertLess(took, UP_DEADLINE, "mode:up %.2fs after SIGCONT" % took)
        # Forwarding again: Redis's value (the local write was not Redis's).
        self.assertEqual(c.call("GET", "k"), b"redis-value")

    def test_restart_cycles_are_counted(self):
        base = transitions(self.port)
        self.assertEqual(mode(self.port), "up")
        cycles = 3
        c = self.client(timeout=3)
        for i in range(cycles):
            how = ("kill", "stop", "kill")[i]
            getattr(self.env.redis, how)()
            wait_mode(self.port, "down", 3.0, "mode:down after Redis %s (cycle %d)" % (how, i))
            self.assertEqual(transitions(self.port), base + 2 * i + 1, "after going down in cycle %d" % i)
            self.assertEqual(c.call("SET", "cycle", i), b"OK")
            self.env.start_redis()
            took = wait_mode(self.port, "up", UP_DEADLINE + 1.0, "mode:up after restart (cycle %d)" % i)
            self.assertLess(took, UP_DEADLINE, "cycle %d: mode:up %.2fs after Redis started" % (i, took))
            self.assertEqual(transitions(self.port), base + 2 * i + 2, "after coming up in cycle %d" % i)
            self.assertEqual(c.call("SET", "cycle-up", i), b"OK")
            self.assertEqual(self.env.redis_call("GET", "cycle-up"), str(i).encode())
        # A pause/resume cycle counts the same way.
        self.env.redis.pause()
        self.addCleanup(self._resume_quietly)
        wait_mode(self.port, "down", 2.0, "mode:down after SIGSTOP")
        self.env.redis.resume()
        wait_mode(self.port, "up", UP_DEADLINE + 1.0, "mode:up after SIGCONT")
        self.assertEqual(transitions(self.port), base + 2 * cycles + 2)

    def test_idle_stall_detected_by_heartbeat(self):
        # No client traffic at all: only the heartbeat can notice that Redis hangs.
        self.assertEqual(mode(self.port), "up")
        time.sleep(0.3)
        self.env.redis.pause()
        self.addCleanup(self._resume_quietly)
        time.sleep(1.0)
        # INFO sidecar is answered by the sidecar itself: it sends nothing to Redis.
        t0 = time.monotonic()
        fields = info_sidecar(self.port)
        self.assertLess(time.monotonic() - t0, 0.5, "INFO sidecar with a stalled Redis must not wait for it")
        if fields.get("mode") != "down":
            # Grace for a loaded machine, but no client request may be what notices it.
            wait_mode(self.port, "down", 0.5, "mode:down ~1s after an idle Redis was SIGSTOPped")
        # The first request after that is answered at once from the local store.
        with RawClient(self.port, timeout=2) as c:
            r, took = timed_call(c, "GET", "idle")
            self.assertIsNone(r)
            self.assertLess(took, 0.5, "GET after idle detection took %.3fs" % took)


@sidecar_only("pinned connections are the sidecar's")
class PinnedClientsTest(DegradedTestCase):

    def _pinned_clients(self):
        sub = self.client(timeout=3)
        sub.send(encode("SUBSCRIBE", "news"))
        self.assertEqual(sub.read_reply(), [b"subscribe", b"news", 1])
        blocked = self.client(timeout=3)
        blocked.send(encode("BLPOP", "never", "0"))
        tx = self.client(timeout=3)
        self.assertEqual(tx.call("MULTI"), b"OK")
        self.assertEqual(tx.call("INCR", "t"), b"QUEUED")
        time.sleep(0.2)  # BLPOP reached Redis
        return sub, blocked, tx

    def _assert_released(self, client, what, deadline, allow_error=True):
        t0 = time.monotonic()
        try:
            r = read_or_closed(client, deadline)
        except socket.timeout:
            self.fail("%s: neither closed nor answered %.1fs after Redis went away (hung)" % (what, deadline))
        if isinstance(r, ConnectionClosed):
            return
        self.assertTrue(allow_error and isinstance(r, ReplyError), "%s: got %r" % (what, r))
        self.assertLess(time.monotonic() - t0, deadline)

    def test_pinned_clients_closed_when_redis_killed(self):
        sub, blocked, tx = self._pinned_clients()
        self.env.redis.kill()
        self._assert_released(sub, "SUBSCRIBE client after SIGKILL", PINNED_DEADLINE)
        self._assert_released(blocked, "BLPOP client after SIGKILL", PINNED_DEADLINE)
        try:
            tx.send(encode("EXEC"))
        except OSError:
            pass  # already closed: fine
        self._assert_released(tx, "MULTI client after SIGKILL", PINNED_DEADLINE)
        # A new connection is served locally at once.
        with RawClient(self.port, timeout=2) as c:
            self.assertEqual(c.call("SET", "x", "1"), b"OK")
            self.assertEqual(c.call("GET", "x"), b"1")

    def test_pinned_clients_closed_when_circuit_opens_on_stalled_redis(self):
        # SIGSTOP: the pinned sockets stay open, Redis never answers. Once the sidecar has
        # declared Redis down (heartbeat/timeout), a pinned client must not hang forever on it:
        # it is closed (or gets an error) so that it reconnects and is served locally.
        sub, blocked, tx = self._pinned_clients()
        self.env.redis.pause()
        self.addCleanup(self._resume_quietly)
        wait_mode(self.port, "down", 2.0, "mode:down after SIGSTOP (idle heartbeat)")
        self._assert_released(sub, "SUBSCRIBE client after Redis stalled and mode:down", PINNED_DEADLINE)
        self._assert_released(blocked, "BLPOP client after Redis stalled and mode:down", PINNED_DEADLINE)
        try:
            tx.send(encode("EXEC"))
        except OSError:
            pass
        self._assert_released(tx, "EXEC of a MULTI client after Redis stalled and mode:down", PINNED_DEADLINE)


if __name__ == "__main__":
    unittest.main()
