"""Raw RESP through the sidecar: protocol errors, inline commands, pipelines, large values."""

import signal
import socket
import threading
import time
import unittest

from harness import ConnectionClosed, SidecarTestCase, encode, sidecar_only


class ProtocolErrorTest(SidecarTestCase):
    """A protocol error gets Redis's exact reply, after the replies to earlier commands, then close."""

    def assert_protocol_error(self, payload, expected_error, before=b""):
        c = self.client(timeout=5)
        c.send(payload)
        try:
            got = c.read_until_close()
        except socket.timeout:
            self.fail("connection not closed after protocol error; payload %r, got so far %r"
                      % (payload[:80], c.pending()))
        expected = before + b"-ERR Protocol error: " + expected_error + b"\r\n"
        self.assertEqual(got, expected, "payload %r" % payload[:80])

    def test_invalid_multibulk_length(self):
        self.assert_protocol_error(b"*abc\r\n", b"invalid multibulk length")

    def test_multibulk_length_too_large(self):
        self.assert_protocol_error(b"*99999999999\r\n", b"invalid multibulk length")

    def test_invalid_bulk_length(self):
        self.assert_protocol_error(b"*1\r\n$abc\r\n", b"invalid bulk length")

    def test_negative_bulk_length(self):
        self.assert_protocol_error(b"*2\r\n$3\r\nGET\r\n$-5\r\n", b"invalid bulk length")

    def test_bulk_length_over_proto_max_bulk_len(self):
        self.assert_protocol_error(b"*1\r\n$536870913\r\n", b"invalid bulk length")

    def test_expected_dollar(self):
        self.assert_protocol_error(b"*1\r\nfoo\r\n", b"expected '$', got 'f'")

    def test_unbalanced_quotes(self):
        self.assert_protocol_error(b'SET k "abc\r\n', b"unbalanced quotes in request")

    def test_too_big_inline_request(self):
        self.assert_protocol_error(b"a" * (70 * 1024), b"too big inline request")

    def test_too_big_mbulk_count_string(self):
        self.assert_protocol_error(b"*" + b"1" * (70 * 1024), b"too big mbulk count string")

    def test_too_big_bulk_count_string(self):
        self.assert_protocol_error(b"*1\r\n$" + b"1" * (70 * 1024), b"too big bulk count string")

    def test_error_after_valid_commands_keeps_order(self):
        self.assert_protocol_error(b"PING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*x\r\n",
                                   b"invalid multibulk length", before=b"+PONG\r\n+PONG\r\n$-1\r\n")

    def test_error_after_forwarded_commands_keeps_order(self):
        payload = encode("SET", "pe", "1") + encode("INCR", "pe") + b"*1\r\n$zz\r\n"
        self.assert_protocol_error(payload, b"invalid bulk length", before=b"+OK\r\n:2\r\n")

    def test_commands_after_error_are_not_run(self):
        self.assert_protocol_error(b"*x\r\n" + encode("SET", "after-error", "1"), b"invalid multibulk length")
        c = self.client()
        self.assertIsNone(c.call("GET", "after-error"))


