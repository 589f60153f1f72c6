"""One client identity: the id CLIENT ID gives through the sidecar is the one Redis's CLIENT
UNBLOCK, CLIENT KILL ID and CLIENT TRACKING ... REDIRECT understand, sent by any other client of
the sidecar. (A client that asks its id gets a connection of its own to Redis, whose id it is.)
"""

import time
import unittest

from durability_support import REPLY_TIMEOUT, DurableTestCase, RawClient, encode, sidecar_only


@sidecar_only("the identity of a client behind the sidecar is the sidecar's to keep")
class ClientIdentityTest(DurableTestCase, unittest.TestCase):

    def client(self):
        c = RawClient(self.port, timeout=REPLY_TIMEOUT)
        self.addCleanup(c.close)
        return c

    def test_client_unblock_by_the_id_client_id_gave(self):
        blocked, other = self.client(), self.client()
        blocked_id = blocked.call("CLIENT", "ID")
        self.assertIsInstance(blocked_id, int)
        blocked.send(encode("BLPOP", "identity_list", "0"))
        time.sleep(0.2)  # blocked in Redis
        self.assertEqual(other.call("CLIENT", "UNBLOCK", blocked_id), 1)
        self.assertIsNone(blocked.read_reply(), "the unblocked BLPOP answers nil")

    def test_client_kill_id_by_the_id_client_id_gave(self):
        victim, other = self.client(), self.client()
        victim_id = victim.call("CLIENT", "ID")
        self.assertEqual(other.call("CLIENT", "KILL", "ID", victim_id), 1)
        closed, _ = victim.closed_within(5)
        self.assertTrue(closed, "the killed client's connection stays open")
        self.assertEqual(other.call("PING"), b"PONG")

    def test_tracking_redirected_to_another_client_of_the_sidecar(self):
        receiver, reader, writer = self.client(), self.client(), self.client()
        receiver_id = receiver.call("CLIENT", "ID")
        self.assertEqual(receiver.call("SUBSCRIBE", "__redis__:invalidate")[0], b"subscribe")
        self.assertEqual(reader.call("CLIENT", "TRACKING", "on", "REDIRECT", receiver_id), b"OK")
        self.assertIsNone(reader.call("GET", "tracked_key"))
        self.assertEqual(writer.call("SET", "tracked_key", "v"), b"OK")
        message = receiver.read_reply()
        self.assertEqual(message[:2], [b"message", b"__redis__:invalidate"])
        self.assertEqual(message[2], [b"tracked_key"])


if __name__ == "__main__":
    unittest.main()
