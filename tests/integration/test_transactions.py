"""MULTI/EXEC/DISCARD/WATCH through the sidecar: a transaction stays on one upstream connection."""

import time
import unittest

from harness import ReplyError, SidecarTestCase, encode


class TransactionTest(SidecarTestCase):

    def test_multi_exec(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("SET", "tx", "1"), b"QUEUED")
        self.assertEqual(c.call("INCR", "tx"), b"QUEUED")
        self.assertEqual(c.call("LPUSH", "txl", "a", "b"), b"QUEUED")
        self.assertEqual(c.call("EXEC"), [b"OK", 2, 2])
        self.assertEqual(c.call("GET", "tx"), b"2")

    def test_other_clients_do_not_enter_the_transaction(self):
        a, b = self.client(), self.client()
        self.assertEqual(a.call("MULTI"), b"OK")
        self.assertEqual(a.call("INCR", "shared"), b"QUEUED")
        # b's commands run now, not inside a's transaction
        self.assertEqual(b.call("INCR", "shared"), 1)
        self.assertEqual(b.call("GET", "shared"), b"1")
        self.assertEqual(a.call("INCR", "shared"), b"QUEUED")
        self.assertEqual(b.call("INCR", "shared"), 2)
        self.assertEqual(a.call("EXEC"), [3, 4])
        self.assertEqual(b.call("GET", "shared"), b"4")

    def test_ping_and_echo_inside_multi_are_queued(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("PING"), b"QUEUED")
        self.assertEqual(c.call("ECHO", "e"), b"QUEUED")
        self.assertEqual(c.call("INCR", "p"), b"QUEUED")
        self.assertEqual(c.call("EXEC"), [b"PONG", b"e", 1])

    def test_pipelined_transaction(self):
        c = self.client()
        c.send(encode("MULTI") + encode("INCR", "pt") + encode("INCR", "pt") + encode("EXEC") + encode("GET", "pt"))
        self.assertEqual([c.read_reply() for _ in range(5)], [b"OK", b"QUEUED", b"QUEUED", [1, 2], b"2"])

    def test_discard(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("SET", "d", "1"), b"QUEUED")
        self.assertEqual(c.call("DISCARD"), b"OK")
        self.assertIsNone(c.call("GET", "d"))
        self.assertEqual(c.call("DISCARD"), ReplyError("ERR DISCARD without MULTI"))

    def test_exec_without_multi_and_nested_multi(self):
        c = self.client()
        self.assertEqual(c.call("EXEC"), ReplyError("ERR EXEC without MULTI"))
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("MULTI"), ReplyError("ERR MULTI calls can not be nested"))
        self.assertEqual(c.call("EXEC"), [])

    def test_execabort(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("SET", "ea", "1"), b"QUEUED")
        err = c.call("SET", "ea")
        self.assertIsInstance(err, ReplyError)
        self.assertTrue(err.message.startswith("ERR wrong number of arguments"), err)
        self.assertEqual(c.call("EXEC"),
                         ReplyError("EXECABORT Transaction discarded because of previous errors."))
        self.assertIsNone(c.call("GET", "ea"))

    def test_runtime_error_inside_exec(self):
        c = self.client()
        c.call_ok("SET", "str", "x")
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("INCR", "str"), b"QUEUED")
        self.assertEqual(c.call("SET", "ok", "1"), b"QUEUED")
        self.assertEqual(c.call("EXEC"),
                         [ReplyError("ERR value is not an integer or out of range"), b"OK"])

    def test_watch_aborted_by_other_clients_write(self):
        a, b = self.client(), self.client()
        a.call_ok("SET", "w", "1")
        self.assertEqual(a.call("WATCH", "w"), b"OK")
        self.assertEqual(b.call("SET", "w", "2"), b"OK")
        self.assertEqual(a.call("MULTI"), b"OK")
        self.assertEqual(a.call("SET", "w", "3"), b"QUEUED")
        self.assertIsNone(a.call("EXEC"))  # aborted: null multi-bulk
        self.assertEqual(a.call("GET", "w"), b"2")

    def test_watch_not_aborted_without_write(self):
        a, b = self.client(), self.client()
        a.call_ok("SET", "w2", "1")
        self.assertEqual(a.call("WATCH", "w2"), b"OK")
        self.assertEqual(b.call("GET", "w2"), b"1")
        self.assertEqual(b.call("SET", "unrelated", "1"), b"OK")
        self.assertEqual(a.call("MULTI"), b"OK")
        self.assertEqual(a.call("INCR", "w2"), b"QUEUED")
        self.assertEqual(a.call("EXEC"), [2])

    def test_unwatch(self):
        a, b = self.client(), self.client()
        self.assertEqual(a.call("WATCH", "u"), b"OK")
        self.assertEqual(a.call("UNWATCH"), b"OK")
        b.call_ok("SET", "u", "x")
        self.assertEqual(a.call("MULTI"), b"OK")
        self.assertEqual(a.call("SET", "u", "y"), b"QUEUED")
        self.assertEqual(a.call("EXEC"), [b"OK"])

    def test_watch_raw_exact_bytes(self):
        a, b = self.client(), self.client()
        a.send(encode("WATCH", "wr"))
        self.assertEqual(a.read_raw_reply(), b"+OK\r\n")
        b.call_ok("SET", "wr", "1")
        a.send(encode("MULTI") + encode("INCR", "wr") + encode("EXEC"))
        self.assertEqual(a.read_raw_reply(), b"+OK\r\n")
        self.assertEqual(a.read_raw_reply(), b"+QUEUED\r\n")
        self.assertEqual(a.read_raw_reply(), b"*-1\r\n")

    def test_pipelined_switch_to_transaction_keeps_order(self):
        # Commands sent before MULTI in the same write must run before the transaction, even
        # though the transaction goes to another upstream connection than they did.
        c = self.client()
        payload = encode("SET", "sw", "v") + encode("INCR", "swc") * 200
        payload += encode("MULTI") + encode("GET", "sw") + encode("INCR", "swc") + encode("EXEC")
        c.send(payload)
        self.assertEqual(c.read_reply(), b"OK")
        self.assertEqual([c.read_reply() for _ in range(200)], list(range(1, 201)))
        self.assertEqual([c.read_reply() for _ in range(4)], [b"OK", b"QUEUED", b"QUEUED", [b"v", 201]])

    def test_pipelined_switch_to_select_keeps_order(self):
        c = self.client()
        c.send(encode("SET", "a", "0") + encode("SELECT", "1") + encode("GET", "a") + encode("SET", "a", "1")
               + encode("SELECT", "0") + encode("GET", "a"))
        self.assertEqual([c.read_reply() for _ in range(6)], [b"OK", b"OK", None, b"OK", b"OK", b"0"])

    def test_idle_transaction_outlives_upstream_timeout(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("INCR", "idle"), b"QUEUED")
        time.sleep(1.2)  # longer than the default --upstream-timeout (500 ms)
        self.assertEqual(c.call("EXEC"), [1])

    def test_connection_commands_inside_multi_are_queued(self):
        c = self.client()
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("SELECT", "0"), b"QUEUED")
        self.assertEqual(c.call("CLIENT", "ID"), b"QUEUED")
        self.assertEqual(c.call("SET", "q", "1"), b"QUEUED")
        r = c.call("EXEC")
        self.assertEqual(len(r), 3, r)
        self.assertEqual(r[0], b"OK")
        self.assertIsInstance(r[1], int)
        self.assertEqual(r[2], b"OK")

    def test_transaction_state_does_not_leak_to_next_client(self):
        # A client that disconnects mid-transaction must not leave its MULTI or WATCH on a
        # connection that another client then uses.
        for _ in range(5):
            a = self.client()
            a.call_ok("WATCH", "leak")
            self.assertEqual(a.call("MULTI"), b"OK")
            self.assertEqual(a.call("SET", "leak", "x"), b"QUEUED")
            a.close()
        b = self.client()
        self.assertEqual(b.call("SET", "leak2", "y"), b"OK")
        self.assertEqual(b.call("GET", "leak2"), b"y")
        self.assertIsNone(b.call("GET", "leak"))
        self.assertEqual(b.call("EXEC"), ReplyError("ERR EXEC without MULTI"))


if __name__ == "__main__":
    unittest.main()
