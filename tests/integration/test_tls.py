"""Upstream TLS (issue #6): with `--upstream-tls yes` every connection the sidecar makes to Redis
(shared, pinned, the mirror feed, recovery) goes over TLS, Redis's certificate is verified (chain
and name), and Redis's `tls-auth-clients` gets the client certificate.

Redis here serves TLS only (`--port 0 --tls-port N`), so anything that reaches it spoke TLS. A
throw-away CA, server and client certificates are made with the `openssl` command. A TLS set-up
that Redis or the sidecar refuses (wrong CA, no client certificate, wrong name) is a Redis that is
down: the local store answers, and the log says why. Files that cannot be used stop start-up with a
line naming the option.
"""

import os
import shutil
import tempfile
import time
import unittest

from degraded_support import info_sidecar, wait_mode
from harness import (Env, FreshEnvTestCase, RawClient, RedisTls, SidecarTestCase, _LogOnFailure, encode, free_port,
                     run_cmd, sidecar_binary, sidecar_only, wait_for)

BLACKLIST_PREFIX = "jwt_token_blacklist_"


def openssl(*args):
    p = run_cmd(["openssl"] + list(args), timeout=30)
    if p.returncode != 0:
        raise RuntimeError("openssl %s: %s" % (" ".join(args), p.stderr.decode()))


