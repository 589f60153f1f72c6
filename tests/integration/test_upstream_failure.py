"""Redis dies, stalls or is missing: clients waiting on it get an error reply, never a hang.

In direct mode (no sidecar) "an error" is the connection going away, which is what Redis itself
does; the sidecar must instead answer `-ERR ...` and keep the client connection usable.
"""

import socket
import time
import unittest

from harness import (DIRECT, ConnectionClosed, Env, FreshEnvTestCase, RawClient, ReplyError, Sidecar,
                     encode, free_port, ping_ok, sidecar_only, wait_for, RedisServer)

# How long a waiting client may wait for its error once Redis is gone (seconds).
ERROR_DEADLINE = 3.0


def info_sidecar(client):
    r = client.call("INFO", "sidecar")
    if isinstance(r, ReplyError):
        raise AssertionError("INFO sidecar -> %r" % r)
    fields = {}
    for line in r.decode().splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            fields[k] = v
    return fields


class FailureCase(FreshEnvTestCase):

    def expect_errors(self, client, count, what, close_ok=False):
        """Reads `count` replies within ERROR_DEADLINE; each must be an -ERR (or, direct, a close).

        `close_ok`: a pinned client (BLPOP, MULTI, SUBSCRIBE...) may be closed instead, since the
        state it had on its own Redis connection is gone (its library then raises and reconnects).
        """
        client.settimeout(ERROR_DEADLINE)
        t0 = time.monotonic()
        got = []
        for _ in range(count):
            try:
                got.append(client.read_reply())
            except ConnectionClosed:
                if DIRECT or close_ok:
                    return
                self.fail("%s: connection closed instead of an -ERR reply (after %r)" % (what, got))
            except socket.timeout:
                self.fail("%s: no reply within %.1fs (hang); got so far %r" % (what, ERROR_DEADLINE, got))
        elapsed = time.monotonic() - t0
        for r in got:
            self.assertIsInstance(r, ReplyError, "%s: expected -ERR ..., got %r" % (what, got))
            self.assertTrue(r.message.startswith("ERR"), "%s: expected -ERR ..., got %r" % (what, r))
        self.assertLess(elapsed, ERROR_DEADLINE)


class KillWithWaitersTest(FailureCase):
    # A long request timeout, so that what fails the requests is the lost connection itself.
    sidecar_args = ("--upstream-timeout", "10000")

    def test_redis_killed_while_requests_in_flight(self):
        clients = [self.client() for _ in range(10)]
        for c in clients:
            self.assertEqual(c.call("PING"), b"PONG")
            c.call_ok("GET", "warm")
        self.env.redis.pause()  # the requests below stay unanswered...
        for i, c in enumerate(clients):
            c.send(encode("INCR", "k%d" % i) + encode("LPUSH", "l%d" % i, "x"))
        time.sleep(0.3)
        self.env.redis.kill()  # ...until Redis vanishes
        for i, c in enumerate(clients):
            # Not idempotent: the sidecar cannot know whether Redis applied them.
            self.expect_errors(c, 2, "client %d, INCR/LPUSH in flight when Redis was killed" % i)

    def test_idempotent_requests_in_flight_get_an_answer(self):
        # Idempotent ones may be answered by the sidecar itself (DESIGN: mode DOWN) or get an
        # error; either way promptly, and consistently with each other.
        c = self.client()
        c.call_ok("GET", "warm")
        self.env.redis.pause()
        c.send(encode("SET", "s", "v") + encode("GET", "s") + encode("EXISTS", "s"))
        time.sleep(0.3)
        self.env.redis.kill()
        c.settimeout(ERROR_DEADLINE)
        try:
            got = [c.read_reply() for _ in range(3)]
        except socket.timeout:
            self.fail("SET/GET/EXISTS in flight when Redis was killed: no reply within %.1fs" % ERROR_DEADLINE)
        except ConnectionClosed:
            if DIRECT:
                return
            self.fail("SET/GET/EXISTS in flight when Redis was killed: connection closed")
        for r in got:
            if isinstance(r, ReplyError):
                self.assertTrue(r.message.startswith("ERR"), got)
        if got[0] == b"OK":
            self.assertIn(got[1], (b"v", ) + tuple(r for r in got[1:2] if isinstance(r, ReplyError)), got)

    def test_redis_killed_while_clients_blocked(self):
        blocked = [self.client() for _ in range(5)]
        for i, c in enumerate(blocked):
            c.send(encode("BLPOP", "never%d" % i, "0"))
        tx = self.client()
        self.assertEqual(tx.call("MULTI"), b"OK")
        self.assertEqual(tx.call("INCR", "t"), b"QUEUED")
        sub = self.client()
        sub.send(encode("SUBSCRIBE", "ch"))
        self.assertEqual(sub.read_reply(), [b"subscribe", b"ch", 1])
        time.sleep(0.3)
        self.env.redis.kill()
        for i, c in enumerate(blocked):
            self.expect_errors(c, 1, "client %d blocked in BLPOP when Redis was killed" % i, close_ok=True)
        # A client pinned in a transaction learns about it at its next command at the latest.
        try:
            tx.send(encode("EXEC"))
        except OSError:
            pass  # already closed
        self.expect_errors(tx, 1, "EXEC after Redis was killed mid-transaction", close_ok=True)
        # A subscriber must not wait forever for messages that will never come: it gets an
        # error (or, acceptable for pub/sub, a closed connection) within the deadline.
        sub.settimeout(ERROR_DEADLINE)
        try:
            r = sub.read_reply()
            self.assertIsInstance(r, ReplyError, "subscriber after Redis was killed: %r" % (r,))
        except ConnectionClosed:
            pass
        except socket.timeout:
            self.fail("subscriber got neither an error nor a close %.1fs after Redis was killed"
                      % ERROR_DEADLINE)

    def test_redis_stopped_cleanly_while_requests_in_flight(self):
        c = self.client()
        c.call_ok("SET", "x", "1")
        c.send(encode("BLPOP", "stop", "0"))
        time.sleep(0.2)
        self.env.redis.stop()  # SIGTERM: Redis closes its connections itself
        self.expect_errors(c, 1, "BLPOP when Redis shut down", close_ok=True)


