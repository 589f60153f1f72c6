"""INFO while Redis is down, against Redis 7.0 itself (a differential test).

A real redis-server (the reference) and a sidecar whose upstream is down get the same requests;
for each INFO request the sidecar's local reply must have the reference's section headers in the
same order, and in each section the same field names in the same order, with values of the same
format (integer, `0.00` float, `1.02M` human size, `12.34%`, `1.000000` CPU seconds...). The
sidecar's own `# Sidecar` section comes last where it belongs and is left out of the comparison.

Fields whose presence depends on state (Keyspace's `db<N>` lines, Commandstats' lines per command
called, Errorstats' lines per error code, Latencystats' lines per command, Replication's
`slave<N>` lines) are compared by shape, not list: each such line on either side must have the
form Redis gives it, and the entries the test's own commands create (db0, cmdstat_set,
errorstat_ERR) must be on both sides.
"""

import re
import shutil
import tempfile
import unittest

import redis

from degraded_support import FAST_SIDECAR_ARGS, RawClient, ReplyError, Sidecar, free_port, wait_mode
from harness import DIRECT, RedisServer

SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats",
            "cluster", "keyspace", "commandstats", "latencystats")

REQUESTS = [(), ("default",), ("all",), ("everything",), ("ALL",), ("Default",)] + [(s,) for s in SECTIONS] + [
    ("module_list",), ("CPU",), ("Keyspace",),
    ("server", "clients"), ("keyspace", "replication", "cpu"), ("Memory", "STATS", "memory"),
    ("commandstats", "errorstats", "latencystats"), ("all", "server"), ("default", "commandstats"),
    ("server", "sidecar"), ("nosuchsection",), ("nosuchsection", "cluster"),
]

# Requests whose reply ends with the sidecar's own section.
WITH_SIDECAR = {(), ("default",), ("all",), ("everything",), ("ALL",), ("Default",), ("all", "server"),
                ("default", "commandstats"), ("server", "sidecar")}

# State-dependent lines: (field name pattern, value pattern), by kind.
STATE_DEPENDENT = [
    (r"db\d+", r"keys=\d+,expires=\d+,avg_ttl=\d+"),
    (r"cmdstat_[^:]+", r"calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,failed_calls=\d+"),
    (r"errorstat_[^:]+", r"count=\d+"),
    (r"latency_percentiles_usec_[^:]+", r"p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}"),
    (r"slave\d+", r"ip=[^,]*,port=\d+,state=\w+,offset=\d+,lag=\d+"),
]

# Value formats, the first that matches names a value's format.
FORMATS = [
    ("hex40", r"[0-9a-f]{40}"),
    ("integer", r"-?\d+"),
    ("cpu seconds", r"\d+\.\d{6}"),
    ("two decimals", r"-?\d+\.\d\d"),
    ("percent", r"\d+\.\d\d%"),
    ("human bytes", r"\d+B|\d+\.\d\d[KMGTP]"),
    ("text", r".*"),
]

# Identifiers whose form is the build's: Debian's Redis has a hex build id, the sidecar a constant.
FORMAT_FREE = {"redis_build_id"}


def value_format(value):
    return next(name for name, pattern in FORMATS if re.fullmatch(pattern, value))


def state_dependent(field):
    """The value pattern of a state-dependent field, None for the others."""
    return next((value for name, value in STATE_DEPENDENT if re.fullmatch(name, field)), None)


def parse(body):
    """[(section, [(field, value)...])...] of an INFO body, in order."""
    sections = []
    for line in body.decode().split("\r\n"):
        if line.startswith("# "):
            sections.append((line[2:], []))
        elif line:
            field, _, value = line.partition(":")
            sections[-1][1].append((field, value))
    return sections


