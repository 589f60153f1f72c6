"""The shared pool's connections to Redis: replies stay matched to requests when one connection is
lost and comes back while a client's requests wait on another.

Replies are matched to requests by order, which holds on one connection only. A client whose
connection was lost goes on over another; when the lost one is back, the client's next request
must not overtake the ones still waiting on the other (Redis would answer it first).
"""

import time
import unittest

from degraded_support import DegradedTestCase, RawClient, encode, info_sidecar, sidecar_only, wait_for

OK = b"OK"


def client_list(redis_client):
    """CLIENT LIST -> [dict of its fields], one per connection."""
    text = redis_client.call("CLIENT", "LIST").decode()
    return [dict(field.split("=", 1) for field in line.split(" ") if "=" in field)
            for line in text.splitlines() if line]


@sidecar_only("the shared pool is the sidecar's")
class ConnectionBackWhileRequestsWaitTest(DegradedTestCase):
    # A write held by CLIENT PAUSE must not time out; reconnecting is retried every 200 ms or so.
    sidecar_args = ("--upstream-connections", "2", "--upstream-timeout", "20000", "--probe-interval", "200")

    def ready_connections(self):
        return int(info_sidecar(self.port)["upstream_connections_ready"])

    def restore_redis(self, r):
        r.call("CLIENT", "UNPAUSE")
        r.call("CONFIG", "SET", "maxclients", "10000")

    def test_next_request_follows_the_ones_waiting_on_the_other_connection(self):
        r = RawClient(self.env.redis_port, timeout=10)
        self.addCleanup(r.close)
        self.addCleanup(self.restore_redis, r)
        r.call_ok("SET", "order-key", "old")
        c = self.client(timeout=10)
        wait_for(lambda: self.ready_connections() == 2, 5, what="both pool connections ready")

        # The pool connection that carries this client: the one that ran its ECHO last.
        self.assertEqual(c.call("ECHO", "which-connection"), b"which-connection")
        carrying = [e["id"] for e in client_list(r) if e.get("cmd") == "echo"]
        self.assertEqual(len(carrying), 1, client_list(r))

        # Lose it, and keep it from coming back (Redis refuses new connections) for a while.
        r.call_ok("CONFIG", "SET", "maxclients", str(len(client_list(r)) - 1))
        self.assertEqual(r.call("CLIENT", "KILL", "ID", carrying[0]), 1)
        wait_for(lambda: self.ready_connections() == 1, 5, what="the killed connection seen lost")

        # The client's write goes over the other connection, where Redis holds it.
        r.call_ok("CLIENT", "PAUSE", "20000", "WRITE")
        c.send(encode("SET", "order-key", "new"))
        time.sleep(0.1)  # on its way to Redis over the other connection before the lost one is back

        # The lost connection comes back; the client's read must still wait behind its write.
        r.call_ok("CONFIG", "SET", "maxclients", "10000")
        wait_for(lambda: self.ready_connections() == 2, 10, what="the lost connection back")
        c.send(encode("GET", "order-key"))
        time.sleep(0.3)  # where it went wrong, Redis answered the GET by now (reads are not paused)
        r.call_ok("CLIENT", "UNPAUSE")
        self.assertEqual(c.read_reply(), OK, "the SET got another request's reply")
        self.assertEqual(c.read_reply(), b"new", "the GET overtook the SET before it")


def connections_whose_last_command_was(redis_client, command):
    return [e["id"] for e in client_list(redis_client) if e.get("cmd") == command]


class PoolUseTestCase(DegradedTestCase):
    """Four clients send one ECHO each; CLIENT LIST tells which pool connections carried them."""

    def ready_connections(self):
        return int(info_sidecar(self.port)["upstream_connections_ready"])

    def redis_once_both_connections_ready(self):
        r = RawClient(self.env.redis_port, timeout=10)
        self.addCleanup(r.close)
        wait_for(lambda: self.ready_connections() == 2, 5, what="both pool connections ready")
        return r

    def echo_from_four_clients(self, r):
        """-> (the clients, the ids of the pool connections that carried their ECHOs)"""
        clients = [self.client() for _ in range(4)]
        for i, c in enumerate(clients):
            self.assertEqual(c.call("ECHO", f"client-{i}"), f"client-{i}".encode())
        return clients, connections_whose_last_command_was(r, "echo")


