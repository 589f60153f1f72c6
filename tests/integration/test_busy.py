"""Busy is not down: a command that legitimately takes long keeps Redis busy, and the sidecar waits
for it (up to --upstream-busy-timeout) instead of declaring Redis down after --upstream-timeout.

Every test runs the sidecar with the usual fast detection (--upstream-timeout 500) and checks that
while Redis works on the slow command, other clients' commands wait and then reach Redis, the
slow command's own client gets Redis's reply, and the sidecar never leaves mode up. Were Redis
declared down (as a sidecar without the busy rule does after 500 ms), the slow command's client
would get "outcome unknown" and a concurrent SET would be answered from the local store and never
reach Redis.
"""

import threading
import time
import unittest

from durability_support import (REPLY_TIMEOUT, DurableTestCase, RawClient, ReplyError, sidecar_fields,
                                sidecar_only, wait_down, wait_serving_redis)

# A script that keeps Redis busy for ARGV[1] seconds without writing (so SCRIPT KILL may end it).
BUSY_SCRIPT = ("local t0 = redis.call('TIME') local start = tonumber(t0[1]) + tonumber(t0[2]) / 1000000 "
               "while true do local t = redis.call('TIME') "
               "if tonumber(t[1]) + tonumber(t[2]) / 1000000 - start > tonumber(ARGV[1]) then break end end "
               "return 1")


def call(port, *args, timeout=REPLY_TIMEOUT):
    with RawClient(port, timeout=timeout) as c:
        return c.call(*args)


class SlowCall(threading.Thread):
    """Sends one command through the sidecar in the background and keeps its reply (or error)."""

    def __init__(self, port, *args):
        super().__init__(daemon=True)
        self.port, self.args = port, args
        self.reply = None
        self.error = None
        self.start()

    def run(self):
        try:
            self.reply = call(self.port, *self.args, timeout=30)  # an error reply is a ReplyError value
        except Exception as e:  # noqa: BLE001 - a broken connection, reported by the test
            self.error = e


@sidecar_only("busy-versus-down is the sidecar's decision")
class BusyIsNotDownTest(DurableTestCase, unittest.TestCase):
    redis_args = ("--enable-debug-command", "yes")

    def transitions(self):
        return int(sidecar_fields(self.port)["mode_transitions"])

    def check_concurrent_set_reaches_redis(self, slow_args, seconds, expected_reply):
        before = self.transitions()
        slow = SlowCall(self.port, *slow_args)
        time.sleep(0.2)  # Redis is now working on the slow command
        started = time.monotonic()
        self.assertEqual(call(self.port, "SET", "concurrent_key", "v", timeout=30), b"OK")
        waited = time.monotonic() - started
        slow.join(30)
        self.assertIsNone(slow.error, "the slow command's client got an error")
        self.assertEqual(slow.reply, expected_reply)
        self.assertGreater(waited, seconds / 2, "the SET did not wait for Redis: was it answered locally?")
        self.assertEqual(call(self.env.redis_port, "GET", "concurrent_key"), b"v",
                         "the SET acknowledged while Redis was busy is not in Redis")
        fields = sidecar_fields(self.port)
        self.assertEqual(int(fields["mode_transitions"]), before, "the sidecar declared a busy Redis down")
        self.assertEqual(fields["mode"], "up")
        self.assertGreaterEqual(int(fields["slow_commands_waited_on"]), 1)

    def test_a_two_second_script_with_a_concurrent_set(self):
        self.check_concurrent_set_reaches_redis(("EVAL", BUSY_SCRIPT, "0", "2"), 2, 1)

    def test_debug_sleep(self):
        self.check_concurrent_set_reaches_redis(("DEBUG", "SLEEP", "2"), 2, b"OK")

    def test_keys_over_a_million_keys(self):
        # Made straight in Redis, which it blocks for a while: a sidecar that saw no slow command
        # of its own may take that for a hang, and is given the time to come back.
        self.assertEqual(call(self.env.redis_port, "DEBUG", "POPULATE", "1000000", "bulk"), b"OK")
        wait_serving_redis(self.port, 10.0, "serving:redis after DEBUG POPULATE")
        before = self.transitions()
        with RawClient(self.port, timeout=60) as c:
            keys = c.call("KEYS", "*")
        self.assertEqual(len(keys), 1000000)
        self.assertEqual(self.transitions(), before, "the sidecar declared Redis down during KEYS")

    def test_a_hang_behind_a_fast_command_is_still_found_fast(self):
        self.env.redis.pause()
        self.addCleanup(self.resume_quietly)
        started = time.monotonic()
        failed = call(self.port, "INCR", "counter", timeout=10)
        self.assertIsInstance(failed, ReplyError)
        self.assertIn("outcome is unknown", failed.message)
        self.assertLess(time.monotonic() - started, 1.5, "a hang behind INCR took the busy timeout to find")


