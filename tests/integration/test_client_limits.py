"""Client limits with Redis's semantics: client-query-buffer-limit, client-output-buffer-limit
(normal class) and the idle `timeout`. Each closes the client without a reply, as Redis does.

In direct mode (INTEGRATION_DIRECT=1) Redis itself gets the same limits, so the tests check
themselves against Redis.
"""

import socket
import time
import unittest

from harness import DIRECT, SidecarTestCase, encode, sidecar_only

BIG = 1024 * 1024  # a 1 MB value


class _Limits(SidecarTestCase):

    def counter(self, name):
        return int(self.env.sidecar.info_fields()[name])


class QueryBufferLimitTest(_Limits):
    sidecar_args = ("--client-query-buffer-limit", "1mb")
    redis_args = sidecar_args if DIRECT else ()

    def test_huge_unterminated_bulk_closes_the_connection(self):
        before = None if DIRECT else self.counter("client_query_buffer_limit_disconnections")
        c = self.client()
        c.send(encode("PING"))
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")
        c.send(b"*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$4000000\r\n")
        sent = 0
        try:
            while sent < 3_000_000:
                c.sock.sendall(b"x" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed, got = c.closed_within(10)
        self.assertTrue(closed, "connection still open after %d bytes of one unfinished bulk" % sent)
        self.assertEqual(got, 0, "Redis closes without a reply")
        if not DIRECT:
            self.assertEqual(self.counter("client_query_buffer_limit_disconnections"), before + 1)
        # others are not affected, and a command under the limit is fine
        d = self.client()
        self.assertEqual(d.call("SET", "under", "y" * 500_000), b"OK")
        self.assertEqual(len(d.call("GET", "under")), 500_000)


class ProtoMaxBulkLenTest(_Limits):
    sidecar_args = ("--proto-max-bulk-len", "2mb")
    redis_args = sidecar_args if DIRECT else ()

    def test_bulk_over_the_configured_length(self):
        c = self.client(timeout=5)
        c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n" % (2 * BIG + 1))
        self.assertEqual(c.read_until_close(), b"-ERR Protocol error: invalid bulk length\r\n")
        d = self.client()
        self.assertEqual(d.call("SET", "k", "z" * (2 * BIG)), b"OK")


class OutputBufferHardLimitTest(_Limits):
    sidecar_args = ("--client-output-buffer-limit", "2mb 0 0")
    redis_args = ("--client-output-buffer-limit", "normal 2mb 0 0") if DIRECT else ()

    def test_client_that_does_not_read_is_closed(self):
        before = None if DIRECT else self.counter("client_output_buffer_limit_disconnections")
        self.redis_client().call_ok("SET", "big", "v" * BIG)
        c = self.client()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        c.send(b"".join(encode("GET", "big") for _ in range(100)))  # 100 MB of replies, never read
        time.sleep(1.0)
        closed, got = c.closed_within(15)
        self.assertTrue(closed, "a client with 100 MB of unread replies was not closed")
        self.assertLess(got, 60 * BIG, "most of the replies should never have been sent")
        if not DIRECT:
            self.assertEqual(self.counter("client_output_buffer_limit_disconnections"), before + 1)

    def test_client_that_reads_is_not_closed(self):
        self.redis_client().call_ok("SET", "big", "v" * BIG)
        c = self.client()
        for _ in range(5):
            c.send(encode("GET", "big"))
            self.assertEqual(len(c.read_reply()), BIG)
        self.assertEqual(c.call("PING"), b"PONG")


class OutputBufferSoftLimitTest(_Limits):
    sidecar_args = ("--client-output-buffer-limit", "0 1mb 1")
    redis_args = ("--client-output-buffer-limit", "normal 0 1mb 1") if DIRECT else ()

    def test_over_the_soft_limit_for_too_long(self):
        before = None if DIRECT else self.counter("client_output_buffer_limit_disconnections")
        self.redis_client().call_ok("SET", "big", "v" * BIG)
        c = self.client()
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        c.send(b"".join(encode("GET", "big") for _ in range(30)))
        time.sleep(2.5)
        # Redis looks at the soft limit when it adds a reply (the sidecar also once a second)
        try:
            c.send(encode("PING"))
        except OSError:
            pass
        closed, _ = c.closed_within(10)
        self.assertTrue(closed, "a client over the soft limit for more than its seconds was not closed")
        if not DIRECT:
            self.assertEqual(self.counter("client_output_buffer_limit_disconnections"), before + 1)


class IdleTimeoutTest(_Limits):
    sidecar_args = ("--timeout", "1")
    redis_args = sidecar_args if DIRECT else ()

    def test_idle_client_is_closed_and_active_one_is_not(self):
        before = None if DIRECT else self.counter("client_idle_timeout_disconnections")
        idle, active = self.client(), self.client()
        self.assertEqual(idle.call("PING"), b"PONG")
        started = time.monotonic()
        idle.sock.settimeout(0.05)
        idle_closed_after = None
        while time.monotonic() - started < 4.0:
            self.assertEqual(active.call("PING"), b"PONG")
            if idle_closed_after is None:
                try:
                    if idle.sock.recv(100) == b"":
                        idle_closed_after = time.monotonic() - started
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    idle_closed_after = time.monotonic() - started
            time.sleep(0.25)
        self.assertIsNotNone(idle_closed_after, "an idle client was not closed within 4 s (timeout 1)")
        self.assertGreater(idle_closed_after, 0.9)
        self.assertLess(idle_closed_after, 3.5)
        self.assertEqual(active.call("GET", "nothing"), None)
        if not DIRECT:
            self.assertEqual(self.counter("client_idle_timeout_disconnections"), before + 1)

    def test_blocked_and_subscribed_clients_are_not_timed_out(self):
        blocked, subscriber = self.client(), self.client()
        blocked.send(encode("BLPOP", "never", "0"))
        self.assertEqual(subscriber.call("SUBSCRIBE", "quiet"), [b"subscribe", b"quiet", 1])
        time.sleep(3.0)
        self.assertEqual(self.redis_client().call("LPUSH", "never", "x"), 1)
        self.assertEqual(blocked.read_reply(), [b"never", b"x"])
        self.assertEqual(self.redis_client().call("PUBLISH", "quiet", "hi"), 1)
        self.assertEqual(subscriber.read_reply(), [b"message", b"quiet", b"hi"])


class DefaultsTest(_Limits):
    """Redis's defaults: 1 GB query buffer, no output limit, no timeout."""

    @sidecar_only("reads the sidecar's defaults")
    def test_defaults(self):
        c = self.client()
        self.assertEqual(c.call("SET", "big3", "q" * (3 * BIG)), b"OK")
        c.send(b"".join(encode("GET", "big3") for _ in range(3)))
        for _ in range(3):
            self.assertEqual(len(c.read_reply()), 3 * BIG)
        time.sleep(1.5)
        self.assertEqual(c.call("PING"), b"PONG")


if __name__ == "__main__":
    unittest.main()