@sidecar_only("Redis itself never times a request out")
class StalledRedisTest(FailureCase):
    sidecar_args = ("--upstream-timeout", "500")

    def test_stalled_redis_gives_errors_after_upstream_timeout(self):
        c = self.client()
        c.call_ok("SET", "x", "1")
        self.env.redis.pause()
        try:
            t0 = time.monotonic()
            c.send(encode("INCR", "x"))
            self.expect_errors(c, 1, "INCR to a SIGSTOPped Redis with --upstream-timeout 500")
            self.assertGreaterEqual(time.monotonic() - t0, 0.4, "error came before the timeout")
            # other clients are not stuck either
            d = self.client()
            d.send(encode("GET", "x"))
            d.settimeout(ERROR_DEADLINE)
            try:
                d.read_reply()
            except socket.timeout:
                self.fail("new request to a stalled Redis got no reply within %.1fs" % ERROR_DEADLINE)
        finally:
            self.env.redis.resume()
        # once Redis answers again, so does the sidecar
        e = self.client()
        wait_for(lambda: e.call("SET", "after", "1") == b"OK"
                 and self.env.redis_call("GET", "after") == b"1",
                 15, interval=0.2, what="forwarding to resume after SIGCONT")


@sidecar_only("needs the sidecar in front of Redis")
class DownAndRecoveryTest(FailureCase):

    def test_requests_while_redis_down_get_prompt_replies(self):
        self.env.redis.kill()
        time.sleep(0.2)
        c = self.client(timeout=ERROR_DEADLINE)
        self.assertEqual(c.call("PING"), b"PONG")
        for cmd in (("INCR", "down"), ("GET", "down"), ("LPUSH", "l", "x")):
            t0 = time.monotonic()
            try:
                r = c.call(*cmd)
            except socket.timeout:
                self.fail("%r while Redis is down: no reply within %.1fs" % (cmd, ERROR_DEADLINE))
            except ConnectionClosed:
                self.fail("%r while Redis is down: connection closed instead of a reply" % (cmd,))
            self.assertLess(time.monotonic() - t0, ERROR_DEADLINE)
            if isinstance(r, ReplyError):
                self.assertTrue(r.message.startswith("ERR"), "%r -> %r" % (cmd, r))
        wait_for(lambda: info_sidecar(c).get("mode") == "down", 10, interval=0.2,
                 what="INFO sidecar mode:down after Redis was killed")

    def test_recovery_after_redis_restart(self):
        c = self.client()
        c.call_ok("SET", "a", "1")
        self.env.redis.kill()
        time.sleep(0.5)
        self.env.redis.start()  # same port, empty dataset

        def forwarded():
            d = RawClient(self.env.port, timeout=2)
            try:
                ok = d.call("SET", "recovered", "yes") == b"OK"
            finally:
                d.close()
            with self.env.redis_client(timeout=2) as r:
                return ok and r.call("GET", "recovered") == b"yes"

        wait_for(forwarded, 15, interval=0.2, what="a SET through the sidecar to reach the restarted Redis")
        # the old client connection works again too
        wait_for(lambda: c.call("INCR", "old-client") and self.env.redis_call("GET", "old-client"),
                 10, interval=0.2, what="an existing client connection to work after recovery")
        wait_for(lambda: info_sidecar(c).get("mode") == "up", 10, interval=0.2, what="INFO sidecar mode:up")

    def test_repeated_flapping(self):
        c = self.client(timeout=ERROR_DEADLINE)
        for round_ in range(3):
            self.env.redis.kill()
            c.send(encode("INCR", "flap"))
            try:
                c.read_reply()
            except socket.timeout:
                self.fail("round %d: INCR while Redis down hung" % round_)
            self.env.redis.start()
            wait_for(lambda: c.call("SET", "flap-ok", round_) == b"OK"
                     and self.env.redis_call("GET", "flap-ok") == str(round_).encode(),
                     15, interval=0.2, what="recovery in round %d" % round_)
        self.assertTrue(self.env.sidecar.running())


@sidecar_only("starts the sidecar without Redis")
class StartWithoutRedisTest(unittest.TestCase):

    def test_sidecar_starts_and_answers_without_redis(self):
        env = Env()
        self.addCleanup(env.stop)
        redis_port = free_port()
        sc = Sidecar(env.tmp, redis_port)
        env.sidecar = sc
        sc.start(wait_upstream=False)  # waits until it answers PING
        with RawClient(sc.port, timeout=ERROR_DEADLINE) as c:
            try:
                r = c.call("GET", "k")
            except socket.timeout:
                self.fail("GET with no Redis at all: no reply within %.1fs" % ERROR_DEADLINE)
            if isinstance(r, ReplyError):
                self.assertTrue(r.message.startswith("ERR"), r)
            # Redis appears later: the sidecar starts forwarding to it
            env.redis = RedisServer(env.tmp, port=redis_port).start()

            def forwarded():
                with RawClient(sc.port, timeout=2) as d:
                    ok = d.call("SET", "late", "1") == b"OK"
                with RawClient(redis_port, timeout=2) as r:
                    return ok and r.call("GET", "late") == b"1"

            wait_for(forwarded, 15, interval=0.2, what="forwarding once Redis started")
        self.assertTrue(ping_ok(sc.port))


if __name__ == "__main__":
    unittest.main()
