"""redis-benchmark through the sidecar: pipelined load from 50 clients, no error, exact counts."""

import shutil
import unittest

from harness import SidecarTestCase, run_cmd

EXPECTED_TESTS = [
    "PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH", "LPOP", "RPOP", "SADD",
    "HSET", "SPOP", "ZADD", "ZPOPMIN", "LPUSH (needed to benchmark LRANGE)",
    "LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
    "LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)", "MSET (10 keys)",
]


class BenchmarkTest(SidecarTestCase):

    def run_benchmark(self, *extra):
        exe = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"
        args = [exe, "-h", "127.0.0.1", "-p", str(self.env.port)] + list(extra)
        p = run_cmd(args, timeout=240)
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        return p.returncode, out, err, " ".join(args)

    def test_pipelined_benchmark_without_errors(self):
        rc, out, err, cmd = self.run_benchmark("-P", "16", "-c", "50", "-n", "20000", "--csv")
        detail = "%s\nrc=%s\nstdout:\n%s\nstderr:\n%s" % (cmd, rc, out[-3000:], err[-3000:])
        self.assertEqual(rc, 0, detail)
        # redis-benchmark 7 stops at the first error reply ("Error from server: ...")
        self.assertNotIn("Error", out + err, detail)
        self.assertNotIn("Connection reset", out + err, detail)
        rows = [line.split(",")[0].strip('"') for line in out.splitlines() if line.startswith('"')]
        for name in EXPECTED_TESTS:
            self.assertIn(name, rows, detail)
        for line in out.splitlines()[1:]:
            if line.startswith('"'):
                rps = float(line.split(",")[1].strip('"'))
                self.assertGreater(rps, 0, line)
        # Each INCR of the INCR test hit the same key: exactly n of them reached Redis.
        r = self.redis_client()
        self.assertEqual(r.call("GET", "counter:__rand_int__"), b"20000")

    def test_benchmark_random_keys_exact_count(self):
        # 20000 INCRs on random keys, no pipelining, 50 clients: the sum of all counters is exact.
        rc, out, err, cmd = self.run_benchmark("-c", "50", "-n", "20000", "-r", "1000", "-t", "incr", "--csv")
        self.assertEqual(rc, 0, "%s\n%s\n%s" % (cmd, out, err))
        r = self.redis_client()
        keys = r.call("KEYS", "counter:*")
        total = sum(int(r.call("GET", k)) for k in keys)
        self.assertEqual(total, 20000)


if __name__ == "__main__":
    unittest.main()