class Pki:
    """A CA with a server certificate for localhost/127.0.0.1 and a client certificate, and a
    second CA that signed nothing of Redis's (for verification failures)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sidecar-tls-")
        self.ca, self.ca_key = self._ca("ca", "sidecar test CA")
        self.other_ca, _ = self._ca("other-ca", "some other CA")
        self.server, self.server_key = self._signed("server", "localhost",
                                                    "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                                    "extendedKeyUsage=serverAuth\n")
        self.client, self.client_key = self._signed("client", "redis-sidecar", "extendedKeyUsage=clientAuth\n")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _ca(self, name, cn):
        cert, key = self.path(name + ".crt"), self.path(name + ".key")
        openssl("req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + cn)
        return cert, key

    def _signed(self, name, cn, extensions):
        cert, key, csr, ext = (self.path(name + s) for s in (".crt", ".key", ".csr", ".ext"))
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + extensions)
        openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key, "-CAcreateserial",
                "-out", cert, "-days", "2", "-extfile", ext)
        return cert, key

    def redis_tls(self, auth_clients="yes"):
        """Redis's side; the test's own clients verify it and present the client certificate."""
        return RedisTls(self.ca, self.server, self.server_key, self.client, self.client_key, auth_clients)

    def sidecar_args(self, ca=None, client_cert=True, extra=()):
        args = ["--upstream-tls", "yes", "--upstream-tls-ca-file", ca or self.ca]
        if client_cert:
            args += ["--upstream-tls-cert-file", self.client, "--upstream-tls-key-file", self.client_key]
        return args + list(extra)

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


PKI = None


def setUpModule():
    global PKI
    PKI = Pki()
    unittest.addModuleCleanup(PKI.remove)


def sidecar_log(env):
    with open(env.sidecar.log, "rb") as f:
        return f.read().decode("utf-8", "replace")


@sidecar_only("Redis speaks TLS only; the tests' clients speak plain RESP to the sidecar")
class TlsForwardingTest(SidecarTestCase):
    """A sidecar with the right CA and client certificate, Redis with `tls-auth-clients yes`. Two
    event loops share the TLS context."""

    @classmethod
    def setUpClass(cls):
        cls.redis_tls = PKI.redis_tls("yes")
        cls.sidecar_args = PKI.sidecar_args(extra=["--threads", "2"])
        super().setUpClass()

    def test_get_set_and_a_pipeline(self):
        c = self.client()
        self.assertEqual(c.call("SET", "greeting", "hello"), b"OK")
        self.assertEqual(c.call("GET", "greeting"), b"hello")
        n = 200
        c.send(b"".join(encode("SET", "k%d" % i, "v%d" % i) + encode("INCR", "counter") for i in range(n)))
        replies = [c.read_reply() for _ in range(2 * n)]
        self.assertEqual(replies[0::2], [b"OK"] * n)
        self.assertEqual(replies[1::2], list(range(1, n + 1)))
        c.send(b"".join(encode("GET", "k%d" % i) for i in range(n)))
        self.assertEqual([c.read_reply() for _ in range(n)], [b"v%d" % i for i in range(n)])
        # Really in Redis (read over a TLS connection of the test's own).
        self.assertEqual(self.env.redis_call("GET", "counter"), str(n).encode())

    def test_transaction_on_a_pinned_connection(self):
        c = self.client()
        before = int(info_sidecar(self.env.port)["pinned_sessions_total"])
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("SET", "tx", "1"), b"QUEUED")
        self.assertEqual(c.call("INCR", "tx"), b"QUEUED")
        self.assertEqual(c.call("EXEC"), [b"OK", 2])
        self.assertEqual(int(info_sidecar(self.env.port)["pinned_sessions_total"]), before + 1)
        self.assertEqual(self.env.redis_call("GET", "tx"), b"2")

    def test_subscriber_on_a_pinned_connection(self):
        sub = self.client()
        self.assertEqual(sub.call("SUBSCRIBE", "news"), [b"subscribe", b"news", 1])
        pub = self.client()
        wait_for(lambda: pub.call("PUBLISH", "news", "tls works") == 1, 5.0, what="the subscriber in Redis")
        self.assertEqual(sub.read_reply(), [b"message", b"news", b"tls works"])

    def test_redis_has_only_tls_clients_and_they_include_the_sidecars(self):
        # No plaintext port: every connection the sidecar holds is a TLS one.
        self.assertEqual(self.env.redis_call("CONFIG", "GET", "port"), [b"port", b"0"])
        self.client().call_ok("PING")
        listing = self.env.redis_call("CLIENT", "LIST").decode()
        lines = [line for line in listing.splitlines() if line]
        # 2 shared connections per event loop, the mirror feed (CLIENT TRACKING: flag t) and this
        # listing itself.
        self.assertGreaterEqual(len(lines), 6, listing)
        self.assertTrue(any(" flags=t" in line for line in lines), "no tracking (mirror feed) client:\n" + listing)

    def test_mirror_feed_follows_redis_over_tls(self):
        def mirrored():
            return int(info_sidecar(self.env.port).get("local_keys_blacklist", "0"))

        before = mirrored()
        token = BLACKLIST_PREFIX + "tls-mirror-%d" % time.monotonic_ns()
        self.assertEqual(self.env.redis_call("SET", token, "1", "EX", 600), b"OK")
        # Revoked elsewhere (straight in Redis): the sidecar's mirror learns it from tracking pushes.
        wait_for(lambda: mirrored() > before, 5.0, what="the token in the local mirror")
        # Gone from Redis, the mirror still fails closed.
        self.assertEqual(self.env.redis_call("DEL", token), 1)
        self.assertEqual(self.client().call("GET", token), b"1")


@sidecar_only("outages are the sidecar's")
class TlsOutageTest(FreshEnvTestCase):
    """Redis away and back over TLS: a hung handshake times out, recovery speaks TLS too."""

    def setUp(self):
        self.redis_tls = PKI.redis_tls("yes")
        self.sidecar_args = PKI.sidecar_args(extra=["--log-level", "debug"])
        super().setUp()

    def test_revocation_while_down_is_replayed_over_tls(self):
        self.env.redis.kill()
        wait_mode(self.env.port, "down", 5.0)
        token = BLACKLIST_PREFIX + "tls-recovery"
        self.assertEqual(self.client().call("SET", token, "1", "EX", 600), b"OK")
        self.env.redis.start()  # empty, on the same TLS port
        wait_for(lambda: self.env.redis_call("GET", token) == b"1", 10.0, what="the token replayed into Redis")
        wait_mode(self.env.port, "up", 10.0)

    def test_hung_redis_is_down_within_the_timeout_and_back_after(self):
        c = self.client()
        self.assertEqual(c.call("SET", "k", "before"), b"OK")
        self.env.redis.pause()  # the kernel still accepts TCP; TLS handshakes get no answer
        self.addCleanup(lambda: self.env.redis.running() and self.env.redis.resume())
        wait_mode(self.env.port, "down", 5.0)
        wait_for(lambda: "no answer from Redis within" in sidecar_log(self.env), 5.0,
                 what="a reconnect whose TLS handshake timed out")
        self.env.redis.resume()
        wait_mode(self.env.port, "up", 10.0)
        self.assertEqual(self.client().call("GET", "k"), b"before")


@sidecar_only("tests the sidecar's TLS client")
class TlsRefusedTest(_LogOnFailure, unittest.TestCase):
    """A TLS set-up that fails is a Redis that is down: local answers, and the reason in the log."""

    env = None

    def start(self, sidecar_args, auth_clients="yes", expect_mode="down"):
        self.env = Env(sidecar_args + ["--log-level", "debug"], redis_tls=PKI.redis_tls(auth_clients))
        self.addCleanup(self.env.stop)
        self.env.start(wait_upstream=False)
        wait_mode(self.env.port, expect_mode, 5.0)

    def tearDown(self):
        self._dump_logs_if_failed(self.env)

    def assert_down_with_local_answers(self, reason):
        c = RawClient(self.env.port)
        self.addCleanup(c.close)
        self.assertEqual(c.call("SET", "cache:tls", "local"), b"OK")
        self.assertEqual(c.call("GET", "cache:tls"), b"local")
        fields = info_sidecar(self.env.port)
        self.assertEqual(fields["mode"], "down")
        self.assertGreater(int(fields["upstream_connection_failures"]), 0)
        # It stays down (every retry is refused the same way), and Redis never got the write.
        time.sleep(0.6)
        self.assertEqual(info_sidecar(self.env.port)["mode"], "down")
        self.assertIsNone(self.env.redis_call("GET", "cache:tls"))
        wait_for(lambda: reason in sidecar_log(self.env), 5.0, what="%r in the sidecar log" % reason)

    def test_wrong_ca_fails_verification(self):
        self.start(PKI.sidecar_args(ca=PKI.other_ca))
        self.assert_down_with_local_answers("certificate verify failed")

    def test_wrong_server_name_fails_verification(self):
        self.start(PKI.sidecar_args(extra=["--upstream-tls-server-name", "redis.example.com"]))
        self.assert_down_with_local_answers("hostname mismatch")

    def test_no_client_certificate_when_redis_requires_one(self):
        self.start(PKI.sidecar_args(client_cert=False))
        self.assert_down_with_local_answers("certificate required")

    def test_no_client_certificate_when_redis_makes_it_optional(self):
        self.start(PKI.sidecar_args(client_cert=False), auth_clients="optional", expect_mode="up")
        c = RawClient(self.env.port)
        self.addCleanup(c.close)
        self.assertEqual(c.call("SET", "optional", "1"), b"OK")
        self.assertEqual(self.env.redis_call("GET", "optional"), b"1")

    def test_verify_no_accepts_any_certificate_and_warns(self):
        self.start(PKI.sidecar_args(ca=PKI.other_ca, extra=["--upstream-tls-verify", "no"]), expect_mode="up")
        self.assertIn("upstream-tls-verify no", sidecar_log(self.env))


@sidecar_only("tests the sidecar binary")
class TlsStartupTest(unittest.TestCase):
    """Options and files that cannot work stop start-up at once, with one line naming the option."""

    def assert_refused(self, args, option):
        tmp = tempfile.mkdtemp(prefix="sidecar-tls-start-")
        self.addCleanup(shutil.rmtree, tmp, True)
        p = run_cmd([sidecar_binary(), "--listen", "127.0.0.1:%d" % free_port(), "--data-dir", tmp] + args, timeout=10)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        self.assertNotEqual(p.returncode, 0, "%r was accepted:\n%s" % (args, out))
        self.assertIn("'%s'" % option, out, "the message does not name %s" % option)

    def test_unreadable_ca_file(self):
        self.assert_refused(PKI.sidecar_args(ca="/nonexistent/ca.crt"), "upstream-tls-ca-file")

    def test_ca_file_that_holds_no_certificate(self):
        self.assert_refused(PKI.sidecar_args(ca=PKI.path("server.ext")), "upstream-tls-ca-file")

    def test_certificate_without_key(self):
        self.assert_refused(["--upstream-tls", "yes", "--upstream-tls-cert-file", PKI.client], "upstream-tls-key-file")

    def test_key_without_certificate(self):
        self.assert_refused(["--upstream-tls", "yes", "--upstream-tls-key-file", PKI.client_key],
                            "upstream-tls-cert-file")

    def test_key_of_another_certificate(self):
        self.assert_refused(["--upstream-tls", "yes", "--upstream-tls-cert-file", PKI.client,
                             "--upstream-tls-key-file", PKI.server_key], "upstream-tls-key-file")

    def test_tls_files_without_upstream_tls(self):
        self.assert_refused(["--upstream-tls-ca-file", PKI.ca], "upstream-tls-ca-file")

    def test_upstream_tls_is_yes_or_no(self):
        self.assert_refused(["--upstream-tls", "maybe"], "upstream-tls")


if __name__ == "__main__":
    unittest.main()
