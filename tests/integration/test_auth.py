"""requirepass: clients authenticate to the sidecar itself, with Redis 7.0's replies byte for byte.

The sidecar checks the password (AUTH, AUTH default, HELLO AUTH) whether Redis is up or down; the
differential test sends the same sequences to a real redis-server started with --requirepass and
compares every reply. In direct mode (INTEGRATION_DIRECT=1) Redis itself gets --requirepass, so the
tests check themselves against Redis.
"""

import os
import socket
import tempfile
import unittest

from harness import DIRECT, Env, RawClient, RedisServer, SidecarTestCase, encode, sidecar_only, wait_for

PASSWORD = "s3cret-for-the-sidecar"
NOAUTH = b"-NOAUTH Authentication required.\r\n"
WRONGPASS = b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
HELLO_NOAUTH = (b"-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH "
                b"<user> <pass> option can be used to authenticate the client and select the RESP protocol "
                b"version at the same time\r\n")
FAST = ("--upstream-timeout", "500", "--probe-interval", "250")


def requirepass_args(password=PASSWORD):
    return ("--requirepass", password)


def raw(client, *args):
    """The exact bytes of the reply to one command."""
    client.send(encode(*args))
    return client.read_raw_reply()


class RequirepassTest(SidecarTestCase):
    sidecar_args = FAST + requirepass_args()
    redis_args = requirepass_args() if DIRECT else ()

    def authed(self):
        c = self.client()
        self.assertEqual(raw(c, "AUTH", PASSWORD), b"+OK\r\n")
        return c

    def test_commands_before_auth_get_noauth(self):
        c = self.client()
        for args in (("GET", "k"), ("PING",), ("SET", "k", "v"), ("INFO",), ("SELECT", "0"), ("MULTI",),
                     ("CLIENT", "SETNAME", "x"), ("SUBSCRIBE", "ch"), ("EVALSHA", "0" * 40, "0")):
            self.assertEqual(raw(c, *args), NOAUTH, args)
        c.send(b"PING\r\n")  # inline
        self.assertEqual(c.read_raw_reply(), NOAUTH)
        # nothing of it reached Redis
        if not DIRECT:
            self.assertIsNone(self.env.redis_call("GET", "k"))

    def test_wrong_passwords(self):
        c = self.client()
        self.assertEqual(raw(c, "AUTH", "wrong"), WRONGPASS)
        self.assertEqual(raw(c, "AUTH", "default", "wrong"), WRONGPASS)
        self.assertEqual(raw(c, "AUTH", "someone", PASSWORD), WRONGPASS)
        self.assertEqual(raw(c, "AUTH", ""), WRONGPASS)
        self.assertEqual(raw(c, "AUTH", PASSWORD.upper()), WRONGPASS)
        self.assertEqual(raw(c, "AUTH", PASSWORD[:-1]), WRONGPASS)
        self.assertEqual(raw(c, "AUTH", PASSWORD + "x"), WRONGPASS)
        self.assertEqual(raw(c, "GET", "k"), NOAUTH)

    def test_auth_arity(self):
        c = self.client()
        self.assertEqual(raw(c, "AUTH"), b"-ERR wrong number of arguments for 'auth' command\r\n")
        self.assertEqual(raw(c, "AUTH", "default", PASSWORD, "x"), b"-ERR syntax error\r\n")
        self.assertEqual(raw(c, "GET", "k"), NOAUTH)

    def test_auth_then_commands_work(self):
        c = self.client()
        self.assertEqual(raw(c, "auth", PASSWORD), b"+OK\r\n")
        self.assertEqual(raw(c, "SET", "ak", "v"), b"+OK\r\n")
        self.assertEqual(raw(c, "GET", "ak"), b"$1\r\nv\r\n")
        self.assertEqual(raw(c, "PING"), b"+PONG\r\n")
        # a wrong AUTH afterwards does not undo the first one (as in Redis)
        self.assertEqual(raw(c, "AUTH", "wrong"), WRONGPASS)
        self.assertEqual(raw(c, "GET", "ak"), b"$1\r\nv\r\n")

    def test_auth_default_user(self):
        c = self.client()
        self.assertEqual(raw(c, "AUTH", "default", PASSWORD), b"+OK\r\n")
        self.assertEqual(raw(c, "INCR", "counter"), b":1\r\n")

    def test_auth_inline_and_pipelined(self):
        c = self.client()
        c.send(b"AUTH " + PASSWORD.encode() + b"\r\n" + encode("SET", "pk", "1") + encode("GET", "pk"))
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")
        self.assertEqual(c.read_raw_reply(), b"+OK\r\n")
        self.assertEqual(c.read_raw_reply(), b"$1\r\n1\r\n")
        d = self.client()
        d.send(encode("GET", "pk") + encode("AUTH", PASSWORD) + encode("GET", "pk"))
        self.assertEqual(d.read_raw_reply(), NOAUTH)
        self.assertEqual(d.read_raw_reply(), b"+OK\r\n")
        self.assertEqual(d.read_raw_reply(), b"$1\r\n1\r\n")

    def test_hello_before_auth(self):
        c = self.client()
        self.assertEqual(raw(c, "HELLO"), HELLO_NOAUTH)
        self.assertEqual(raw(c, "HELLO", "2"), HELLO_NOAUTH)
        self.assertEqual(raw(c, "HELLO", "3"), HELLO_NOAUTH)
        self.assertEqual(raw(c, "HELLO", "4"), b"-NOPROTO unsupported protocol version\r\n")
        self.assertEqual(raw(c, "HELLO", "3", "AUTH", "default", "wrong"), WRONGPASS)
        self.assertEqual(raw(c, "HELLO", "2", "AUTH", "default"), b"-ERR Syntax error in HELLO option 'AUTH'\r\n")
        self.assertEqual(raw(c, "GET", "k"), NOAUTH)

    def test_hello_2_auth(self):
        c = self.client()
        r = c.call("HELLO", "2", "AUTH", "default", PASSWORD, "SETNAME", "h2-app")
        self.assertIsInstance(r, list, r)
        d = dict(zip(r[::2], r[1::2]))
        self.assertEqual(d[b"proto"], 2)
        self.assertEqual(d[b"server"], b"redis")
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"h2-app")
        self.assertEqual(c.call("SET", "h2k", "1"), b"OK")

    def test_hello_3_auth_then_pinned_commands(self):
        c = self.client()
        r = c.call("HELLO", "3", "AUTH", "default", PASSWORD)
        self.assertIsInstance(r, dict, r)
        self.assertEqual(r[b"proto"], 3)
        c.call_ok("HSET", "h3", "f", "v")
        c.send(encode("HGETALL", "h3"))
        self.assertEqual(c.read_raw_reply(), b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n")
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("INCR", "h3n"), b"QUEUED")
        self.assertEqual(c.call("EXEC"), [1])

    def test_quit_before_auth(self):
        c = self.client(timeout=5)
        c.send(encode("QUIT"))
        self.assertEqual(c.read_until_close(), b"+OK\r\n")

    def test_reset_deauthenticates(self):
        c = self.authed()
        self.assertEqual(raw(c, "CLIENT", "SETNAME", "before"), b"+OK\r\n")
        self.assertEqual(raw(c, "RESET", "x"), b"-ERR wrong number of arguments for 'reset' command\r\n")
        self.assertEqual(raw(c, "RESET"), b"+RESET\r\n")
        self.assertEqual(raw(c, "GET", "k"), NOAUTH)
        self.assertEqual(raw(c, "AUTH", PASSWORD), b"+OK\r\n")
        self.assertEqual(raw(c, "CLIENT", "GETNAME"), b"$-1\r\n")
        self.assertEqual(raw(c, "RESET"), b"+RESET\r\n")
        self.assertEqual(raw(c, "RESET"), b"+RESET\r\n")  # allowed before AUTH too

    def test_unauthenticated_request_limits(self):
        # Redis 7.0 allows at most 10 arguments of 16 KB before AUTH; the sidecar too.
        for payload, error in ((b"*11\r\n", b"unauthenticated multibulk length"),
                               (b"*2\r\n$4\r\nAUTH\r\n$20000\r\n", b"unauthenticated bulk length")):
            c = self.client(timeout=5)
            c.send(payload)
            self.assertEqual(c.read_until_close(), b"-ERR Protocol error: " + error + b"\r\n")
        c = self.authed()
        args = ["MSET"] + ["k%d" % i for i in range(20)]
        self.assertEqual(raw(c, *args), b"+OK\r\n")
        self.assertEqual(raw(c, "SET", "big", "x" * 20000), b"+OK\r\n")

    def test_redis_py_with_password(self):
        import redis  # noqa: PLC0415

        r = self.env.py(password=PASSWORD)
        self.assertTrue(r.set("py", "1"))
        self.assertEqual(r.get("py"), b"1")
        r = self.env.py(username="default", password=PASSWORD)
        self.assertEqual(r.incr("pyn"), 1)
        # redis-py 4.3.4 raises WRONGPASS as a plain ResponseError, NOAUTH as AuthenticationError
        with self.assertRaises(redis.exceptions.ResponseError) as raised:
            self.env.py(password="wrong").get("py")
        self.assertIn("WRONGPASS", str(raised.exception))
        with self.assertRaises(redis.exceptions.AuthenticationError):
            self.env.py().get("py")

    @sidecar_only("counts the sidecar's own AUTH failures")
    def test_auth_failures_counted(self):
        before = int(self.env.sidecar.info_fields()["auth_failures"])
        c = self.client()
        for _ in range(3):
            self.assertEqual(raw(c, "AUTH", "nope"), WRONGPASS)
        self.assertEqual(int(self.env.sidecar.info_fields()["auth_failures"]), before + 3)


