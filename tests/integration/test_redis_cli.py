"""redis-cli through the sidecar: every data type, stdin scripts, and --pipe mass insertion."""

import re
import shutil
import unittest

from harness import SidecarTestCase, encode, run_cmd, sidecar_only


class RedisCliTest(SidecarTestCase):

    def cli(self, *args, raw=True, stdin=None, extra=()):
        exe = shutil.which("redis-cli") or "/usr/bin/redis-cli"
        argv = [exe, "-h", "127.0.0.1", "-p", str(self.env.port)] + list(extra)
        if not raw:
            argv.append("--no-raw")
        argv += [str(a) for a in args]
        p = run_cmd(argv, timeout=30, input=stdin)
        out = p.stdout.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 0, "%s -> rc %s\n%s%s" % (argv, p.returncode, out, p.stderr.decode()))
        return out

    def lines(self, *args):
        return self.cli(*args).rstrip("\n").split("\n")

    def test_strings(self):
        self.assertEqual(self.cli("SET", "s", "hello"), "OK\n")
        self.assertEqual(self.cli("GET", "s"), "hello\n")
        self.assertEqual(self.cli("APPEND", "s", " world"), "11\n")
        self.assertEqual(self.cli("GETRANGE", "s", "0", "4"), "hello\n")
        self.assertEqual(self.cli("SET", "n", "10"), "OK\n")
        self.assertEqual(self.cli("INCRBY", "n", "5"), "15\n")
        self.assertEqual(self.cli("INCRBYFLOAT", "n", "0.5"), "15.5\n")
        self.assertEqual(self.cli("SET", "t", "v", "EX", "100"), "OK\n")
        ttl = int(self.cli("TTL", "t"))
        self.assertTrue(95 <= ttl <= 100, ttl)
        self.assertEqual(self.cli("MSET", "a", "1", "b", "2"), "OK\n")
        self.assertEqual(self.cli("MGET", "a", "b", "nope"), "1\n2\n\n")
        self.assertEqual(self.cli("GET", "nope", raw=False), "(nil)\n")
        self.assertEqual(self.cli("SETNX", "a", "x"), "0\n")
        self.assertEqual(self.cli("DEL", "a", "b", "nope"), "2\n")
        self.assertEqual(self.cli("EXISTS", "a"), "0\n")

    def test_lists(self):
        self.assertEqual(self.cli("RPUSH", "l", "a", "b", "c"), "3\n")
        self.assertEqual(self.cli("LPUSH", "l", "z"), "4\n")
        self.assertEqual(self.lines("LRANGE", "l", "0", "-1"), ["z", "a", "b", "c"])
        self.assertEqual(self.cli("LPOP", "l"), "z\n")
        self.assertEqual(self.cli("RPOP", "l"), "c\n")
        self.assertEqual(self.cli("LLEN", "l"), "2\n")
        self.assertEqual(self.cli("LINDEX", "l", "1"), "b\n")
        self.assertEqual(self.cli("LRANGE", "l", "0", "-1", raw=False), '1) "a"\n2) "b"\n')

    def test_hashes(self):
        self.assertEqual(self.cli("HSET", "h", "f1", "v1", "f2", "v2"), "2\n")
        self.assertEqual(self.cli("HGET", "h", "f1"), "v1\n")
        self.assertEqual(sorted(self.lines("HKEYS", "h")), ["f1", "f2"])
        got = self.lines("HGETALL", "h")
        self.assertEqual(dict(zip(got[::2], got[1::2])), {"f1": "v1", "f2": "v2"})
        self.assertEqual(self.cli("HINCRBY", "h", "n", "3"), "3\n")
        self.assertEqual(self.cli("HLEN", "h"), "3\n")
        self.assertEqual(self.cli("HDEL", "h", "f1"), "1\n")
        self.assertEqual(self.cli("HEXISTS", "h", "f1"), "0\n")

    def test_sets(self):
        self.assertEqual(self.cli("SADD", "s1", "a", "b", "c"), "3\n")
        self.assertEqual(self.cli("SADD", "s2", "b", "c", "d"), "3\n")
        self.assertEqual(sorted(self.lines("SINTER", "s1", "s2")), ["b", "c"])
        self.assertEqual(sorted(self.lines("SUNION", "s1", "s2")), ["a", "b", "c", "d"])
        self.assertEqual(self.lines("SDIFF", "s1", "s2"), ["a"])
        self.assertEqual(self.cli("SISMEMBER", "s1", "a"), "1\n")
        self.assertEqual(self.cli("SCARD", "s1"), "3\n")
        self.assertEqual(self.cli("SREM", "s1", "a"), "1\n")

    def test_sorted_sets(self):
        self.assertEqual(self.cli("ZADD", "z", "1", "one", "2", "two", "3", "three"), "3\n")
        self.assertEqual(self.lines("ZRANGE", "z", "0", "-1"), ["one", "two", "three"])
        self.assertEqual(self.lines("ZRANGE", "z", "0", "-1", "WITHSCORES"),
                         ["one", "1", "two", "2", "three", "3"])
        self.assertEqual(self.lines("ZREVRANGEBYSCORE", "z", "+inf", "2"), ["three", "two"])
        self.assertEqual(self.cli("ZSCORE", "z", "two"), "2\n")
        self.assertEqual(self.cli("ZINCRBY", "z", "10", "one"), "11\n")
        self.assertEqual(self.cli("ZRANK", "z", "one"), "2\n")
        self.assertEqual(self.cli("ZCARD", "z"), "3\n")
        self.assertEqual(self.lines("ZPOPMIN", "z"), ["two", "2"])

    def test_streams(self):
        id1 = self.cli("XADD", "st", "*", "temp", "20").strip()
        self.assertRegex(id1, r"^\d+-\d+$")
        id2 = self.cli("XADD", "st", "*", "temp", "21").strip()
        self.assertEqual(self.cli("XLEN", "st"), "2\n")
        self.assertEqual(self.lines("XRANGE", "st", "-", "+"), [id1, "temp", "20", id2, "temp", "21"])
        self.assertEqual(self.cli("XGROUP", "CREATE", "st", "g", "0"), "OK\n")
        got = self.lines("XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "st", ">")
        self.assertEqual(got, ["st", id1, "temp", "20"])
        self.assertEqual(self.cli("XACK", "st", "g", id1), "1\n")
        pending = self.cli("XPENDING", "st", "g", raw=False)
        self.assertIn("(integer) 0", pending)
        self.assertEqual(self.lines("XREAD", "COUNT", "5", "STREAMS", "st", id1), ["st", id2, "temp", "21"])
        self.assertEqual(self.cli("XTRIM", "st", "MAXLEN", "1"), "1\n")

    def test_keys_scan_type_expire(self):
        self.cli("MSET", "k:1", "a", "k:2", "b", "other", "c")
        self.assertEqual(sorted(self.lines("KEYS", "k:*")), ["k:1", "k:2"])
        self.assertEqual(sorted(self.cli("--scan", "--pattern", "k:*").split()), ["k:1", "k:2"])
        self.assertEqual(self.cli("TYPE", "k:1"), "string\n")
        self.assertEqual(self.cli("EXPIRE", "k:1", "100"), "1\n")
        self.assertEqual(self.cli("PERSIST", "k:1"), "1\n")
        self.assertEqual(self.cli("TTL", "k:1"), "-1\n")
        self.assertEqual(self.cli("DBSIZE"), "3\n")

    def test_error_reply(self):
        out = self.cli("INCR")
        self.assertEqual(out.strip(), "ERR wrong number of arguments for 'incr' command")
        self.cli("SET", "str", "x")
        self.assertEqual(self.cli("LPUSH", "str", "a").strip(),
                         "WRONGTYPE Operation against a key holding the wrong kind of value")

    def test_commands_from_stdin(self):
        script = "SET a 1\nINCR a\nINCRBY a 10\nGET a\nPING\nECHO \"two words\"\nDEL a\n"
        self.assertEqual(self.cli(stdin=script.encode()), "OK\n2\n12\n12\nPONG\ntwo words\n1\n")

    def test_pipe_mass_insertion(self):
        n = 10000
        payload = b"".join(encode("SET", "mass:%d" % i, "v%d" % i) for i in range(n))
        out = self.cli(extra=("--pipe",), stdin=payload)
        self.assertRegex(out, r"errors: 0, replies: %d" % n)
        self.assertEqual(self.cli("DBSIZE"), "%d\n" % n)
        self.assertEqual(self.cli("GET", "mass:9999"), "v9999\n")

    def test_info_and_repeat(self):
        out = self.cli("INFO", "server")
        self.assertRegex(out, re.compile(r"^redis_version:", re.M))
        out = self.cli("INCR", "rep", extra=("-r", "100"))
        self.assertEqual(out.split(), [str(i) for i in range(1, 101)])

    @sidecar_only("the Sidecar section")
    def test_info_sidecar_with_another_database(self):
        # -n 1 sends SELECT 1, which pins the connection: the section still comes from the sidecar.
        out = self.cli("INFO", "sidecar", extra=("-n", "1"))
        self.assertRegex(out, re.compile(r"^# Sidecar\r?$", re.M))
        self.assertRegex(out, re.compile(r"^pinned_connections:[1-9]", re.M))
        out = self.cli("INFO", extra=("-n", "1"))
        self.assertRegex(out, re.compile(r"^redis_version:", re.M))
        self.assertRegex(out, re.compile(r"^# Sidecar\r?$", re.M))


if __name__ == "__main__":
    unittest.main()
