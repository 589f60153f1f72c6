"""A client's first stateful command keeps its order against the commands other clients send
just after it: the sidecar keeps dedicated connections open ahead (--pinned-spares), so the
command leaves at once instead of waiting for a connection to be opened.

XREADGROUP ... BLOCK 0 from one client, then at once DEL of the stream from another: Redis must
run the XREADGROUP first, so the reader blocks and is then unblocked by the DEL with Redis's
"UNBLOCKED the stream key no longer exists". Had the DEL overtaken it (a reader waiting for its
connection), the reader would get NOGROUP instead.
"""

import time
import unittest

from durability_support import REPLY_TIMEOUT, DurableTestCase, RawClient, ReplyError, encode, sidecar_only

ROUNDS = 10


@sidecar_only("the order of pinned and pooled commands is the sidecar's to keep")
class PinningOrderTest(DurableTestCase, unittest.TestCase):

    def test_a_blocking_xreadgroup_runs_before_a_del_sent_just_after_it(self):
        time.sleep(0.5)  # the spares open once Redis is up
        outcomes = []
        for n in range(ROUNDS):
            stream = "stream_%d" % n
            with RawClient(self.env.redis_port, timeout=REPLY_TIMEOUT) as redis:
                self.assertEqual(redis.call("XGROUP", "CREATE", stream, "g", "$", "MKSTREAM"), b"OK")
            reader = RawClient(self.port, timeout=REPLY_TIMEOUT)
            deleter = RawClient(self.port, timeout=REPLY_TIMEOUT)
            try:
                self.assertEqual(deleter.call("PING"), b"PONG")  # both connected before the race
                self.assertEqual(reader.call("PING"), b"PONG")
                reader.send(encode("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", stream, ">"))
                deleter.send(encode("DEL", stream))
                self.assertEqual(deleter.read_reply(), 1)
                reply = reader.read_reply()
            finally:
                reader.close()
                deleter.close()
            outcomes.append(reply.message if isinstance(reply, ReplyError) else repr(reply))
        overtaken = [o for o in outcomes if not o.startswith("UNBLOCKED")]
        self.assertEqual(overtaken, [], "the DEL overtook the blocking XREADGROUP in %d of %d rounds: %r"
                         % (len(overtaken), ROUNDS, outcomes))


if __name__ == "__main__":
    unittest.main()