@sidecar_only("busy-versus-down is the sidecar's decision")
class BusyReplyTest(DurableTestCase, unittest.TestCase):
    """Past Redis's busy-reply-threshold Redis answers -BUSY: alive, and SCRIPT KILL reaches it.

    Two shared connections, clients spread over them by id: the script's client and the next one
    use different connections to Redis (on one connection the GET would wait behind the script,
    as it would on a client's own connection to Redis).
    """

    redis_args = ("--busy-reply-threshold", "100")
    sidecar_args = DurableTestCase.sidecar_args + ("--upstream-connections", "2", "--upstream-spread", "yes")

    def test_busy_replies_mean_alive_and_script_kill_reaches_redis(self):
        before = int(sidecar_fields(self.port)["mode_transitions"])
        slow = SlowCall(self.port, "EVAL", BUSY_SCRIPT, "0", "10")
        time.sleep(0.4)  # past the threshold: Redis answers others with -BUSY
        busy = call(self.port, "GET", "k", timeout=5)
        self.assertIsInstance(busy, ReplyError)
        self.assertTrue(busy.message.startswith("BUSY"), busy)
        self.assertEqual(call(self.port, "SCRIPT", "KILL", timeout=5), b"OK")
        slow.join(10)
        self.assertIsNone(slow.error)
        self.assertIsInstance(slow.reply, ReplyError, "the killed script's client gets Redis's error")
        self.assertIn("Script killed by user", slow.reply.message)
        fields = sidecar_fields(self.port)
        self.assertGreaterEqual(int(fields["busy_replies"]), 1)
        self.assertEqual(int(fields["mode_transitions"]), before)
        self.assertEqual(call(self.port, "SET", "after", "1"), b"OK")


if __name__ == "__main__":
    unittest.main()


@sidecar_only("busy-versus-down is the sidecar's decision")
class RescueWhileDownTest(DurableTestCase, unittest.TestCase):
    """A script that outlasts --upstream-busy-timeout makes the sidecar hold Redis down; SCRIPT KILL
    still reaches Redis, on a connection of its own (whose handshake takes -BUSY as alive), and
    forwarding resumes once the script is gone."""

    redis_args = ("--busy-reply-threshold", "100")
    sidecar_args = DurableTestCase.sidecar_args + ("--upstream-busy-timeout", "300")

    def test_script_kill_reaches_a_busy_redis_the_sidecar_holds_down(self):
        slow = SlowCall(self.port, "EVAL", BUSY_SCRIPT, "0", "20")
        wait_down(self.port, 5.0, "mode:down once the script outlasted upstream-busy-timeout")
        self.assertEqual(call(self.port, "SCRIPT", "KILL", timeout=5), b"OK")
        slow.join(10)
        self.assertIsNone(slow.error)
        self.assertIsInstance(slow.reply, ReplyError)  # its connection failed first: outcome unknown
        wait_serving_redis(self.port, 10.0, "serving:redis once the script was killed")
        self.assertEqual(call(self.port, "SET", "after", "1"), b"OK")
