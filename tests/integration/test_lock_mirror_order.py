"""The local lock mirror ends up as Redis ordered the writes, not as the sidecar processed their replies.

While Redis is up, writes to lock keys are forwarded and mirrored locally once Redis replied. Two
clients whose sessions use different pooled connections can have their replies processed in the
opposite of the order Redis ran the writes: Redis writes pending replies newest client first. Here
that is made to happen on purpose: `CLIENT PAUSE <ms> WRITE`, sent straight to Redis, holds the
writes of both connections; holder 1's `DEL k` (connection A) is queued before client 2's
`GETSET k 1` (connection B), so when `CLIENT UNPAUSE` lets them run Redis runs the DEL first and
client 2 acquires the lock; then Redis is killed and the sidecar's local store, which answers from
then on, must say what Redis said: k is held (else a third client's GETSET answers nil: a second
holder, as in the soak test's "one lock holder" failure). Rounds alternate with the other order
(client 2's GETSET first, then the DEL: Redis ends with k free, and the local store must not keep a
stale holder either).

The same runs again with `--threads 2` (readbacks then come from either event loop).

A round waits for `mirror_readbacks_pending` in INFO sidecar to reach 0 before killing Redis: the
local copies converge within a round trip of the last reply (a field a sidecar without readbacks
does not have; nothing is waited for then).
"""

import time
import unittest

from durability_support import (REPLY_TIMEOUT, DurableTestCase, LOCK_PREFIX, RawClient, ReplyError, encode,
                                sidecar_fields, sidecar_only, wait_down, wait_for, wait_serving_redis)

ROUNDS = 8
KEYS_PER_ROUND = 8
# Order of the two writes in Redis: holder 1 releases, then client 2 acquires (Redis ends held), or
# client 2 tries first (and fails), then holder 1 releases (Redis ends free).
RELEASE_FIRST = "DEL then GETSET"
ACQUIRE_FIRST = "GETSET then DEL"
# Long enough never to end by itself while a round sets up; every round ends it with CLIENT UNPAUSE.
PAUSE_MS = 20000
# Two shared connections, spread, so that two sessions opened one after the other use different
# ones (affinity by client id); a request timeout far above the few milliseconds a round holds writes.
SIDECAR_ARGS = ("--upstream-timeout", "3000", "--probe-interval", "250", "--upstream-connections", "2",
                "--upstream-spread", "yes", "--lock-prefix", LOCK_PREFIX)