class RequirepassFileTest(SidecarTestCase):
    """--requirepass-file: the first line of the file is the password."""

    @classmethod
    def setUpClass(cls):
        fd, path = tempfile.mkstemp(prefix="sidecar-requirepass-")
        with os.fdopen(fd, "w") as f:
            f.write(PASSWORD + "\nthis second line is not part of it\n")
        os.chmod(path, 0o600)
        cls.addClassCleanup(os.unlink, path)
        cls.sidecar_args = ("--requirepass-file", path)
        cls.redis_args = requirepass_args() if DIRECT else ()
        super().setUpClass()

    def test_password_from_file(self):
        c = self.client()
        self.assertEqual(raw(c, "GET", "k"), NOAUTH)
        self.assertEqual(raw(c, "AUTH", PASSWORD + "\nthis second line is not part of it"), WRONGPASS)
        self.assertEqual(raw(c, "AUTH", PASSWORD), b"+OK\r\n")
        self.assertEqual(raw(c, "PING"), b"+PONG\r\n")


@sidecar_only("the sidecar's password differs from Redis's")
class OwnPasswordNotRedisTest(SidecarTestCase):
    """Redis has a password of its own (the sidecar uses --upstream-password-file): the client's
    password is the sidecar's, and is never replayed to Redis, pinned connections included."""

    REDIS_PASSWORD = "redis-side-password"

    @classmethod
    def setUpClass(cls):
        fd, path = tempfile.mkstemp(prefix="sidecar-upstream-password-")
        with os.fdopen(fd, "w") as f:
            f.write(cls.REDIS_PASSWORD + "\n")
        cls.addClassCleanup(os.unlink, path)
        cls.sidecar_args = FAST + requirepass_args() + ("--upstream-password-file", path)
        cls.redis_args = ("--requirepass", cls.REDIS_PASSWORD)
        super().setUpClass()

    def test_hello_3_auth_pins_without_replaying_the_password(self):
        c = self.client()
        r = c.call("HELLO", "3", "AUTH", "default", PASSWORD, "SETNAME", "resp3-app")
        self.assertIsInstance(r, dict, r)
        self.assertEqual(r[b"proto"], 3)
        self.assertEqual(c.call("CLIENT", "GETNAME"), b"resp3-app")
        self.assertEqual(c.call("SET", "p3", "1"), b"OK")
        c.send(encode("GET", "nothing-here"))
        self.assertEqual(c.read_raw_reply(), b"_\r\n")  # RESP3 null: the pinned connection speaks RESP3

    def test_auth_and_pinned_transaction(self):
        c = self.client()
        self.assertEqual(raw(c, "AUTH", PASSWORD), b"+OK\r\n")
        self.assertEqual(raw(c, "MULTI"), b"+OK\r\n")
        self.assertEqual(raw(c, "INCR", "tx"), b"+QUEUED\r\n")
        self.assertEqual(raw(c, "EXEC"), b"*1\r\n:1\r\n")
        # Redis's own password is not the clients'
        d = self.client()
        self.assertEqual(raw(d, "AUTH", self.REDIS_PASSWORD), WRONGPASS)

    def test_hello_2_auth(self):
        c = self.client()
        self.assertIsInstance(c.call("HELLO", "2", "AUTH", "default", PASSWORD), list)
        self.assertEqual(c.call("GET", "tx-none"), None)


