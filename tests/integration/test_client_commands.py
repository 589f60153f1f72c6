"""Connection commands the sidecar answers itself or pins: CLIENT SETNAME/GETNAME/ID, HELLO, ECHO."""

import unittest

from harness import ReplyError, SidecarTestCase, encode, sidecar_only


class ClientCommandsTest(SidecarTestCase):

    def test_setname_getname(self):
        a, b = self.client(), self.client()
        self.assertIsNone(a.call("CLIENT", "GETNAME"))
        self.assertEqual(a.call("CLIENT", "SETNAME", "app-1"), b"OK")
        self.assertEqual(a.call("CLIENT", "GETNAME"), b"app-1")
        self.assertIsNone(b.call("CLIENT", "GETNAME"), "name leaked to another client")
        self.assertEqual(b.call("CLIENT", "SETNAME", "app-2"), b"OK")
        self.assertEqual(a.call("CLIENT", "GETNAME"), b"app-1")
        self.assertEqual(b.call("CLIENT", "GETNAME"), b"app-2")
        # forwarding still works for a named client
        self.assertEqual(a.call("SET", "named", "1"), b"OK")
        self.assertEqual(b.call("GET", "named"), b"1")

    def test_setname_lowercase_and_raw_bytes(self):
        c = self.client()
        c.send(encode("client", "setname", "x") + encode("client", "getname"))
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")
        self.assertEqual(c.read_raw_reply(), b"$1\r\nx\r\n")

    def test_setname_empty_clears(self):
        c = self.client()
        self.assertEqual(c.call("CLIENT", "SETNAME", "n"), b"OK")
        self.assertEqual(c.call("CLIENT", "SETNAME", ""), b"OK")
        self.assertIsNone(c.call("CLIENT", "GETNAME"))

    def test_setname_invalid(self):
        c = self.client()
        self.assertEqual(c.call("CLIENT", "SETNAME", "has space"),
                         ReplyError("ERR Client names cannot contain spaces, newlines or special characters."))
        self.assertIsNone(c.call("CLIENT", "GETNAME"))
        r = c.call("CLIENT", "SETNAME")
        self.assertIsInstance(r, ReplyError)
        self.assertTrue(r.message.startswith("ERR wrong number of arguments"), r)

    def test_client_id_distinct_and_stable(self):
        a, b = self.client(), self.client()
        ida, idb = a.call("CLIENT", "ID"), b.call("CLIENT", "ID")
        self.assertIsInstance(ida, int)
        self.assertIsInstance(idb, int)
        self.assertNotEqual(ida, idb)
        self.assertEqual(a.call("CLIENT", "ID"), ida)

    @sidecar_only("CLIENT SETINFO is Redis 7.2; the sidecar answers it itself for newer clients")
    def test_client_setinfo(self):
        c = self.client()
        self.assertEqual(c.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py"), b"OK")
        self.assertEqual(c.call("CLIENT", "SETINFO", "LIB-VER", "4.3.4"), b"OK")

    def test_hello_2(self):
        c = self.client()
        r = c.call("HELLO", "2")
        self.assertIsInstance(r, list)
        d = dict(zip(r[::2], r[1::2]))
        self.assertEqual(d[b"server"], b"redis")
        self.assertEqual(d[b"proto"], 2)
        self.assertIn(b"version", d)
        self.assertIn(b"id", d)
        self.assertEqual(c.call("SET", "h2", "1"), b"OK")

    def test_hello_3_switches_protocol(self):
        c = self.client()
        r = c.call("HELLO", "3")
        self.assertIsInstance(r, dict, r)
        self.assertEqual(r[b"proto"], 3)
        c.call_ok("HSET", "h", "f", "v")
        c.send(encode("HGETALL", "h"))
        self.assertEqual(c.read_raw_reply(), b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n")
        c.send(encode("GET", "missing"))
        self.assertEqual(c.read_raw_reply(), b"_\r\n")
        # another client stays on RESP2
        d = self.client()
        d.send(encode("HGETALL", "h"))
        self.assertEqual(d.read_raw_reply(), b"*2\r\n$1\r\nf\r\n$1\r\nv\r\n")
        d.send(encode("GET", "missing"))
        self.assertEqual(d.read_raw_reply(), b"$-1\r\n")

    def test_hello_without_version_and_with_setname(self):
        c = self.client()
        r = c.call("HELLO")
        self.assertIsInstance(r, list)
        self.assertEqual(dict(zip(r[::2], r[1::2]))[b"proto"], 2)
        r = c.call("HELLO", "2", "SETNAME", "via-hello")
        self.assertIsInstance(r, list, r)
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"via-hello")

    def test_reset(self):
        c = self.client()
        self.assertEqual(c.call("SELECT", "1"), b"OK")
        self.assertEqual(c.call("CLIENT", "SETNAME", "before-reset"), b"OK")
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("RESET"), b"RESET")
        self.assertIsNone(c.call("CLIENT", "GETNAME"))
        self.assertEqual(c.call("SET", "after-reset", "1"), b"OK")  # back on db 0
        self.assertEqual(self.redis_client().call("GET", "after-reset"), b"1")

    def test_name_survives_pinning(self):
        # The name a client set stays its name when it later gets a connection of its own.
        c = self.client()
        self.assertEqual(c.call("CLIENT", "SETNAME", "pinned-app"), b"OK")
        self.assertEqual(c.call("SELECT", "1"), b"OK")
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"pinned-app")
        d = self.client()
        self.assertEqual(d.call("CLIENT", "SETNAME", "tx-app"), b"OK")
        self.assertEqual(d.call("MULTI"), b"OK")
        self.assertEqual(d.call("EXEC"), [])
        self.assertEqual(d.call("CLIENT", "GETNAME"), b"tx-app")

    def test_client_reply_off_on(self):
        c, other = self.client(), self.client()
        c.send(encode("CLIENT", "REPLY", "OFF") + encode("SET", "silent", "1") + encode("INCR", "silentctr"))
        self.assertEqual(other.call("INCR", "other"), 1)  # others still get their replies
        c.send(encode("CLIENT", "REPLY", "ON"))
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")  # the first reply after OFF
        self.assertEqual(c.call("GET", "silent"), b"1")
        self.assertEqual(other.call("GET", "silentctr"), b"1")
        c.send(encode("CLIENT", "REPLY", "SKIP") + encode("INCR", "skip") + encode("INCR", "skip"))
        self.assertEqual(c.read_reply(), 2)

    def test_client_tracking_resp3(self):
        c, w = self.client(), self.client()
        self.assertEqual(c.call("HELLO", "3")[b"proto"], 3)
        self.assertEqual(c.call("CLIENT", "TRACKING", "ON"), b"OK")
        w.call_ok("SET", "tracked", "1")
        self.assertEqual(c.call("GET", "tracked"), b"1")
        w.call_ok("SET", "tracked", "2")
        c.send(encode("PING"))
        got = [c.read_reply(), c.read_reply()]  # the invalidation push and PONG, in some order
        self.assertIn([b"invalidate", [b"tracked"]], got, got)
        self.assertIn(b"PONG", got, got)

    def test_hello_bad_version(self):
        c = self.client()
        self.assertEqual(c.call("HELLO", "4"), ReplyError("NOPROTO unsupported protocol version"))

    def test_echo_and_ping_with_arg(self):
        c = self.client()
        c.send(encode("PING", "hello") + encode("ECHO", "e") + encode("PING"))
        self.assertEqual(c.read_raw_reply(), b"$5\r\nhello\r\n")
        self.assertEqual(c.read_raw_reply(), b"$1\r\ne\r\n")
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")
        r = c.call("PING", "a", "b")
        self.assertEqual(r, ReplyError("ERR wrong number of arguments for 'ping' command"))

    def test_unknown_command_error_passthrough(self):
        c = self.client()
        self.assertEqual(c.call("NOSUCH", "x"),
                         ReplyError("ERR unknown command 'NOSUCH', with args beginning with: 'x' "))
        self.assertEqual(c.call("GET"), ReplyError("ERR wrong number of arguments for 'get' command"))


if __name__ == "__main__":
    unittest.main()
