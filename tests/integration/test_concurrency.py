"""Many concurrent clients through the shared upstream pool: no lost, doubled or crossed replies."""

import threading
import unittest

from harness import SidecarTestCase, encode


def run_threads(n, target):
    errors = []

    def wrap(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors.append("client %d: %r" % (i, e))

    threads = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    alive = sum(t.is_alive() for t in threads)
    return errors, alive


class ConcurrencyTest(SidecarTestCase):

    def test_200_clients_concurrent_incr_add_up(self):
        clients, per_client = 200, 50
        barrier = threading.Barrier(clients, timeout=60)

        def work(i):
            with self.env.client(timeout=30) as c:
                self.assertEqual(c.call("PING"), b"PONG")
                barrier.wait()
                last = 0
                for _ in range(per_client):
                    v = c.call("INCR", "counter")
                    if not isinstance(v, int) or v <= last:
                        raise AssertionError("INCR reply %r after %r" % (v, last))
                    last = v
                    r = c.call("INCRBY", "sum", i)
                    if not isinstance(r, int):
                        raise AssertionError("INCRBY reply %r" % (r,))

        errors, alive = run_threads(clients, work)
        self.assertEqual(errors, [])
        self.assertEqual(alive, 0, "clients still running (hung)")
        r = self.redis_client()
        self.assertEqual(r.call("GET", "counter"), b"%d" % (clients * per_client))
        self.assertEqual(r.call("GET", "sum"), b"%d" % (per_client * sum(range(clients))))

    def test_replies_never_cross_between_clients(self):
        clients, ops = 50, 200

        def work(i):
            with self.env.client(timeout=30) as c:
                key = "own:%d" % i
                for j in range(ops):
                    val = "%d-%d" % (i, j)
                    # pipelined in pairs so that several requests of each client are in flight
                    c.send(encode("SET", key, val) + encode("GET", key) + encode("ECHO", val))
                    got = (c.read_reply(), c.read_reply(), c.read_reply())
                    if got != (b"OK", val.encode(), val.encode()):
                        raise AssertionError("client %d op %d: %r" % (i, j, got))

        errors, alive = run_threads(clients, work)
        self.assertEqual(errors, [])
        self.assertEqual(alive, 0)

    def test_many_connections_open_at_once(self):
        conns = [self.env.client(timeout=10) for _ in range(500)]
        try:
            for i, c in enumerate(conns):
                c.send(encode("INCR", "open"))
            for c in conns:
                self.assertIsInstance(c.read_reply(), int)
        finally:
            for c in conns:
                c.close()
        self.assertEqual(self.redis_client().call("GET", "open"), b"500")

    def test_mixed_pipelines_from_many_clients(self):
        clients, depth = 40, 500

        def work(i):
            with self.env.client(timeout=30) as c:
                c.send(b"".join(encode("RPUSH", "list:%d" % i, j) for j in range(depth)))
                for j in range(depth):
                    r = c.read_reply()
                    if r != j + 1:
                        raise AssertionError("client %d reply %d: %r" % (i, j, r))

        errors, alive = run_threads(clients, work)
        self.assertEqual(errors, [])
        self.assertEqual(alive, 0)
        r = self.redis_client()
        for i in range(clients):
            self.assertEqual(r.call("LRANGE", "list:%d" % i, 0, 2), [b"0", b"1", b"2"])


if __name__ == "__main__":
    unittest.main()