@unittest.skipIf(DIRECT, "INTEGRATION_DIRECT=1: the local INFO is the sidecar's")
class InfoDownDifferentialTest(unittest.TestCase):
    """One reference Redis and one sidecar with its upstream down (a port nobody listens on)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sidecar-info-down-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.redis = RedisServer(cls.tmp).start()
        cls.addClassCleanup(cls.redis.stop)
        cls.sidecar = Sidecar(cls.tmp, free_port(), FAST_SIDECAR_ARGS).start()
        cls.addClassCleanup(cls.sidecar.stop)
        wait_mode(cls.sidecar.port, "down", 10.0, "mode:down with no Redis upstream")
        # The same state on both: keys (one with a TTL), calls, an error reply.
        for port in (cls.redis.port, cls.sidecar.port):
            with RawClient(port) as c:
                c.call_ok("SET", "info_down_a", "1")
                c.call_ok("SET", "info_down_b", "x", "EX", "1000")
                assert c.call("GET", "info_down_a") == b"1"
                assert isinstance(c.call("INCR", "info_down_b"), ReplyError)

    def info(self, port, args):
        with RawClient(port) as c:
            reply = c.call("INFO", *args)
        self.assertIsInstance(reply, bytes, "INFO %s on port %d -> %r" % (" ".join(args), port, reply))
        return reply

    def compare_section(self, what, name, expected, got):
        fixed_expected = [(f, v) for f, v in expected if state_dependent(f) is None]
        fixed_got = [(f, v) for f, v in got if state_dependent(f) is None]
        self.assertEqual([f for f, _ in fixed_got], [f for f, _ in fixed_expected],
                         "%s: the fields of # %s differ from Redis's" % (what, name))
        for (field, ours), (_, theirs) in zip(fixed_got, fixed_expected):
            if field not in FORMAT_FREE:
                self.assertEqual(value_format(ours), value_format(theirs),
                                 "%s: %s:%s is not in Redis's format (%s:%s)" % (what, field, ours, field, theirs))
        for side, lines in (("sidecar", got), ("Redis", expected)):
            for field, value in lines:
                pattern = state_dependent(field)
                if pattern is not None:
                    self.assertRegex(value, "^(%s)$" % pattern, "%s: %s's %s line" % (what, side, field))

    def test_every_request_has_redis_sections_and_fields_in_order(self):
        for args in REQUESTS:
            what = "INFO %s" % " ".join(args)
            with self.subTest(args=args):
                expected = parse(self.info(self.redis.port, args))
                got = parse(self.info(self.sidecar.port, args))
                if args in WITH_SIDECAR:
                    self.assertTrue(got and got[-1][0] == "Sidecar", "%s: no # Sidecar section last" % what)
                    self.assertIn(("mode", "down"), got[-1][1])
                    got = got[:-1]
                self.assertEqual([s for s, _ in got], [s for s, _ in expected], "%s: sections differ" % what)
                for (name, ours), (_, theirs) in zip(got, expected):
                    self.compare_section(what, name, theirs, ours)

    def test_state_the_test_made_is_listed_on_both_sides(self):
        for port in (self.redis.port, self.sidecar.port):
            fields = {f for _, lines in parse(self.info(port, ("everything",))) for f, _ in lines}
            for field in ("db0", "cmdstat_set", "cmdstat_get", "cmdstat_incr", "errorstat_ERR"):
                self.assertIn(field, fields, "port %d (Redis on %d)" % (port, self.redis.port))

    def test_unknown_section_is_an_empty_bulk_as_redis_gives(self):
        self.assertEqual(self.info(self.redis.port, ("nosuchsection",)), b"")
        self.assertEqual(self.info(self.sidecar.port, ("nosuchsection",)), b"")

    def test_redis_py_reads_every_local_section(self):
        r = redis.Redis(host="127.0.0.1", port=self.sidecar.port, socket_timeout=5, socket_connect_timeout=5)
        self.addCleanup(r.close)
        info = r.info("everything")
        self.assertEqual(info["master_repl_offset"], 0)
        self.assertEqual(info["second_repl_offset"], -1)
        self.assertRegex(info["master_replid"], r"^[0-9a-f]{40}$")
        self.assertEqual(info["rdb_changes_since_last_save"], 0)
        self.assertIsInstance(info["used_memory_rss"], int)
        self.assertIsInstance(info["mem_fragmentation_ratio"], float)
        self.assertEqual(info["db0"]["keys"], 2)
        self.assertEqual(info["cmdstat_set"]["calls"], 2)
        self.assertEqual(info["errorstat_ERR"], "count=1")  # redis-py leaves a lone k=v as text
        self.assertEqual(info["total_error_replies"], 1)
        # The ids are drawn once per process.
        self.assertEqual(r.info("server")["run_id"], info["run_id"])
        self.assertEqual(r.info("replication")["master_replid"], info["master_replid"])


if __name__ == "__main__":
    unittest.main()
