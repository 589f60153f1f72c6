"""What an operator sees and does: /metrics and /healthz, SIGHUP reload, a graceful SIGTERM that
answers what is in flight, and systemd's STATUS= following the mode (skipped in direct mode)."""

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from degraded_support import (FAST_SIDECAR_ARGS, DegradedTestCase, RawClient, ReplyError, Sidecar, encode,
                              free_port, info_sidecar, sidecar_only, wait_for, wait_mode)
from harness import tail

SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def with_options(**options):
    """FAST_SIDECAR_ARGS with these options set (upstream_timeout="3000" is --upstream-timeout 3000)."""
    args = list(FAST_SIDECAR_ARGS)
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return tuple(args)


def scrape(port, path="/metrics", method="GET"):
    """(status, body) of an HTTP request to the metrics endpoint."""
    request = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """{'name{labels}': value} of a Prometheus text body; every line must be a comment or a sample."""
    out = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE.match(line)
        assert m, "not a Prometheus sample line: %r" % line
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


@sidecar_only("tests the sidecar's metrics endpoint")
class MetricsTest(DegradedTestCase):

    def setUp(self):
        self.metrics_port = free_port()
        self.sidecar_args = FAST_SIDECAR_ARGS + ("--metrics-listen", "127.0.0.1:%d" % self.metrics_port)
        super().setUp()

    def metric(self, name):
        return samples(scrape(self.metrics_port)[1]).get(name)

    def test_metrics_count_requests_by_route_and_follow_the_mode(self):
        status, body = scrape(self.metrics_port)
        self.assertEqual(status, 200)
        for family in ("redis_sidecar_upstream_up", "redis_sidecar_connected_clients", "redis_sidecar_requests_total",
                       "redis_sidecar_mode_transitions_total", "redis_sidecar_request_duration_seconds",
                       "redis_sidecar_local_keys", "redis_sidecar_journal_bytes", "redis_sidecar_replay_backlog"):
            self.assertIn("# TYPE %s " % family, body)
        before = samples(body)
        self.assertEqual(before["redis_sidecar_upstream_up"], 1)
        c = self.client()
        for i in range(10):
            c.call("SET", "k%d" % i, "v")
        self.assertEqual(c.call("MULTI"), b"OK")
        self.assertEqual(c.call("SET", "x", "1"), b"QUEUED")
        self.assertEqual(c.call("EXEC"), [b"OK"])
        after = samples(scrape(self.metrics_port)[1])
        forwarded = 'redis_sidecar_requests_total{route="forwarded"}'
        pinned = 'redis_sidecar_requests_total{route="pinned"}'
        self.assertGreaterEqual(after[forwarded] - before[forwarded], 10)
        self.assertEqual(after[pinned] - before[pinned], 3)  # MULTI, SET, EXEC on the pinned connection
        count = 'redis_sidecar_request_duration_seconds_count{route="forwarded"}'
        self.assertGreaterEqual(after[count] - before[count], 10)
        self.assertEqual(after['redis_sidecar_request_duration_seconds_bucket{route="forwarded",le="+Inf"}'],
                         after[count])
        self.assertGreaterEqual(after["redis_sidecar_connected_clients"], 1)

        c.close()
        self.go_down("kill")
        self.assertEqual(self.metric("redis_sidecar_upstream_up"), 0)
        self.assertEqual(scrape(self.metrics_port, "/healthz")[0], 200)  # the local store answers
        with RawClient(self.port) as local:
            self.assertEqual(local.call("SET", "jwt_token_blacklist_abc", "1", "EX", "600"), b"OK")
            self.assertEqual(local.call("GET", "cache:q", ), None)
        down = samples(scrape(self.metrics_port)[1])
        self.assertEqual(down['redis_sidecar_local_keys{class="blacklist"}'], 1)
        self.assertGreater(down["redis_sidecar_journal_bytes"], 0)
        self.assertGreaterEqual(down['redis_sidecar_requests_total{route="local"}'], 2)
        self.assertGreaterEqual(down['redis_sidecar_request_duration_seconds_count{route="local"}'], 2)

        self.env.start_redis()
        wait_mode(self.port, "up", 10, "mode:up after Redis came back")
        self.assertEqual(self.metric("redis_sidecar_upstream_up"), 1)
        self.assertGreaterEqual(self.metric("redis_sidecar_mode_transitions_total"), 2)
        self.assertGreaterEqual(self.metric('redis_sidecar_recovery_applied_total{kind="blacklist"}'), 1)

    def test_info_sidecar_shows_the_same_figures(self):
        with RawClient(self.port) as c:
            c.call("SET", "a", "1")
            info = c.call("INFO", "sidecar").decode()
        for key in ("requests_pinned:", "latency_forwarded_p99_us:", "local_keys_blacklist:", "journal_bytes:",
                    "recovery_backlog:"):
            self.assertIn(key, info)

    def test_healthz_and_http_errors(self):
        status, body = scrape(self.metrics_port, "/healthz")
        self.assertEqual((status, body), (200, "ok: serving from redis\n"))
        self.assertEqual(scrape(self.metrics_port, "/nope")[0], 404)
        self.assertEqual(scrape(self.metrics_port, "/metrics", method="POST")[0], 405)
        # Not HTTP at all: an error, and the endpoint still serves the next scrape.
        with socket.create_connection(("127.0.0.1", self.metrics_port), timeout=5) as s:
            s.sendall(b"\x00\x01garbage\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        self.assertEqual(scrape(self.metrics_port)[0], 200)

    def test_metrics_port_in_use_fails_start_naming_the_option(self):
        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        data_dir = os.path.join(self.env.tmp, "second")
        os.makedirs(data_dir)
        sidecar = Sidecar(self.env.tmp, self.env.redis_port, plain=True, port=free_port())
        sidecar.extra_args = ["--listen", "127.0.0.1:%d" % sidecar.port, "--data-dir", data_dir,
                              "--upstream", "127.0.0.1:%d" % self.env.redis_port,
                              "--metrics-listen", "127.0.0.1:%d" % port]
        sidecar.start(wait_ping=False)
        self.assertNotEqual(sidecar.proc.wait(10), 0)
        sidecar.stop()
        self.assertIn("'metrics-listen'", tail(sidecar.log))


@sidecar_only("tests SIGHUP")
class ReloadTest(DegradedTestCase):

    def setUp(self):
        self.conf = None
        super().setUp()

    def start_with_config(self, text):
        self.conf = os.path.join(self.env.tmp, "reload.conf")
        with open(self.conf, "w") as f:
            f.write(text)
        self.env.sidecar.stop()
        self.env.sidecar = Sidecar(self.env.tmp, self.env.redis_port, list(FAST_SIDECAR_ARGS) + ["--config", self.conf])
        self.env.sidecar.start()
        wait_mode(self.port, "up", 5.0)

    def reload(self, text):
        with open(self.conf, "w") as f:
            f.write(text)
        mark = os.path.getsize(self.env.sidecar.log)
        self.env.sidecar.proc.send_signal(signal.SIGHUP)

        def log_since():
            with open(self.env.sidecar.log, errors="replace") as f:
                f.seek(mark)
                return f.read()
        wait_for(lambda: "reload:" in log_since(), 5, what="a reload line in the log")
        time.sleep(0.2)  # the event loops apply it
        return log_since()

    def test_sighup_applies_limits_and_prefixes_and_names_what_needs_a_restart(self):
        self.start_with_config("maxclients = 100\ncache-prefix = cache:\n")
        log = self.reload("maxclients = 2\ncache-prefix = query:\njournal-fsync = everysec\n")
        self.assertIn("reload: maxclients: 100 -> 2", log)
        self.assertIn("reload: cache-prefix: cache: -> query:", log)
        self.assertIn("'journal-fsync' changed in the configuration; it takes effect at the next restart", log)
        self.assertTrue(self.env.sidecar.running())
        # maxclients 2 applies to new connections: the third gets Redis's error
        a, b = self.client(), self.client()
        self.assertEqual(a.call("PING"), b"PONG")
        self.assertEqual(b.call("PING"), b"PONG")
        third = self.client()
        third.send(encode("PING"))
        self.assertEqual(third.read_reply(), ReplyError("ERR max number of clients reached"))
        a.close()
        b.close()
        third.close()
        # the new cache prefix decides the class of keys written while Redis is down
        self.go_down("kill")
        with RawClient(self.port) as c:
            wait_for(lambda: c.call("SET", "query:1", "v", "EX", "60") == b"OK", 5, what="SET answered locally")
            info = c.call("INFO", "sidecar").decode()
        self.assertIn("local_keys_cache:1", info)

    def test_sighup_sets_requirepass_for_new_clients(self):
        self.start_with_config("timeout = 0\n")
        before = self.client()
        self.assertEqual(before.call("PING"), b"PONG")
        log = self.reload("requirepass = s3cret\n")
        self.assertIn("reload: requirepass: (changed)", log)
        self.assertNotIn("s3cret", log)
        after = self.client()
        self.assertEqual(after.call("GET", "k"), ReplyError("NOAUTH Authentication required."))
        self.assertEqual(after.call("AUTH", "wrong"),
                         ReplyError("WRONGPASS invalid username-password pair or user is disabled."))
        self.assertEqual(after.call("AUTH", "s3cret"), b"OK")
        self.assertEqual(after.call("PING"), b"PONG")
        self.assertEqual(before.call("PING"), b"PONG")  # authenticated when no password was needed

    def test_sighup_output_buffer_limit_applies_to_connected_clients(self):
        self.start_with_config("client-output-buffer-limit = 0 0 0\n")
        self.env.redis_call("SET", "big", "v" * (1 << 20))
        reader_that_stops = self.client()
        self.assertEqual(reader_that_stops.call("PING"), b"PONG")  # connected before the reload
        log = self.reload("client-output-buffer-limit = 2mb 0 0\n")
        self.assertIn("reload: client-output-buffer-limit", log)
        before = int(info_sidecar(self.port)["client_output_buffer_limit_disconnections"])
        reader_that_stops.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        reader_that_stops.send(b"".join(encode("GET", "big") for _ in range(100)))  # 100 MB, never read
        time.sleep(1.0)
        closed, got = reader_that_stops.closed_within(15)
        self.assertTrue(closed, "a client connected before the reload kept 100 MB of unread replies")
        self.assertLess(got, 60 << 20, "most of the replies should never have been sent")
        self.assertEqual(int(info_sidecar(self.port)["client_output_buffer_limit_disconnections"]), before + 1)

    def test_sighup_proto_max_bulk_len_applies_to_connected_clients(self):
        self.start_with_config("proto-max-bulk-len = 2mb\n")
        three_mb = "v" * (3 << 20)
        connected_before = self.client()
        self.assertEqual(connected_before.call("PING"), b"PONG")
        log = self.reload("proto-max-bulk-len = 4mb\n")
        self.assertIn("reload: proto-max-bulk-len", log)
        self.assertEqual(connected_before.call("SET", "bulk", three_mb), b"OK")
        log = self.reload("proto-max-bulk-len = 2mb\n")
        self.assertIn("reload: proto-max-bulk-len", log)
        # The header alone: it is refused as soon as it is read, and a client still sending the
        # 3 MB when the sidecar closes would get a reset (which lost this test its reply at times).
        connected_before.send(b"*3\r\n$3\r\nSET\r\n$4\r\nbulk\r\n$%d\r\n" % (3 << 20))
        self.assertEqual(connected_before.read_until_close(), b"-ERR Protocol error: invalid bulk length\r\n")

    def test_invalid_file_keeps_the_running_configuration(self):
        self.start_with_config("maxclients = 100\n")
        log = self.reload("maxclients = 2\nno-such-option = 1\n")
        self.assertIn("keeping the running configuration", log)
        self.assertTrue(self.env.sidecar.running())
        self.assertNotIn("maxclients", log)
        clients = [self.client() for _ in range(3)]
        for c in clients:
            self.assertEqual(c.call("PING"), b"PONG")


@sidecar_only("tests SIGTERM")
class GracefulShutdownTest(DegradedTestCase):
    redis_args = ("--enable-debug-command", "yes")
    sidecar_args = with_options(upstream_timeout="3000")

    def test_sigterm_answers_requests_in_flight_then_exits_zero(self):
        busy = self.client()
        busy.send(encode("DEBUG", "SLEEP", "0.5") + encode("SET", "after-sleep", "1"))
        idle = self.client()
        self.assertEqual(idle.call("PING"), b"PONG")
        time.sleep(0.1)  # DEBUG SLEEP is running in Redis
        self.env.sidecar.proc.send_signal(signal.SIGTERM)
        self.assertEqual(busy.read_reply(), b"OK")
        self.assertEqual(busy.read_reply(), b"OK")
        self.assertEqual(busy.read_until_close(), b"")
        self.assertEqual(self.env.sidecar.proc.wait(10), 0)
        # Redis ran what the sidecar acknowledged
        self.assertEqual(self.env.redis_call("GET", "after-sleep"), b"1")
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()



@sidecar_only("tests SIGTERM")
class ShutdownTimeoutTest(DegradedTestCase):
    redis_args = ("--enable-debug-command", "yes")
    sidecar_args = with_options(upstream_timeout="5000", shutdown_timeout="600")

    def test_shutdown_timeout_bounds_the_wait_for_replies(self):
        blocked = self.client()
        blocked.send(encode("DEBUG", "SLEEP", "3"))
        time.sleep(0.1)
        started = time.monotonic()
        self.env.sidecar.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.env.sidecar.proc.wait(10), 0)
        self.assertLess(time.monotonic() - started, 2.0, "shutdown-timeout 600 ms was not kept")


@sidecar_only("tests systemd's STATUS=")
class SystemdStatusTest(DegradedTestCase):

    def test_status_follows_the_mode(self):
        path = os.path.join(self.env.tmp, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(sock.close)
        sock.bind(path)
        sock.settimeout(0.2)
        self.env.sidecar.stop()
        self.env.sidecar = Sidecar(self.env.tmp, self.env.redis_port, FAST_SIDECAR_ARGS,
                                   env={"NOTIFY_SOCKET": path}).start()
        got = []

        def status_seen(fragment, seconds):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if any(line.startswith("STATUS=") and fragment in line for m in got for line in m.split("\n")):
                    return True
                try:
                    got.append(sock.recv(4096).decode("utf-8", "replace"))
                except socket.timeout:
                    pass
            return False

        self.assertTrue(status_seen("forwarding to Redis", 5), got)
        self.env.redis.kill()
        self.assertTrue(status_seen("is down: answering from the local store", 5), got)
        self.env.sidecar.proc.send_signal(signal.SIGTERM)
        self.assertTrue(status_seen("stopping", 5), got)
        self.assertEqual(self.env.sidecar.proc.wait(10), 0)


if __name__ == "__main__":
    import unittest
    unittest.main()
