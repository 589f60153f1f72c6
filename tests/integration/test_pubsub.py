"""SUBSCRIBE/PSUBSCRIBE and PUBLISH through the sidecar (RESP2 and RESP3)."""

import socket
import time
import unittest

from harness import SidecarTestCase, encode


class PubSubTest(SidecarTestCase):

    def subscribed(self, *channels):
        c = self.client()
        c.send(encode("SUBSCRIBE", *channels))
        for i, ch in enumerate(channels):
            self.assertEqual(c.read_reply(), [b"subscribe", ch.encode(), i + 1])
        return c

    def test_subscribe_publish(self):
        sub = self.subscribed("ch")
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "ch", "hello"), 1)
        self.assertEqual(sub.read_raw_reply(), b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n")
        self.assertEqual(pub.call("PUBLISH", "other", "x"), 0)

    def test_many_messages_in_order(self):
        sub = self.subscribed("seq")
        pub = self.client()
        pub.send(b"".join(encode("PUBLISH", "seq", "m%d" % i) for i in range(1000)))
        self.assertEqual([pub.read_reply() for _ in range(1000)], [1] * 1000)
        for i in range(1000):
            self.assertEqual(sub.read_reply(), [b"message", b"seq", b"m%d" % i])

    def test_several_subscribers(self):
        subs = [self.subscribed("fan") for _ in range(5)]
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "fan", "all"), 5)
        for s in subs:
            self.assertEqual(s.read_reply(), [b"message", b"fan", b"all"])

    def test_psubscribe(self):
        c = self.client()
        c.send(encode("PSUBSCRIBE", "news.*"))
        self.assertEqual(c.read_reply(), [b"psubscribe", b"news.*", 1])
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "news.tech", "n1"), 1)
        self.assertEqual(c.read_reply(), [b"pmessage", b"news.*", b"news.tech", b"n1"])

    def test_ping_in_subscribed_mode(self):
        # RESP2 clients in subscribed mode get ["pong", ""] from Redis, not +PONG.
        sub = self.subscribed("p")
        sub.send(encode("PING"))
        self.assertEqual(sub.read_raw_reply(), b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        sub.send(encode("PING", "hi"))
        self.assertEqual(sub.read_reply(), [b"pong", b"hi"])

    def test_command_not_allowed_in_subscribed_mode(self):
        sub = self.subscribed("na")
        sub.send(encode("GET", "x"))
        r = sub.read_reply()
        self.assertTrue(hasattr(r, "message") and "only" in r.message.lower(), r)

    def test_unsubscribe_returns_to_normal(self):
        sub = self.subscribed("a", "b")
        sub.send(encode("UNSUBSCRIBE"))
        got = [sub.read_reply(), sub.read_reply()]
        self.assertEqual(sorted(g[1] for g in got), [b"a", b"b"])
        self.assertEqual(sorted(g[2] for g in got), [0, 1])
        self.assertEqual(sub.call("SET", "after-unsub", "1"), b"OK")
        self.assertEqual(sub.call("PING"), b"PONG")
        # no longer receives messages
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "a", "x"), 0)

    def test_subscriber_disconnect_releases_subscription(self):
        sub = self.subscribed("bye")
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "bye", "1"), 1)
        sub.close()
        deadline = time.monotonic() + 5
        n = 1
        while time.monotonic() < deadline:
            n = pub.call("PUBLISH", "bye", "2")
            if n == 0:
                break
            time.sleep(0.05)
        self.assertEqual(n, 0, "subscription still alive upstream 5 s after the client left")

    def test_resp3_push_messages(self):
        c = self.client()
        hello = c.call("HELLO", "3")
        self.assertIsInstance(hello, dict)
        self.assertEqual(hello[b"proto"], 3)
        c.send(encode("SUBSCRIBE", "r3"))
        self.assertEqual(c.read_raw_reply(), b">3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n")
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "r3", "m"), 1)
        self.assertEqual(c.read_raw_reply(), b">3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$1\r\nm\r\n")
        # In RESP3 ordinary commands are allowed while subscribed.
        self.assertEqual(c.call("SET", "r3k", "v"), b"OK")
        self.assertEqual(c.call("GET", "r3k"), b"v")

    def test_idle_subscriber_outlives_upstream_timeout(self):
        sub = self.subscribed("quiet")
        time.sleep(1.5)  # no traffic for longer than the default --upstream-timeout
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "quiet", "late"), 1)
        self.assertEqual(sub.read_reply(), [b"message", b"quiet", b"late"])

    def test_quit_in_subscribed_mode(self):
        sub = self.subscribed("q")
        sub.send(encode("QUIT"))
        sub.settimeout(5)
        self.assertEqual(sub.read_until_close(), b"+OK\r\n")

    def test_monitor_sees_other_clients(self):
        mon = self.client()
        mon.send(encode("MONITOR"))
        self.assertEqual(mon.read_reply(), b"OK")
        other = self.client()
        other.call_ok("SET", "monitored-key", "1")
        deadline = time.monotonic() + 5
        seen = b""
        while b"monitored-key" not in seen and time.monotonic() < deadline:
            seen += mon.read_reply()
        self.assertIn(b'"SET" "monitored-key" "1"', seen)

    def test_no_stray_messages_to_non_subscribers(self):
        self.subscribed("stray")
        other = self.client(timeout=0.3)
        pub = self.client()
        self.assertEqual(pub.call("PUBLISH", "stray", "x"), 1)
        self.assertEqual(other.call("PING"), b"PONG")
        with self.assertRaises(socket.timeout):
            other.read_reply()


if __name__ == "__main__":
    unittest.main()