@sidecar_only("Redis down: the sidecar answers alone")
class RequirepassWithRedisDownTest(unittest.TestCase):
    """The same password rules while the local store answers."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env(FAST + requirepass_args())
        cls.addClassCleanup(cls.env.stop)
        cls.env.start()
        cls.env.redis.stop()
        wait_for(lambda: cls.env.sidecar.mode() == "down", 5.0, what="mode:down after Redis stopped")

    def test_noauth_wrongpass_and_auth_while_down(self):
        with RawClient(self.env.port) as c:
            self.assertEqual(raw(c, "GET", "down-k"), NOAUTH)
            self.assertEqual(raw(c, "SET", "down-k", "1"), NOAUTH)
            self.assertEqual(raw(c, "PING"), NOAUTH)
            self.assertEqual(raw(c, "HELLO", "2"), HELLO_NOAUTH)
            self.assertEqual(raw(c, "AUTH", "wrong"), WRONGPASS)
            self.assertEqual(raw(c, "GET", "down-k"), NOAUTH)
            self.assertEqual(raw(c, "AUTH", PASSWORD), b"+OK\r\n")
            self.assertEqual(raw(c, "SET", "down-k", "1"), b"+OK\r\n")
            self.assertEqual(raw(c, "GET", "down-k"), b"$1\r\n1\r\n")
        with RawClient(self.env.port) as c:
            r = c.call("HELLO", "2", "AUTH", "default", PASSWORD)
            self.assertIsInstance(r, list, r)
            self.assertEqual(raw(c, "GET", "down-k"), b"$1\r\n1\r\n")
            self.assertEqual(raw(c, "RESET"), b"+RESET\r\n")
            self.assertEqual(raw(c, "GET", "down-k"), NOAUTH)

    def test_redis_py_while_down(self):
        r = self.env.py(password=PASSWORD)
        self.assertTrue(r.set("down-py", "1"))
        self.assertEqual(r.get("down-py"), b"1")


# The same byte sequences to Redis (--requirepass) and to the sidecar (requirepass); every reply
# must be the same bytes. HELLO's successful reply differs by design (the connection id), so the
# sequences use its error cases only.
SEQUENCE_BEFORE_AUTH = [
    ("GET", "diff-key"), ("PING",), ("PING", "x"), ("SET", "diff-key", "v"), ("INFO",), ("CLIENT", "ID"),
    ("SELECT", "1"), ("MULTI",), ("EXEC",), ("AUTH",), ("AUTH", "a", "b", "c"), ("AUTH", "wrong"),
    ("AUTH", "default", "wrong"), ("AUTH", "other", PASSWORD), ("AUTH", ""), ("HELLO",), ("HELLO", "2"),
    ("HELLO", "3"), ("HELLO", "4"), ("HELLO", "x"), ("HELLO", "3", "AUTH", "default", "wrong"),
    ("HELLO", "2", "AUTH", "x"), ("RESET", "x"), ("RESET",), ("HELLO", "2", "SETNAME", "a b"),
    # Redis 7.0 sets the name as it reads the option, before it finds the client unauthenticated
    ("HELLO", "2", "SETNAME", "pre"), ("HELLO", "2", "FOO"), ("GET", "diff-key"),
    ("MSET",) + ("x",) * 9, ("GET", "x" * 16384),
]
SEQUENCE_AFTER_AUTH = [
    ("AUTH", PASSWORD), ("GET", "diff-key"), ("CLIENT", "GETNAME"), ("AUTH", "wrong"), ("SET", "diff-key", "v"),
    ("GET", "diff-key"), ("AUTH", "default", PASSWORD), ("AUTH", "a", "b", "c"), ("HELLO", "2", "AUTH", "x"),
    ("RESET",), ("GET", "diff-key"), ("CLIENT", "GETNAME"), ("AUTH", "default", PASSWORD), ("DEL", "diff-key"),
    ("QUIT",),
]


@sidecar_only("compares the sidecar with Redis")
class DifferentialAuthTest(unittest.TestCase):
    """Redis 7.0 with --requirepass vs the sidecar with requirepass, raw bytes compared."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env(FAST + requirepass_args())
        cls.addClassCleanup(cls.env.stop)
        cls.env.start()
        cls.reference = RedisServer(cls.env.tmp, extra_args=requirepass_args()).start()
        cls.addClassCleanup(cls.reference.stop)

    def replies(self, port, commands, pipelined):
        out = []
        with RawClient(port, timeout=5) as c:
            if pipelined:
                c.send(b"".join(encode(*args) for args in commands))
                for _ in commands:
                    out.append(c.read_raw_reply())
            else:
                for args in commands:
                    c.send(encode(*args))
                    out.append(c.read_raw_reply())
            c.settimeout(5)
            out.append(("closed after", c.read_until_close()))
        return out

    def compare(self, commands, pipelined):
        expected = self.replies(self.reference.port, commands, pipelined)
        got = self.replies(self.env.port, commands, pipelined)
        for args, want, have in zip(commands + [("(end)",)], expected, got):
            self.assertEqual(have, want, "reply to %r differs (pipelined=%s)" % (args, pipelined))

    def test_one_by_one(self):
        self.compare(SEQUENCE_BEFORE_AUTH + SEQUENCE_AFTER_AUTH, pipelined=False)

    def test_pipelined(self):
        self.compare(SEQUENCE_BEFORE_AUTH + SEQUENCE_AFTER_AUTH, pipelined=True)

    def test_inline(self):
        for port in (self.reference.port, self.env.port):
            with RawClient(port, timeout=5) as c:
                c.send(b"GET x\r\nAUTH wrong\r\nAUTH " + PASSWORD.encode() + b"\r\nEXISTS x\r\n")
                self.assertEqual([c.read_raw_reply() for _ in range(4)],
                                 [NOAUTH, WRONGPASS, b"+OK\r\n", b":0\r\n"], "port %d" % port)

    def test_unauthenticated_limits(self):
        for payload in (b"*11\r\n", b"*1\r\n$16385\r\n", b"*2\r\n$3\r\nGET\r\n$16385\r\n"):
            results = []
            for port in (self.reference.port, self.env.port):
                with RawClient(port, timeout=5) as c:
                    c.send(payload)
                    try:
                        results.append(c.read_raw_reply())
                    except socket.timeout:
                        results.append(b"(no reply)")
            self.assertEqual(results[1], results[0], payload)

    def test_hello_success_has_the_same_shape(self):
        for version in ("2", "3"):
            shapes = []
            for port in (self.reference.port, self.env.port):
                with RawClient(port, timeout=5) as c:
                    r = c.call("HELLO", version, "AUTH", "default", PASSWORD)
                    d = r if isinstance(r, dict) else dict(zip(r[::2], r[1::2]))
                    shapes.append({k: v for k, v in d.items() if k != b"id"})
                    self.assertEqual(c.call("EXISTS", "x"), 0)
            self.assertEqual(shapes[1], shapes[0], "HELLO %s" % version)


if __name__ == "__main__":
    unittest.main()
