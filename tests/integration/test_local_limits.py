"""The local store's limits while Redis is down: its memory bound, what it refuses, what INFO says.

- --local-maxmemory 2 MB: 10 MB of cache:* writes keep used_memory bounded (LRU eviction), recent
  keys stay readable, and jwt_token_blacklist_* keys are never evicted.
- FLUSHALL/FLUSHDB are refused (they would wipe the blacklist mirror); MULTI, SUBSCRIBE, LPUSH...
  get the clear "not served while it is down" error naming the command.
- INFO answers Redis-shaped sections from the local store.
"""

import time
import unittest

import redis

from degraded_support import (DegradedTestCase, RawClient, ReplyError, encode, info, is_not_served, parse_info,
                              sidecar_only)
from harness import rss, sanitized

MAXMEMORY = 2 * 1024 * 1024
VALUE_SIZE = 1000
CACHE_KEYS = 10 * 1024  # ~10 MB of values
BATCH = 256


def pipeline(client, commands):
    client.send(b"".join(encode(*c) for c in commands))
    return [client.read_reply() for _ in commands]


@sidecar_only("the local store is the sidecar's")
class LocalMemoryBoundTest(DegradedTestCase):
    sidecar_args = DegradedTestCase.sidecar_args + ("--local-maxmemory", str(MAXMEMORY))

    def used_memory(self):
        return int(info(self.port, "memory")[1]["used_memory"])

    def test_cache_writes_stay_bounded_blacklist_kept(self):
        self.go_down("kill")
        c = self.client(timeout=10)
        rss_before = rss(self.env.sidecar.proc.pid)
        tokens = ["jwt_token_blacklist_tok%03d" % i for i in range(100)]
        self.assertEqual(pipeline(c, [("SET", t, "1", "EX", "604800") for t in tokens]), [b"OK"] * 100)
        self.assertEqual(int(info(self.port, "memory")[1]["maxmemory"]), MAXMEMORY)

        worst = 0
        value = lambda i: (b"%08d" % i) * (VALUE_SIZE // 8)
        for start in range(0, CACHE_KEYS, BATCH):
            batch = [("SET", "cache:item:%06d" % i, value(i), "EX", "3600")
                     for i in range(start, min(start + BATCH, CACHE_KEYS))]
            replies = pipeline(c, batch)
            self.assertEqual(replies, [b"OK"] * len(batch), "batch at %d" % start)
            if (start // BATCH) % 8 == 7:
                used = self.used_memory()
                worst = max(worst, used)
                self.assertLess(used, 2 * MAXMEMORY, "used_memory %d after %d cache keys (bound %d)"
                                % (used, start + len(batch), MAXMEMORY))
        time.sleep(0.3)  # a background cycle
        used = self.used_memory()
        self.assertLess(used, 2 * MAXMEMORY, "used_memory %d after 10 MB of writes (bound %d)" % (used, MAXMEMORY))
        # The process itself, not just the store's accounting, stays bounded (ASan's quarantine
        # keeps freed memory: not there).
        grown = rss(self.env.sidecar.proc.pid) - rss_before
        if not sanitized(self.env.sidecar.proc.pid):
            self.assertLess(grown, 4 * MAXMEMORY, "RSS grew by %d bytes for a %d-byte bound" % (grown, MAXMEMORY))
        fields = info(self.port, "stats", "keyspace")[1]
        self.assertGreater(int(fields["evicted_keys"]), 0)
        self.assertLess(int(fields["db0"].split(",")[0].split("=")[1]), CACHE_KEYS)

        # The most recent writes are there.
        recent = ["cache:item:%06d" % i for i in range(CACHE_KEYS - 100, CACHE_KEYS)]
        got = c.call("MGET", *recent)
        self.assertEqual(got, [value(i) for i in range(CACHE_KEYS - 100, CACHE_KEYS)])
        # The early ones were evicted.
        self.assertIsNone(c.call("GET", "cache:item:000000"))
        # Every revoked token survived, with its TTL.
        self.assertEqual(c.call("MGET", *tokens), [b"1"] * 100)
        self.assertEqual(c.call("EXISTS", *tokens), 100)
        ttl = c.call("TTL", tokens[0])
        self.assertTrue(604700 <= ttl <= 604800, ttl)

    def test_blacklist_alone_may_exceed_the_bound(self):
        # Revoked tokens are never evicted, even when they alone pass the bound; cache keys give way.
        self.go_down("kill")
        c = self.client(timeout=10)
        big = b"t" * 4000
        tokens = ["jwt_token_blacklist_big%04d" % i for i in range(700)]  # ~2.8 MB of values
        for start in range(0, len(tokens), 100):
            self.assertEqual(pipeline(c, [("SET", t, big, "EX", "604800") for t in tokens[start:start + 100]]),
                             [b"OK"] * 100)
        self.assertEqual(c.call("SET", "cache:after", "x"), b"OK")
        self.assertEqual(c.call("EXISTS", *tokens), len(tokens))


@sidecar_only("the local store is the sidecar's")
class RefusedWhileDownTest(DegradedTestCase):

    def test_flush_refused_while_down(self):
        self.go_down("kill")
        c = self.client()
        c.call_ok("SET", "jwt_token_blacklist_keep", "1", "EX", "604800")
        c.call_ok("SET", "cache:keep", "1")
        for cmd in (("FLUSHALL",), ("FLUSHDB",), ("FLUSHALL", "ASYNC"), ("FLUSHDB", "SYNC"), ("flushall",)):
            r = c.call(*cmd)
            self.assertIsInstance(r, ReplyError, "%r while down -> %r" % (cmd, r))
            self.assertTrue(r.message.startswith("ERR "), r)
            self.assertIn("'%s'" % cmd[0].lower(), r.message, "the error names the command: %r" % r)
            self.assertIn("refused", r.message)
            self.assertIn("down", r.message)
        self.assertEqual(c.call("DBSIZE"), 2)
        self.assertEqual(c.call("GET", "jwt_token_blacklist_keep"), b"1")

    def test_unserved_commands_get_clear_error(self):
        self.go_down("kill")
        c = self.client()
        for cmd in (("MULTI",), ("EXEC",), ("SUBSCRIBE", "ch"), ("PSUBSCRIBE", "ch*"), ("LPUSH", "l", "x"),
                    ("HSET", "h", "f", "v"), ("BLPOP", "l", "0"), ("XADD", "s", "*", "f", "v"), ("WATCH", "k"),
                    ("ZADD", "z", "1", "m"), ("PUBLISH", "ch", "m"), ("SCRIPT", "FLUSH")):
            r = c.call(*cmd)
            name = cmd[0] if cmd[0] != "SCRIPT" else "script|flush"
            self.assertTrue(is_not_served(r, name), "%r while down -> %r" % (cmd, r))
            self.assertTrue(r.message.endswith("is not served by the sidecar while it is down"), r)
            # The connection stays usable, in order.
            self.assertEqual(c.call("PING"), b"PONG", "after %r" % (cmd,))
        # Pipelined, mixed with served commands: each reply in its place.
        replies = pipeline(c, [("SET", "a", "1"), ("MULTI",), ("INCR", "a"), ("LPUSH", "l", "x"), ("GET", "a")])
        self.assertEqual(replies[0], b"OK")
        self.assertTrue(is_not_served(replies[1], "multi"), replies[1])
        self.assertEqual(replies[2], 2)
        self.assertTrue(is_not_served(replies[3], "lpush"), replies[3])
        self.assertEqual(replies[4], b"2")

    def test_redis_py_sees_the_error(self):
        self.go_down("kill")
        r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, socket_connect_timeout=5)
        self.addCleanup(r.close)
        with self.assertRaises(redis.ResponseError) as e:
            r.lpush("l", "x")
        self.assertIn("'lpush' is not served", str(e.exception))
        with self.assertRaises(redis.ResponseError) as e:
            r.flushall()
        self.assertIn("refused", str(e.exception))
        p = r.pipeline(transaction=True)  # MULTI/EXEC
        p.set("a", "1")
        with self.assertRaises(redis.ResponseError):
            p.execute()
        self.assertEqual(r.ping(), True)


@sidecar_only("INFO from the local store is the sidecar's")
class InfoWhileDownTest(DegradedTestCase):

    def test_default_info_sections(self):
        self.go_down("kill")
        c = self.client()
        c.call_ok("SET", "a", "1")
        c.call_ok("SET", "b", "2", "EX", "100")
        c.call_ok("SET", "c", "3")
        for args in ((), ("default",)):
            sections, fields = info(self.port, *args)
            for s in ("Server", "Clients", "Memory", "CPU", "Keyspace"):
                self.assertIn(s, sections, "INFO %s while down: %r" % (" ".join(args), sections))
            self.assertNotIn("Commandstats", sections)
            self.assertRegex(fields["redis_version"], r"^\d+\.\d+\.\d+$")
            self.assertGreaterEqual(int(fields["connected_clients"]), 1)
            self.assertGreater(int(fields["used_memory"]), 0)
            float(fields["used_cpu_user"])
            float(fields["used_cpu_sys"])
            self.assertEqual(fields["db0"].split(",avg_ttl")[0], "keys=3,expires=1")
            self.assertEqual(fields["mode"], "down")

    def test_info_single_and_multiple_sections(self):
        self.go_down("kill")
        for arg in ("cpu", "CPU", "Cpu"):
            sections, fields = info(self.port, arg)
            self.assertEqual(sections, ["CPU"], "INFO %s while down" % arg)
            self.assertIn("used_cpu_user", fields)
        sections, _ = info(self.port, "memory")
        self.assertEqual(sections, ["Memory"])
        sections, _ = info(self.port, "keyspace")
        self.assertEqual(sections, ["Keyspace"])
        sections, _ = info(self.port, "cpu", "memory")
        self.assertEqual(sorted(sections), ["CPU", "Memory"])
        sections, fields = info(self.port, "sidecar")
        self.assertEqual(sections, ["Sidecar"])
        self.assertEqual(fields["mode"], "down")

    def test_info_all_and_everything(self):
        self.go_down("kill")
        c = self.client()
        c.call_ok("SET", "x", "1")
        c.call_ok("GET", "x")
        for arg in ("all", "everything", "ALL"):
            sections, fields = info(self.port, arg)
            for s in ("Server", "Clients", "Memory", "CPU", "Commandstats", "Keyspace", "Sidecar"):
                self.assertIn(s, sections, "INFO %s while down: %r" % (arg, sections))
            self.assertIn("cmdstat_get", fields)
            self.assertRegex(fields["cmdstat_get"], r"^calls=\d+,")

    def test_info_is_one_crlf_bulk_and_redis_py_parses_it(self):
        self.go_down("kill")
        with RawClient(self.port, timeout=5) as c:
            raw = c.send(encode("INFO")) or c.read_raw_reply()
        self.assertTrue(raw.startswith(b"$"))
        body = raw[raw.index(b"\r\n") + 2:-2]
        self.assertEqual(len(body), int(raw[1:raw.index(b"\r\n")]))
        self.assertNotIn(b"\n", body.replace(b"\r\n", b""))
        sections, _ = parse_info(body)
        self.assertGreaterEqual(len(sections), 5)
        r = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, socket_connect_timeout=5)
        self.addCleanup(r.close)
        self.assertIsInstance(r.info("memory")["used_memory"], int)
        self.assertIn("redis_version", r.info())
        self.assertIn("used_cpu_user", r.info("cpu"))


if __name__ == "__main__":
    unittest.main()