@sidecar_only("the local lock mirror is the sidecar's")
class LockMirrorOrderTest(DurableTestCase, unittest.TestCase):
    sidecar_args = SIDECAR_ARGS
    threads = 1

    def setUp(self):
        super().setUp()
        self.addCleanup(self.unpause_quietly)

    def unpause_quietly(self):
        try:
            with RawClient(self.env.redis_port, timeout=2) as c:
                c.call("CLIENT", "UNPAUSE")
        except Exception:  # noqa: BLE001 - cleanup only: Redis may be dead
            pass

    # -- helpers ---------------------------------------------------------------------------------
    def connect(self, port):
        client = RawClient(port, timeout=REPLY_TIMEOUT)
        self.addCleanup(client.close)
        return client

    @staticmethod
    def blocked_clients(redis):
        info = redis.call("INFO", "clients").decode()
        return int(info.split("blocked_clients:")[1].split("\r\n")[0])

    def wait_blocked(self, redis, n, what):
        wait_for(lambda: self.blocked_clients(redis) >= n, 5.0, interval=0.002, what=what)

    def wait_both_connections_ready(self):
        ready = str(2 * self.threads)  # two per event loop
        wait_for(lambda: sidecar_fields(self.port).get("upstream_connections_ready") == ready, 10.0, interval=0.02,
                 what="every shared connection to Redis ready (%s)" % ready)

    def wait_readbacks(self):
        """Until the sidecar says no readback is owed (at once for a sidecar without the field)."""
        wait_for(lambda: sidecar_fields(self.port).get("mirror_readbacks_pending", "0") == "0", 5.0,
                 interval=0.005, what="mirror_readbacks_pending:0")

    @staticmethod
    def send_all(client, commands):
        client.send(b"".join(encode(*c) for c in commands))

    @staticmethod
    def read_all(client, n):
        return [client.read_reply() for _ in range(n)]

    # -- one round ---------------------------------------------------------------------------------
    def run_round(self, number, order):
        """Returns (Redis's value per key, the local store's per key, whether Redis ran the writes
        in `order`)."""
        self.wait_both_connections_ready()
        keys = ["%sorder%d_%d" % (LOCK_PREFIX, number, i) for i in range(KEYS_PER_ROUND)]
        redis = self.connect(self.env.redis_port)
        # Opened one after the other, nothing in between: consecutive client ids, so the two
        # sessions use different shared connections (checked below by Redis blocking both).
        holder = self.connect(self.port)
        contender = self.connect(self.port)
        self.send_all(holder, [("GETSET", k, "1") for k in keys])
        self.assertEqual(self.read_all(holder, len(keys)), [None] * len(keys), "holder 1 takes every lock")
        self.wait_readbacks()

        releases = [("DEL", k) for k in keys]
        acquires = [("GETSET", k, "1") for k in keys]
        first, second = (holder, contender) if order == RELEASE_FIRST else (contender, holder)
        first_commands, second_commands = (releases, acquires) if order == RELEASE_FIRST else (acquires, releases)
        self.assertEqual(redis.call("CLIENT", "PAUSE", PAUSE_MS, "WRITE"), b"OK")
        try:
            self.send_all(first, first_commands)
            self.wait_blocked(redis, 1, "Redis holding the first client's writes")
            self.send_all(second, second_commands)
            try:
                self.wait_blocked(redis, 2, "Redis holding the second client's writes on another connection")
            except AssertionError:
                self.fail("the two clients' sessions share one upstream connection: the test cannot swap "
                          "their replies (round %d)" % number)
        finally:
            self.assertEqual(redis.call("CLIENT", "UNPAUSE"), b"OK")
        first_replies = self.read_all(first, len(keys))
        second_replies = self.read_all(second, len(keys))
        acquire_replies = second_replies if order == RELEASE_FIRST else first_replies
        # GETSET answers nil when the DEL ran before it.
        ran_in_order = all((r is None) == (order == RELEASE_FIRST) for r in acquire_replies)

        # Every reply is in the clients' hands, so every mirror is applied; its readbacks follow.
        self.wait_readbacks()
        self.send_all(redis, [("GET", k) for k in keys])
        in_redis = dict(zip(keys, self.read_all(redis, len(keys))))
        self.env.redis.kill()
        wait_down(self.port, 5.0, "mode:down after Redis was killed")
        with RawClient(self.port, timeout=REPLY_TIMEOUT) as c:
            self.send_all(c, [("GET", k) for k in keys])
            local = dict(zip(keys, self.read_all(c, len(keys))))
        for client in (redis, holder, contender):
            client.close()
        self.env.redis.start()  # empty: every round has keys of its own
        wait_serving_redis(self.port, 10.0, "serving:redis after Redis was restarted")
        return in_redis, local, ran_in_order

    # -- the test --------------------------------------------------------------------------------
    def test_local_locks_match_redis_whatever_order_replies_were_processed_in(self):
        mismatches = []
        as_intended = 0
        summary = []
        t0 = time.monotonic()
        for number in range(ROUNDS):
            order = RELEASE_FIRST if number % 2 == 0 else ACQUIRE_FIRST
            in_redis, local, ran_in_order = self.run_round(number, order)
            as_intended += ran_in_order
            wrong = [(k, in_redis[k], local[k]) for k in in_redis if in_redis[k] != local[k]]
            for reply in list(in_redis.values()) + list(local.values()):
                self.assertNotIsInstance(reply, ReplyError)
            summary.append("round %d (%s%s): %d/%d keys differ"
                           % (number, order, "" if ran_in_order else ", Redis ran them otherwise", len(wrong),
                              len(in_redis)))
            mismatches += [(number, order) + w for w in wrong]
        corrections = sidecar_fields(self.port).get("mirror_readback_corrections", "(none: no readbacks)")
        report = "; ".join(summary) + " (%.1f s; mirror_readback_corrections: %s)" % (time.monotonic() - t0,
                                                                                       corrections)
        print("\n" + report)
        # The swap must really have been provoked, else this test proves nothing.
        self.assertGreaterEqual(as_intended, ROUNDS // 2, "Redis did not run the writes in the order set up: "
                                + report)
        second_holders = [m for m in mismatches if m[3] is not None and m[4] is None]
        if mismatches:
            self.fail("the local store differs from Redis after an outage: %d keys (%d of them a second holder: "
                      "Redis held the lock, the local store says free); first (round, order, key, Redis, local): "
                      "%r; %s" % (len(mismatches), len(second_holders), mismatches[:3], report))


class LockMirrorOrderThreadsTest(LockMirrorOrderTest):
    """The same with two event loops: the two clients may land on either, and a readback is then
    asked for from a thread other than the mirror feed's."""

    sidecar_args = SIDECAR_ARGS + ("--threads", "2")
    threads = 2


if __name__ == "__main__":
    unittest.main()