class InlineTest(SidecarTestCase):

    def test_inline_commands(self):
        c = self.client()
        c.send(b"PING\r\n")
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")
        c.send(b"SET inl bar\r\n")
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")
        c.send(b"GET inl\r\n")
        self.assertEqual(c.read_raw_reply(), b"$3\r\nbar\r\n")
        c.send(b"ECHO \"hello world\"\r\n")
        self.assertEqual(c.read_raw_reply(), b"$11\r\nhello world\r\n")
        c.send(b"SET q \"a\\x41\\n\"\r\nGET q\r\n")
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")
        self.assertEqual(c.read_raw_reply(), b"$3\r\naA\n\r\n")
        c.send(b"SET sq 'it''s'\r\n")  # not valid: closing quote must be followed by a space
        self.assertEqual(c.read_raw_reply(), b"-ERR Protocol error: unbalanced quotes in request\r\n")

    def test_inline_lf_only_and_blank_lines(self):
        c = self.client()
        c.send(b"\r\n\n   \r\nPING\nINCR inlctr\n  INCR   inlctr  \r\n")
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")
        self.assertEqual(c.read_raw_reply(), b":1\r\n")
        self.assertEqual(c.read_raw_reply(), b":2\r\n")

    def test_inline_pipeline_mixed_with_multibulk(self):
        c = self.client()
        c.send(b"SET m 1\r\n" + encode("INCR", "m") + b"INCRBY m 10\r\n" + encode("GET", "m"))
        self.assertEqual([c.read_reply() for _ in range(4)], [b"OK", 2, 12, b"12"])

    def test_inline_unknown_command(self):
        c = self.client()
        c.send(b"NOSUCHCMD a b\r\n")
        self.assertEqual(c.read_raw_reply(),
                         b"-ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' \r\n")


