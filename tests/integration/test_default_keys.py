"""Keys of no class while Redis is down: refused (default-keys-while-down refuse, the default), so
no write is acknowledged that recovery would throw away and no read answers nil for a key Redis
may hold; with ephemeral, answered locally and dropped when Redis is back.
"""

import unittest

from durability_support import (BLACKLIST_PREFIX, CACHE_PREFIX, LOCK_PREFIX, REPLY_TIMEOUT, SIDECAR_ARGS,
                                DurableTestCase, RawClient, ReplyError, sidecar_fields, sidecar_only, wait_down,
                                wait_serving_redis)

REFUSED = ("of a key outside the blacklist, lock and cache classes is refused while it is down: the sidecar "
           "neither holds such keys nor keeps writes of them (default-keys-while-down refuse)")


@sidecar_only("the local answers are the sidecar's")
class DefaultKeysRefusedTest(DurableTestCase, unittest.TestCase):
    sidecar_args = SIDECAR_ARGS + ("--default-keys-while-down", "refuse")

    def test_keys_of_no_class_are_refused_and_the_classes_served(self):
        self.env.redis.kill()
        wait_down(self.port, 5.0, "mode:down after Redis was killed")
        with RawClient(self.port, timeout=REPLY_TIMEOUT) as c:
            for command in (("SET", "k", "v"), ("GET", "k"), ("INCR", "counter"), ("DEL", "k"),
                            ("MGET", BLACKLIST_PREFIX + "t", "k")):
                reply = c.call(*command)
                self.assertIsInstance(reply, ReplyError, command)
                self.assertEqual(reply.message, "ERR upstream Redis is unavailable; '%s' %s"
                                 % (command[0].lower(), REFUSED))
            # The seed app's keys are served as ever.
            self.assertEqual(c.call("SET", BLACKLIST_PREFIX + "t", "1", "EX", "604800"), b"OK")
            self.assertIsNone(c.call("GETSET", LOCK_PREFIX + "u", "1"))
            self.assertEqual(c.call("SET", CACHE_PREFIX + "q", "r"), b"OK")
            self.assertEqual(c.call("DBSIZE"), 3)
        self.env.redis.start()
        wait_serving_redis(self.port, 10.0)
        self.assertEqual(sidecar_fields(self.port)["recovery_default_keys_dropped"], "0")
        with RawClient(self.env.redis_port, timeout=REPLY_TIMEOUT) as redis:
            self.assertEqual(redis.call("GET", BLACKLIST_PREFIX + "t"), b"1")
            self.assertIsNone(redis.call("GET", "k"))


@sidecar_only("the local answers are the sidecar's")
class DefaultKeysEphemeralTest(DurableTestCase, unittest.TestCase):
    sidecar_args = SIDECAR_ARGS + ("--default-keys-while-down", "ephemeral")

    def test_keys_of_no_class_are_answered_locally_and_dropped_on_recovery(self):
        self.env.redis.kill()
        wait_down(self.port, 5.0, "mode:down after Redis was killed")
        with RawClient(self.port, timeout=REPLY_TIMEOUT) as c:
            self.assertEqual(c.call("SET", "k", "v"), b"OK")
            self.assertEqual(c.call("GET", "k"), b"v")
        self.env.redis.start()
        wait_serving_redis(self.port, 10.0)
        self.assertEqual(sidecar_fields(self.port)["recovery_default_keys_dropped"], "1")


if __name__ == "__main__":
    unittest.main()
