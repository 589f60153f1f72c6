"""Every durable key a write names is followed by the local copy, whatever the command and the
key's position; and a lock released elsewhere is released here too.

While Redis is up, writes are forwarded and the local store keeps copies of the lock and
blacklist keys they write, so that it answers as Redis would once Redis is down. Each case below
writes through the sidecar with Redis up (a lock key in a second key position, in a command the
local store does not run, beside a cache key...), then compares, key by key, what Redis holds with
what the sidecar answers once Redis is killed: they must be the same.

The second test releases a lock straight in Redis (another app host did it) and checks that the
sidecar's copy is dropped within the tracking delay: client tracking on the sidecar's lock
follower connection tells it of the change.
"""

import time
import unittest

from durability_support import (LOCK_PREFIX, REPLY_TIMEOUT, DurableTestCase, RawClient, encode, sidecar_fields,
                                sidecar_only, wait_down, wait_for)

L = LOCK_PREFIX

# (setup through the sidecar, the write under test through the sidecar, the lock keys to compare)
CASES = [
    ("DEL of a lock in second position", [("SET", L + "del", "1", "EX", "100")],
     ("DEL", "cache:a", L + "del"), [L + "del"]),
    ("MSET of a lock in second position", [], ("MSET", "cache:z", "2", L + "mset", "1"), [L + "mset"]),
    ("RENAME of a lock", [("SET", L + "from", "v", "EX", "100")], ("RENAME", L + "from", L + "to"),
     [L + "from", L + "to"]),
    ("COPY onto a lock", [("SET", "cache:src", "x")], ("COPY", "cache:src", L + "copy"), [L + "copy"]),
    ("SETRANGE of a lock", [], ("SETRANGE", L + "range", "0", "abc"), [L + "range"]),
    ("APPEND to a lock", [("SET", L + "append", "a")], ("APPEND", L + "append", "b"), [L + "append"]),
    ("INCR of a lock", [], ("INCR", L + "incr"), [L + "incr"]),
    ("EVAL with a lock as its second key", [],
     ("EVAL", "redis.call('set', KEYS[2], 'e') return 1", "2", "cache:e", L + "eval"), [L + "eval"]),
    ("UNLINK of locks after a cache key", [("SET", L + "u1", "1"), ("SET", L + "u2", "1")],
     ("UNLINK", "cache:u", L + "u1", L + "u2"), [L + "u1", L + "u2"]),
]


def call(port, *args):
    with RawClient(port, timeout=REPLY_TIMEOUT) as c:
        return c.call(*args)


@sidecar_only("the local lock copy is the sidecar's")
class MirrorKeysTest(DurableTestCase, unittest.TestCase):

    def wait_readbacks(self):
        wait_for(lambda: sidecar_fields(self.port).get("mirror_readbacks_pending", "0") == "0", 5.0,
                 interval=0.005, what="mirror_readbacks_pending:0")

    def test_every_durable_key_of_a_write_is_followed(self):
        with RawClient(self.port, timeout=REPLY_TIMEOUT) as c:
            for _, setup, write, _ in CASES:
                for command in setup:
                    c.call(*command)
                c.call(*write)
        self.wait_readbacks()
        keys = [k for case in CASES for k in case[3]]
        with RawClient(self.env.redis_port, timeout=REPLY_TIMEOUT) as redis:
            in_redis = {k: redis.call("GET", k) for k in keys}
        self.env.redis.kill()
        wait_down(self.port, 5.0, "mode:down after Redis was killed")
        with RawClient(self.port, timeout=REPLY_TIMEOUT) as c:
            local = {k: c.call("GET", k) for k in keys}
            cache_copy = c.call("EXISTS", "cache:z", "cache:e")
        wrong = ["%s: %s is %r in Redis, %r here" % (name, k, in_redis[k], local[k])
                 for name, _, _, case_keys in CASES for k in case_keys if in_redis[k] != local[k]]
        self.assertEqual(wrong, [], "the local lock copies differ from Redis after an outage")
        # The cache keys beside them were not copied: a copy made while Redis is up would be stale.
        self.assertEqual(cache_copy, 0)

    def test_a_lock_released_elsewhere_is_released_here(self):
        key = L + "released_elsewhere"
        self.assertIsNone(call(self.port, "GETSET", key, "1"), "the lock is free at first")
        self.wait_readbacks()
        # Another app host's sidecar (here: straight in Redis) releases it.
        self.assertEqual(call(self.env.redis_port, "DEL", key), 1)
        started = time.monotonic()
        wait_for(lambda: sidecar_fields(self.port).get("mirror_lock_invalidations", "0") != "0", 2.0,
                 interval=0.002, what="the release made elsewhere seen by the sidecar (mirror_lock_invalidations)")
        self.wait_readbacks()
        seen_after = time.monotonic() - started
        self.env.redis.kill()
        wait_down(self.port, 5.0, "mode:down after Redis was killed")
        self.assertIsNone(call(self.port, "GETSET", key, "1"),
                          "the user is locked out by a stale copy of a lock released elsewhere")
        print("\nrelease made elsewhere seen after %.1f ms" % (seen_after * 1000))


if __name__ == "__main__":
    unittest.main()