@sidecar_only("the shared pool is the sidecar's")
class FirstReadyConnectionTest(PoolUseTestCase):
    sidecar_args = ("--upstream-connections", "2", "--upstream-timeout", "5000", "--probe-interval", "200")

    def test_every_client_uses_one_connection_while_the_other_stands_by(self):
        r = self.redis_once_both_connections_ready()
        _, carrying = self.echo_from_four_clients(r)
        self.assertEqual(len(carrying), 1, client_list(r))

    def test_losing_the_carrying_connection_keeps_the_sidecar_up(self):
        r = self.redis_once_both_connections_ready()
        self.addCleanup(r.call, "CONFIG", "SET", "maxclients", "10000")
        clients, carrying = self.echo_from_four_clients(r)
        self.assertEqual(len(carrying), 1, client_list(r))
        transitions = info_sidecar(self.port)["mode_transitions"]

        # Lost, and kept from coming back: the standby carries every client from now on.
        r.call_ok("CONFIG", "SET", "maxclients", str(len(client_list(r)) - 1))
        self.assertEqual(r.call("CLIENT", "KILL", "ID", carrying[0]), 1)
        wait_for(lambda: self.ready_connections() == 1, 5, what="the killed connection seen lost")
        for i, c in enumerate(clients):
            self.assertEqual(c.call("SET", f"after-loss-{i}", "v"), OK)
        self.assertEqual(r.call("GET", "after-loss-3"), b"v", "the writes went to Redis, not the local store")
        fields = info_sidecar(self.port)
        self.assertEqual(fields["mode"], "up")
        self.assertEqual(fields["mode_transitions"], transitions, "the sidecar went to its local store")


@sidecar_only("the shared pool is the sidecar's")
class SpreadConnectionsTest(PoolUseTestCase):
    sidecar_args = ("--upstream-connections", "2", "--upstream-spread", "yes", "--upstream-timeout", "5000")

    def test_clients_spread_over_both_connections(self):
        r = self.redis_once_both_connections_ready()
        _, carrying = self.echo_from_four_clients(r)
        self.assertEqual(len(carrying), 2, client_list(r))


def redis_reads(redis_client):
    """Reads Redis has done from its clients' sockets (INFO stats total_reads_processed)."""
    text = redis_client.call("INFO", "stats").decode()
    return int(dict(line.split(":", 1) for line in text.splitlines() if ":" in line)["total_reads_processed"])


class BatchDelayTestCase(DegradedTestCase):
    """Five clients send a GET each, `spacing` seconds apart, before reading any reply: how many
    reads did Redis need for them?"""

    def reads_for_five_requests(self, spacing):
        r = RawClient(self.env.redis_port, timeout=10)
        self.addCleanup(r.close)
        r.call_ok("SET", "batched", "v")
        clients = [self.client() for _ in range(5)]
        for c in clients:  # the connections (and their first use) are not part of the measure
            self.assertEqual(c.call("PING"), b"PONG")
        before = redis_reads(r)
        for c in clients:
            c.send(encode("GET", "batched"))
            time.sleep(spacing)
        for c in clients:
            self.assertEqual(c.read_reply(), b"v")
        return redis_reads(r) - before - 1  # the second INFO's own read


@sidecar_only("the shared pool is the sidecar's")
class BatchDelayTest(BatchDelayTestCase):
    # Heartbeats (every probe interval on an idle connection) must not land in the measure.
    sidecar_args = ("--upstream-batch-delay", "10000", "--probe-interval", "5000", "--upstream-timeout", "5000")

    def test_requests_within_the_delay_reach_redis_in_one_read(self):
        # 1 ms apart: without the delay, each would leave in a write of its own.
        self.assertEqual(self.reads_for_five_requests(spacing=0.001), 1)


@sidecar_only("the shared pool is the sidecar's")
class NoBatchDelayTest(BatchDelayTestCase):
    sidecar_args = ("--probe-interval", "5000", "--upstream-timeout", "5000")

    def test_without_a_delay_each_request_leaves_at_once(self):
        # 20 ms apart: each in a turn of its own even on a loaded machine.
        self.assertGreaterEqual(self.reads_for_five_requests(spacing=0.02), 4)


if __name__ == "__main__":
    unittest.main()
