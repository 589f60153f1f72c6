"""INFO through the sidecar: Redis's sections plus `# Sidecar`; `INFO sidecar` alone."""

import time
import unittest

from harness import ReplyError, SidecarTestCase, encode, sidecar_only, wait_for

SIDECAR_FIELDS = ("mode", "upstream", "connected_clients", "pinned_connections", "requests_forwarded")


def sections(text):
    """{section name: {field: value}} of an INFO reply."""
    out, cur = {}, None
    for line in text.decode().split("\r\n"):
        if line.startswith("# "):
            cur = line[2:].strip()
            out[cur] = {}
        elif line and cur is not None and ":" in line:
            k, v = line.split(":", 1)
            out[cur][k] = v
    return out


class InfoTest(SidecarTestCase):

    def test_info_is_a_crlf_bulk_string(self):
        c = self.client()
        r = c.call("INFO")
        self.assertIsInstance(r, bytes)
        self.assertIn(b"# Server\r\n", r)
        self.assertIn(b"redis_version:", r)
        s = sections(r)
        for name in ("Server", "Clients", "Memory", "Stats", "Replication", "Keyspace"):
            self.assertIn(name, s)

    @sidecar_only("the Sidecar section")
    def test_info_default_has_sidecar_section(self):
        c = self.client()
        for args in (("INFO",), ("INFO", "default"), ("INFO", "all"), ("INFO", "everything"),
                     ("INFO", "ALL")):
            r = c.call(*args)
            self.assertIsInstance(r, bytes, args)
            self.assertIn(b"# Server\r\n", r, args)
            self.assertIn(b"\r\n# Sidecar\r\n", r, "%r has no '# Sidecar' section" % (args,))
            s = sections(r)
            for f in SIDECAR_FIELDS:
                self.assertIn(f, s["Sidecar"], "%r: Sidecar section lacks %s" % (args, f))
            self.assertFalse(r.endswith(b"\r\n\r\n\r\n"), args)

    @sidecar_only("the Sidecar section")
    def test_info_sidecar_alone(self):
        c = self.client()
        for arg in ("sidecar", "SIDECAR", "Sidecar"):
            r = c.call("INFO", arg)
            self.assertIsInstance(r, bytes, "INFO %s -> %r" % (arg, r))
            self.assertTrue(r.startswith(b"# Sidecar\r\n"), "INFO %s -> %r" % (arg, r[:200]))
            s = sections(r)
            self.assertEqual(list(s), ["Sidecar"], "INFO %s has other sections: %r" % (arg, list(s)))
            f = s["Sidecar"]
            self.assertEqual(f["mode"], "up")
            self.assertEqual(f["upstream"], "127.0.0.1:%d" % self.env.redis_port)
            for k in ("connected_clients", "pinned_connections", "requests_forwarded"):
                self.assertTrue(f[k].isdigit(), "%s:%r" % (k, f[k]))
            self.assertGreaterEqual(int(f["connected_clients"]), 1)

    @sidecar_only("the Sidecar section")
    def test_info_other_section_has_no_sidecar(self):
        c = self.client()
        r = c.call("INFO", "server")
        self.assertIn(b"# Server", r)
        self.assertNotIn(b"# Sidecar", r)
        r = c.call("INFO", "keyspace")
        self.assertNotIn(b"# Sidecar", r)

    @sidecar_only("the Sidecar section")
    def test_info_multiple_sections_including_sidecar(self):
        # Redis 7 accepts several section names; the Sidecar one comes with the others.
        c = self.client()
        r = c.call("INFO", "server", "sidecar")
        self.assertIsInstance(r, bytes, r)
        s = sections(r)
        self.assertIn("Sidecar", s, r[:300])
        self.assertIn("Server", s, r[:300])

    @sidecar_only("the Sidecar counters")
    def test_counters_move(self):
        c = self.client()

        def fields():
            return sections(c.call("INFO", "sidecar"))["Sidecar"]

        before = fields()
        for i in range(50):
            c.call_ok("SET", "k%d" % i, i)
        after = fields()
        self.assertGreaterEqual(int(after["requests_forwarded"]) - int(before["requests_forwarded"]), 50)

        base = int(after["connected_clients"])
        extra = [self.client() for _ in range(5)]
        for e in extra:
            e.call("PING")
        self.assertEqual(int(fields()["connected_clients"]), base + 5)
        for e in extra:
            e.close()
        wait_for(lambda: int(fields()["connected_clients"]) == base, 5, what="connected_clients to drop back")

        pinned0 = int(fields()["pinned_connections"])
        p = self.client()
        self.assertEqual(p.call("SELECT", "1"), b"OK")
        self.assertEqual(p.call("PING"), b"PONG")
        wait_for(lambda: int(fields()["pinned_connections"]) == pinned0 + 1, 5,
                 what="pinned_connections to grow after SELECT 1")
        p.close()
        wait_for(lambda: int(fields()["pinned_connections"]) == pinned0, 5,
                 what="pinned_connections to drop after the pinned client left")

    def assert_sidecar_section(self, reply, what):
        self.assertIsInstance(reply, bytes, "%s -> %r" % (what, reply))
        self.assertTrue(reply.startswith(b"# Sidecar\r\n"), "%s -> %r" % (what, reply[:200]))
        self.assertEqual(list(sections(reply)), ["Sidecar"], what)
        return sections(reply)["Sidecar"]

    @sidecar_only("the Sidecar section")
    def test_info_sidecar_on_pinned_client(self):
        # An app that uses db 1 (SELECT 1, so pinned) still sees the sidecar's section, in its
        # place among Redis's replies.
        c = self.client()
        self.assertEqual(c.call("SELECT", "1"), b"OK")
        fields = self.assert_sidecar_section(c.call("INFO", "sidecar"), "INFO sidecar after SELECT 1")
        self.assertGreaterEqual(int(fields["pinned_connections"]), 1)
        self.assertEqual(fields["mode"], "up")
        c.send(encode("SET", "pinned_info", "v") + encode("INFO", "SIDECAR", "sidecar") + encode("GET", "pinned_info"))
        self.assertEqual(c.read_reply(), b"OK")
        self.assert_sidecar_section(c.read_reply(), "pipelined INFO SIDECAR sidecar")
        self.assertEqual(c.read_reply(), b"v")
        # Inline, and cut into single bytes: the request is held until it is whole.
        c.send(b"  info   Sidecar \r\n")
        self.assert_sidecar_section(c.read_reply(), "inline INFO sidecar")
        for byte in encode("INFO", "sidecar"):
            c.send(bytes([byte]))
        self.assert_sidecar_section(c.read_reply(), "INFO sidecar sent byte by byte")
        # Other sections are still Redis's, from db 1's connection.
        self.assertIn(b"db1:keys=", c.call("INFO", "keyspace"))
        self.assertEqual(c.call("INFO", "server", "sidecar")[:9], b"# Server\r")

    @sidecar_only("the Sidecar section")
    def test_info_sidecar_in_a_pinned_transaction(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("INFO", "sidecar"), b"QUEUED")
        self.assertEqual(c.call("INCR", "pinned_info_counter"), b"QUEUED")
        replies = c.call("EXEC")
        self.assertIsInstance(replies, list, replies)
        self.assert_sidecar_section(replies[0], "INFO sidecar in MULTI")
        self.assertEqual(replies[1], 1)

    @sidecar_only("the Sidecar section")
    def test_info_on_pinned_client_has_the_sidecar_section(self):
        c = self.client()
        self.assertEqual(c.call("SELECT", "1"), b"OK")
        for args in (("INFO",), ("INFO", "all"), ("info", "DEFAULT"), ("INFO", "everything")):
            r = c.call(*args)
            self.assertIn(b"# Server\r\n", r, args)
            self.assertIn(b"\r\n# Sidecar\r\n", r, "%r after SELECT 1 has no Sidecar section" % (args,))
            self.assertIn("pinned_connections", sections(r)["Sidecar"], args)
        r = c.call("INFO", "keyspace", "sidecar")
        self.assertEqual(list(sections(r)), ["Keyspace", "Sidecar"], r[:300])
        self.assertNotIn(b"# Sidecar", c.call("INFO", "server"))
        # Pipelined between other requests, each reply in its place.
        c.send(encode("SET", "pinned_info", "# Server-like value") + encode("INFO") + encode("GET", "pinned_info") +
               encode("INFO", "all"))
        self.assertEqual(c.read_reply(), b"OK")
        self.assertIn(b"\r\n# Sidecar\r\n", c.read_reply())
        self.assertEqual(c.read_reply(), b"# Server-like value")
        self.assertIn(b"\r\n# Sidecar\r\n", c.read_reply())

    @sidecar_only("the Sidecar section")
    def test_info_after_subscribing_is_redis_own(self):
        # Once a pinned connection subscribed, replies no longer pair with requests one to one:
        # the sidecar leaves INFO to Redis (INFO sidecar still works, sent as ECHO).
        c = self.client()
        c.send(encode("SUBSCRIBE", "a", "b"))
        self.assertEqual(c.read_reply(), [b"subscribe", b"a", 1])
        self.assertEqual(c.read_reply(), [b"subscribe", b"b", 2])
        c.send(encode("UNSUBSCRIBE"))
        replies = [c.read_reply(), c.read_reply()]
        self.assertEqual(sorted(r[1] for r in replies), [b"a", b"b"])
        c.call_ok("SET", "after_subscribe", "v")
        r = c.call("INFO")
        self.assertIn(b"# Server\r\n", r)
        self.assertNotIn(b"# Sidecar", r)
        self.assertEqual(c.call("GET", "after_subscribe"), b"v")
        self.assert_sidecar_section(c.call("INFO", "sidecar"), "INFO sidecar after SUBSCRIBE")

    @sidecar_only("the Sidecar section")
    def test_info_inside_multi_is_queued(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("INFO", "server"), b"QUEUED")
        r = c.call("EXEC")
        self.assertIsInstance(r, list)
        self.assertIn(b"# Server", r[0])

    def test_info_bad_arity_is_redis_error(self):
        c = self.client()
        r = c.call("INFO", "nosuchsection")
        self.assertEqual(r, b"")  # Redis answers an empty bulk for an unknown section
        time.sleep(0)
        self.assertNotIsInstance(c.call("INFO", "keyspace"), ReplyError)


if __name__ == "__main__":
    unittest.main()