class FramingTest(SidecarTestCase):

    def test_empty_multibulk_is_ignored(self):
        c = self.client()
        c.send(b"*0\r\n*-1\r\nPING\r\n")
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")
        c.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            c.read_raw_reply()

    def test_command_split_at_every_byte(self):
        c = self.client()
        payload = encode("SET", "split", "va\r\nlue") + encode("GET", "split") + b"PING\r\n"
        for i in range(len(payload)):
            c.send(payload[i:i + 1])
            time.sleep(0.002)
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")
        self.assertEqual(c.read_raw_reply(), b"$7\r\nva\r\nlue\r\n")
        self.assertEqual(c.read_raw_reply(), b"+PONG\r\n")

    def test_binary_safe_values(self):
        c = self.client()
        value = bytes(range(256)) * 4
        self.assertEqual(c.call("SET", b"bin\x00key\r\n", value), b"OK")
        self.assertEqual(c.call("GET", b"bin\x00key\r\n"), value)

    def test_large_values(self):
        c = self.client(timeout=30)
        big = b"x" * (5 * 1024 * 1024) + b"\r\nend"
        self.assertEqual(c.call("SET", "big", big), b"OK")
        self.assertEqual(c.call("STRLEN", "big"), len(big))
        self.assertEqual(c.call("GET", "big"), big)
        # a large array reply
        for start in range(0, 100000, 10000):
            c.send(encode("RPUSH", "biglist", *range(start, start + 10000)))
            c.read_reply()
        reply = c.call("LRANGE", "biglist", 0, -1)
        self.assertEqual(len(reply), 100000)
        self.assertEqual(reply[0], b"0")
        self.assertEqual(reply[-1], b"99999")

    def test_large_and_small_requests_streamed_in_uneven_pieces_reach_redis_intact(self):
        # Large requests go to Redis straight out of the client's receive buffer while the client
        # keeps sending: those bytes must not move or be overwritten until answered. Two clients
        # stream SETs of sizes around the sharing threshold (requests of 512 B: values of 474 to
        # 482 bytes with these keys), a 16 KB read, the 64 KB arena and beyond, with GETs between
        # them, in pieces that split requests across reads, without waiting for replies; Redis
        # stalls once for a moment so that much is in flight. Every reply and every value stored
        # must be the one sent.
        import random
        sizes = [20, 300, 474, 478, 482, 1000, 3000, 16 * 1024 + 7, 40000, 70000, 5]
        n = 600

        def run_client(number, problems):
            rng = random.Random(number)
            values = [rng.randbytes(sizes[(i * 7 + number) % len(sizes)]) for i in range(n)]
            requests, expected = [], []
            for i, value in enumerate(values):
                requests.append(encode("SET", "st%d:%d" % (number, i), value))
                expected.append(b"OK")
                if i % 5 == 4:
                    requests.append(encode("GET", "st%d:%d" % (number, i - 3)))
                    expected.append(values[i - 3])
            payload = b"".join(requests)
            c = self.client(timeout=20)

            def writer():
                if number == 1:  # pieces that split requests anywhere
                    at = 0
                    while at < len(payload):
                        piece = rng.randint(1, 40000)
                        c.send(payload[at:at + piece])
                        at += piece
                else:  # whole requests, so that reads often end where one does
                    for request in requests:
                        c.send(request)

            t = threading.Thread(target=writer, daemon=True)
            t.start()
            for k, want in enumerate(expected):
                got = c.read_reply()
                if got != want:
                    problems.append("client %d reply %d: %r (%d bytes), expected %d bytes" %
                                    (number, k, got[:40] if isinstance(got, bytes) else got,
                                     len(got) if isinstance(got, bytes) else -1, len(want)))
                    return
            t.join(20)
            with self.env.redis_client(timeout=20) as r:
                for i, value in enumerate(values):
                    if r.call("GET", "st%d:%d" % (number, i)) != value:
                        problems.append("client %d: st%d:%d holds other bytes in Redis" % (number, number, i))
                        return

        problems = []
        threads = [threading.Thread(target=run_client, args=(number, problems), daemon=True) for number in (1, 2)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        self.env.redis.pause()
        time.sleep(0.08)  # well under the upstream timeout (500 ms): a stall, not an outage
        self.env.redis.resume()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "a client did not finish")
        self.assertEqual(problems, [])

    def test_pipeline_of_10000_commands_in_order(self):
        c = self.client(timeout=30)
        n = 10000
        payload = bytearray()
        for i in range(n):
            if i % 2 == 0:
                payload += encode("INCR", "pipectr")
            else:
                payload += encode("ECHO", "msg-%d" % i)
        err = []

        def writer():
            try:
                c.send(bytes(payload))
            except OSError as e:
                err.append(e)

        t = threading.Thread(target=writer, daemon=True)
        t.start()
        ctr = 0
        for i in range(n):
            r = c.read_reply()
            if i % 2 == 0:
                ctr += 1
                self.assertEqual(r, ctr, "reply %d out of order" % i)
            else:
                self.assertEqual(r, b"msg-%d" % i, "reply %d out of order" % i)
        t.join(10)
        self.assertFalse(err)
        self.assertEqual(c.call("GET", "pipectr"), b"%d" % (n // 2))

    def test_pipeline_with_local_and_forwarded_commands_in_order(self):
        # PING and CLIENT GETNAME may be answered by the sidecar itself; they must still come
        # back in request order relative to the forwarded ones.
        c = self.client(timeout=30)
        payload = bytearray()
        expected = []
        for i in range(2000):
            payload += encode("SET", "k%d" % (i % 7), i)
            payload += encode("PING")
            payload += encode("GET", "k%d" % (i % 7))
            payload += encode("CLIENT", "GETNAME")
            expected += [b"OK", b"PONG", str(i).encode(), None]
        c.send(bytes(payload))
        got = [c.read_reply() for _ in expected]
        self.assertEqual(got, expected)

    def test_quit(self):
        c = self.client(timeout=5)
        c.send(b"PING\r\nQUIT\r\nPING\r\n")
        self.assertEqual(c.read_until_close(), b"+PONG\r\n+OK\r\n")

    def test_quit_after_forwarded_commands(self):
        c = self.client(timeout=5)
        c.send(encode("INCR", "qf") + encode("GET", "qf") + encode("QUIT") + encode("INCR", "qf"))
        self.assertEqual(c.read_until_close(), b":1\r\n$1\r\n1\r\n+OK\r\n")
        self.assertEqual(self.client().call("GET", "qf"), b"1")

    def test_many_arguments(self):
        c = self.client(timeout=30)
        n = 100000
        self.assertEqual(c.call("MSET", *[x for i in range(n) for x in ("many:%d" % i, i)]), b"OK")
        self.assertEqual(c.call("DBSIZE"), n)
        keys = ["many:%d" % i for i in range(n)]
        got = c.call("MGET", *keys)
        self.assertEqual(len(got), n)
        self.assertEqual(got[-1], b"%d" % (n - 1))
        self.assertEqual(c.call("DEL", *keys), n)

    def test_client_disconnect_with_pending_replies(self):
        # A client that goes away with requests in flight must not disturb the others.
        for _ in range(20):
            c = self.client()
            c.send(encode("INCR", "dc") * 200)
            c.close()
        c = self.client()
        wait = time.monotonic() + 5
        while time.monotonic() < wait:
            v = int(c.call("GET", "dc") or 0)
            if v == 4000:
                break
            time.sleep(0.05)
        v = int(c.call("GET", "dc") or 0)
        self.assertLessEqual(v, 4000)
        self.assertEqual(c.call("PING"), b"PONG")
        self.assertEqual(c.call("INCR", "other"), 1)

    def test_interleaved_pipelines_with_clients_leaving(self):
        # Pipelines of several clients interleave on the shared connection, and every other
        # client goes away with its requests in flight: their sessions must live until Redis has
        # answered them, the clients that stay get every reply, in order, and the sidecar is
        # unharmed (under ASan: no use after free).
        clients = [self.client(timeout=10) for _ in range(6)]
        chunks, per_chunk = 4, 150
        for _ in range(chunks):
            for i, c in enumerate(clients):
                c.send(encode("INCR", "il:%d" % i) * per_chunk)
        for c in clients[::2]:
            c.close()
        for i in range(1, len(clients), 2):
            got = [clients[i].read_reply() for _ in range(chunks * per_chunk)]
            self.assertEqual(got, list(range(1, chunks * per_chunk + 1)), "client %d" % i)
        c = self.client()
        self.assertEqual(c.call("PING"), b"PONG")
        self.assertLessEqual(int(c.call("GET", "il:0") or 0), chunks * per_chunk)


class MisuseTest(SidecarTestCase):

    def test_half_closed_client_still_gets_replies(self):
        # `printf 'SET k v\r\nGET k\r\n' | nc -N host port` style: the client shuts down its
        # write side right after its commands; Redis still answers all of them, then closes.
        c = self.client(timeout=5)
        c.send(encode("SET", "hc", "v") + encode("INCR", "hcn") * 100 + encode("GET", "hc"))
        c.sock.shutdown(socket.SHUT_WR)
        try:
            got = c.read_until_close()
        except ConnectionClosed:
            got = b""
        expected = b"+OK\r\n" + b"".join(b":%d\r\n" % i for i in range(1, 101)) + b"$1\r\nv\r\n"
        self.assertEqual(got, expected, "after SHUT_WR got %d of %d reply bytes" % (len(got), len(expected)))

    @sidecar_only("the sidecar's reads")
    def test_half_closed_client_whose_fin_came_with_its_last_bytes_is_closed(self):
        # While the sidecar is stopped, the client's last commands and its FIN wait in the socket
        # together, and one epoll report covers both: the read that takes the bytes is short and
        # leaves no later edge for the FIN. The sidecar must still see the EOF and close (it
        # waited forever; the test above hit it now and then on a loaded machine).
        c = self.client(timeout=5)
        self.assertEqual(c.call("PING"), b"PONG")  # a short read first, as any client's
        proc = self.env.sidecar.proc
        proc.send_signal(signal.SIGSTOP)
        try:
            c.send(encode("SET", "hcf", "v") + encode("GET", "hcf"))
            c.sock.shutdown(socket.SHUT_WR)
            time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGCONT)
        try:
            got = c.read_until_close()
        except ConnectionClosed:
            got = b""
        self.assertEqual(got, b"+OK\r\n$1\r\nv\r\n")


if __name__ == "__main__":
    unittest.main()
