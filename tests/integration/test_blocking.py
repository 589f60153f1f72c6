"""Blocking commands (BLPOP, BRPOP, BLMOVE, BZPOPMIN, XREAD BLOCK) through the sidecar.

A blocked client must not hold up the other clients, and must be woken by their writes.
"""

import socket
import time
import unittest

from harness import SidecarTestCase, encode


class BlockingTest(SidecarTestCase):

    def test_blpop_woken_by_other_clients_lpush(self):
        a, b = self.client(), self.client()
        a.send(encode("BLPOP", "q", "5"))
        time.sleep(0.2)
        t0 = time.monotonic()
        self.assertEqual(b.call("LPUSH", "q", "v"), 1)
        self.assertEqual(a.read_reply(), [b"q", b"v"])
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(b.call("LLEN", "q"), 0)

    def test_blpop_times_out_with_nil(self):
        c = self.client()
        t0 = time.monotonic()
        c.send(encode("BLPOP", "empty", "0.3"))
        self.assertEqual(c.read_raw_reply(), b"*-1\r\n")
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)

    def test_blocked_client_does_not_block_others(self):
        blocked = [self.client() for _ in range(8)]
        for i, c in enumerate(blocked):
            c.send(encode("BLPOP", "bq%d" % i, "0"))
        time.sleep(0.2)
        # many other clients keep being served while 8 clients are blocked forever
        others = [self.client(timeout=3) for _ in range(10)]
        t0 = time.monotonic()
        expected = 0
        for _ in range(20):
            for o in others:
                expected += 1
                self.assertEqual(o.call("INCR", "free"), expected)
        self.assertLess(time.monotonic() - t0, 5.0)
        # then wake each blocked one
        w = self.client()
        for i, c in enumerate(blocked):
            w.call_ok("RPUSH", "bq%d" % i, "x%d" % i)
            self.assertEqual(c.read_reply(), [b"bq%d" % i, b"x%d" % i])

    def test_blocked_client_pipeline_continues_after_wakeup(self):
        a, b = self.client(), self.client()
        a.send(encode("BLPOP", "pq", "5") + encode("INCR", "after") + encode("PING"))
        time.sleep(0.2)
        b.call_ok("LPUSH", "pq", "v")
        self.assertEqual(a.read_reply(), [b"pq", b"v"])
        self.assertEqual(a.read_reply(), 1)
        self.assertEqual(a.read_reply(), b"PONG")

    def test_two_blocked_clients_served_in_order(self):
        a, b, w = self.client(), self.client(), self.client()
        a.send(encode("BRPOP", "fifo", "5"))
        time.sleep(0.15)
        b.send(encode("BRPOP", "fifo", "5"))
        time.sleep(0.15)
        w.call_ok("RPUSH", "fifo", "1", "2")
        self.assertEqual(a.read_reply(), [b"fifo", b"2"])
        self.assertEqual(b.read_reply(), [b"fifo", b"1"])

    def test_blmove_and_bzpopmin(self):
        a, w = self.client(), self.client()
        a.send(encode("BLMOVE", "src", "dst", "LEFT", "RIGHT", "5"))
        time.sleep(0.15)
        w.call_ok("RPUSH", "src", "m")
        self.assertEqual(a.read_reply(), b"m")
        self.assertEqual(w.call("LRANGE", "dst", 0, -1), [b"m"])
        a.send(encode("BZPOPMIN", "z", "5"))
        time.sleep(0.15)
        w.call_ok("ZADD", "z", "3", "c", "1", "a")
        self.assertEqual(a.read_reply(), [b"z", b"a", b"1"])

    def test_xread_block_woken_by_xadd(self):
        a, w = self.client(), self.client()
        a.send(encode("XREAD", "BLOCK", "5000", "STREAMS", "s", "$"))
        time.sleep(0.2)
        xid = w.call("XADD", "s", "*", "f", "v")
        reply = a.read_reply()
        self.assertEqual(reply, [[b"s", [[xid, [b"f", b"v"]]]]])

    def test_xread_block_times_out(self):
        c = self.client()
        c.send(encode("XREAD", "BLOCK", "200", "STREAMS", "none", "$"))
        self.assertEqual(c.read_raw_reply(), b"*-1\r\n")

    def test_blocking_longer_than_upstream_timeout(self):
        # A blocking command is not a stalled Redis: the default --upstream-timeout (500 ms)
        # must not fail it.
        c = self.client()
        t0 = time.monotonic()
        c.send(encode("BLPOP", "slow", "1.5"))
        self.assertEqual(c.read_raw_reply(), b"*-1\r\n")
        c.send(encode("XREAD", "BLOCK", "1200", "STREAMS", "slowstream", "$"))
        self.assertEqual(c.read_raw_reply(), b"*-1\r\n")
        c.send(encode("WAIT", "1", "1000"))
        self.assertEqual(c.read_raw_reply(), b":0\r\n")
        self.assertGreaterEqual(time.monotonic() - t0, 3.5)
        self.assertEqual(c.call("PING"), b"PONG")

    def test_blpop_woken_after_upstream_timeout(self):
        a, w = self.client(), self.client()
        a.send(encode("BLPOP", "late", "5"))
        time.sleep(1.2)
        w.call_ok("RPUSH", "late", "x")
        self.assertEqual(a.read_reply(), [b"late", b"x"])

    def test_client_disconnecting_while_blocked(self):
        # The blocked BLPOP of a client that went away must not steal a later push.
        a = self.client()
        a.send(encode("BLPOP", "gone", "0"))
        time.sleep(0.2)
        a.close()
        time.sleep(0.3)
        w = self.client()
        w.call_ok("LPUSH", "gone", "v")
        time.sleep(0.2)
        self.assertEqual(w.call("LRANGE", "gone", 0, -1), [b"v"])

    def test_blocked_client_not_answered_early(self):
        c = self.client(timeout=0.5)
        c.send(encode("BLPOP", "never", "0"))
        with self.assertRaises(socket.timeout):
            c.read_reply()


if __name__ == "__main__":
    unittest.main()
