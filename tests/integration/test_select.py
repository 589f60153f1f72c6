"""SELECT through the sidecar: a client on db 1 is isolated from db 0, and from other clients."""

import unittest

from harness import ReplyError, SidecarTestCase, encode


class SelectTest(SidecarTestCase):

    def test_select_1_isolated_from_db_0(self):
        a, b = self.client(), self.client()
        self.assertEqual(a.call("SELECT", "1"), b"OK")
        self.assertEqual(a.call("SET", "k", "in-db1"), b"OK")
        self.assertIsNone(b.call("GET", "k"))
        self.assertEqual(b.call("SET", "k", "in-db0"), b"OK")
        self.assertEqual(a.call("GET", "k"), b"in-db1")
        self.assertEqual(b.call("GET", "k"), b"in-db0")
        self.assertEqual(a.call("DBSIZE"), 1)
        # checked on Redis itself
        r = self.redis_client()
        self.assertEqual(r.call("GET", "k"), b"in-db0")
        self.assertEqual(r.call("SELECT", "1"), b"OK")
        self.assertEqual(r.call("GET", "k"), b"in-db1")

    def test_select_does_not_leak_to_other_clients(self):
        for _ in range(5):
            a = self.client()
            self.assertEqual(a.call("SELECT", "2"), b"OK")
            self.assertEqual(a.call("SET", "leak", "db2"), b"OK")
            a.close()
        for _ in range(10):
            b = self.client()
            self.assertIsNone(b.call("GET", "leak"))
            self.assertEqual(b.call("SET", "leak0", "db0"), b"OK")
        self.assertEqual(self.redis_client().call("GET", "leak0"), b"db0")

    def test_select_back_to_0(self):
        a = self.client()
        self.assertEqual(a.call("SELECT", "1"), b"OK")
        self.assertEqual(a.call("SET", "back", "1"), b"OK")
        self.assertEqual(a.call("SELECT", "0"), b"OK")
        self.assertIsNone(a.call("GET", "back"))
        self.assertEqual(a.call("SET", "back", "0"), b"OK")
        self.assertEqual(self.redis_client().call("GET", "back"), b"0")

    def test_select_0_keeps_db_0(self):
        a = self.client()
        self.assertEqual(a.call("SELECT", "0"), b"OK")
        self.assertEqual(a.call("SET", "z", "v"), b"OK")
        self.assertEqual(self.redis_client().call("GET", "z"), b"v")

    def test_select_invalid(self):
        a = self.client()
        self.assertEqual(a.call("SELECT", "99"), ReplyError("ERR DB index is out of range"))
        self.assertEqual(a.call("SELECT", "x"), ReplyError("ERR value is not an integer or out of range"))
        # still on db 0
        self.assertEqual(a.call("SET", "inv", "v"), b"OK")
        self.assertEqual(self.redis_client().call("GET", "inv"), b"v")

    def test_select_with_transaction_and_blocking(self):
        a, w = self.client(), self.client()
        self.assertEqual(a.call("SELECT", "3"), b"OK")
        self.assertEqual(a.call("MULTI"), b"OK")
        self.assertEqual(a.call("RPUSH", "l", "x"), b"QUEUED")
        self.assertEqual(a.call("EXEC"), [1])
        self.assertEqual(w.call("LLEN", "l"), 0)
        self.assertEqual(w.call("SELECT", "3"), b"OK")
        self.assertEqual(w.call("LLEN", "l"), 1)

    def test_quit_on_selected_db(self):
        a = self.client(timeout=5)
        self.assertEqual(a.call("SELECT", "1"), b"OK")
        a.send(encode("SET", "q", "1") + encode("QUIT") + encode("SET", "q", "2"))
        self.assertEqual(a.read_until_close(), b"+OK\r\n+OK\r\n")
        r = self.redis_client()
        r.call_ok("SELECT", "1")
        self.assertEqual(r.call("GET", "q"), b"1")

    def test_protocol_error_on_selected_db(self):
        a = self.client(timeout=5)
        self.assertEqual(a.call("SELECT", "1"), b"OK")
        a.send(b"PING\r\n*1\r\n$x\r\n")
        self.assertEqual(a.read_until_close(), b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n")

    def test_many_clients_on_other_dbs(self):
        clients = [self.client() for _ in range(30)]
        for i, c in enumerate(clients):
            self.assertEqual(c.call("SELECT", str(1 + i % 15)), b"OK")
            self.assertEqual(c.call("INCR", "perdb"), 1 + i // 15)
        for i, c in enumerate(clients):
            self.assertEqual(c.call("GET", "perdb"), b"2")
        self.assertIsNone(self.client().call("GET", "perdb"))

    def test_swapdb_and_move_are_forwarded(self):
        a = self.client()
        a.call_ok("SET", "mv", "1")
        self.assertEqual(a.call("MOVE", "mv", "4"), 1)
        self.assertIsNone(a.call("GET", "mv"))
        r = self.redis_client()
        r.call_ok("SELECT", "4")
        self.assertEqual(r.call("GET", "mv"), b"1")


if __name__ == "__main__":
    unittest.main()
