"""redis-py (Debian's python3-redis) app flows through the sidecar."""

import threading
import time
import unittest

import redis
from redis.exceptions import LockError, LockNotOwnedError, ResponseError, WatchError

from harness import SidecarTestCase


class RedisPyTest(SidecarTestCase):

    def setUp(self):
        super().setUp()
        self.r = self.env.py(decode_responses=True)
        self.addCleanup(self.r.close)

    def test_plain_commands(self):
        r = self.r
        self.assertTrue(r.ping())
        self.assertTrue(r.set("user:1:name", "ada"))
        self.assertEqual(r.get("user:1:name"), "ada")
        self.assertIsNone(r.get("missing"))
        self.assertEqual(r.incr("visits"), 1)
        self.assertEqual(r.incrby("visits", 9), 10)
        self.assertTrue(r.set("session", "s", ex=60))
        self.assertTrue(55 <= r.ttl("session") <= 60)
        self.assertFalse(r.set("session", "other", nx=True))
        self.assertEqual(r.hset("user:1", mapping={"name": "ada", "lang": "en"}), 2)
        self.assertEqual(r.hgetall("user:1"), {"name": "ada", "lang": "en"})
        self.assertEqual(r.rpush("jobs", "a", "b"), 2)
        self.assertEqual(r.lrange("jobs", 0, -1), ["a", "b"])
        self.assertEqual(r.sadd("tags", "x", "y"), 2)
        self.assertEqual(r.smembers("tags"), {"x", "y"})
        self.assertEqual(r.zadd("board", {"p1": 10, "p2": 20}), 2)
        self.assertEqual(r.zrevrange("board", 0, 0, withscores=True), [("p2", 20.0)])
        self.assertEqual(r.mget(["user:1:name", "missing"]), ["ada", None])
        self.assertEqual(sorted(r.scan_iter(match="user:*", count=2)), ["user:1", "user:1:name"])
        self.assertEqual(r.delete("user:1", "user:1:name"), 2)
        self.assertEqual(r.exists("user:1"), 0)
        self.assertEqual(r.type("jobs"), "list")
        self.assertEqual(r.echo("hi"), "hi")
        info = r.info()
        self.assertIn("redis_version", info)
        with self.assertRaises(ResponseError):
            r.lpush("visits", "x")

    def test_binary_values(self):
        rb = self.env.py()
        self.addCleanup(rb.close)
        blob = bytes(range(256)) * 100
        rb.set(b"blob\x00", blob)
        self.assertEqual(rb.get(b"blob\x00"), blob)

    def test_client_name_via_connection_pool(self):
        r = self.env.py(decode_responses=True, client_name="worker-7")
        self.addCleanup(r.close)
        self.assertEqual(r.client_getname(), "worker-7")
        self.assertIsInstance(r.client_id(), int)

    def test_pipeline_non_transactional(self):
        p = self.r.pipeline(transaction=False)
        for i in range(1000):
            p.set("pk:%d" % i, i)
            p.incr("pctr")
        p.get("pk:999")
        res = p.execute()
        self.assertEqual(len(res), 2001)
        self.assertEqual(res[-1], "999")
        self.assertEqual(res[-2], 1000)
        self.assertTrue(all(x is True for x in res[0:-1:2]))

    def test_pipeline_transaction(self):
        with self.r.pipeline(transaction=True) as p:
            p.set("acct:a", 100).set("acct:b", 0)
            p.decrby("acct:a", 30).incrby("acct:b", 30)
            self.assertEqual(p.execute(), [True, True, 70, 30])

    def test_pipeline_watch_retry_loop(self):
        self.r.set("balance", 10)
        interfering = self.env.py(decode_responses=True)
        self.addCleanup(interfering.close)
        attempts = 0
        with self.r.pipeline() as p:
            while True:
                attempts += 1
                try:
                    p.watch("balance")
                    cur = int(p.get("balance"))
                    if attempts == 1:
                        interfering.incr("balance")  # breaks the first attempt
                    p.multi()
                    p.set("balance", cur * 2)
                    p.execute()
                    break
                except WatchError:
                    if attempts > 5:
                        raise
        self.assertEqual(attempts, 2)
        self.assertEqual(self.r.get("balance"), "22")

    def test_transaction_helper(self):
        self.r.set("t", 1)

        def double(pipe):
            v = int(pipe.get("t"))
            pipe.multi()
            pipe.set("t", v * 2)

        self.r.transaction(double, "t")
        self.assertEqual(self.r.get("t"), "2")

    def test_pubsub(self):
        p = self.r.pubsub()
        self.addCleanup(p.close)
        p.subscribe("events")
        msg = p.get_message(timeout=5)
        self.assertEqual(msg["type"], "subscribe")
        p.psubscribe("log.*")
        self.assertEqual(p.get_message(timeout=5)["type"], "psubscribe")
        self.assertEqual(self.r.publish("events", "e1"), 1)
        self.assertEqual(self.r.publish("log.err", "boom"), 1)
        got = []
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            m = p.get_message(timeout=1)
            if m is not None:
                got.append((m["type"], m["channel"], m["data"]))
        self.assertEqual(got, [("message", "events", "e1"), ("pmessage", "log.err", "boom")])
        # health check PING in subscribed mode
        p.ping()
        m = p.get_message(timeout=5)
        self.assertEqual(m["type"], "pong")
        p.unsubscribe("events")
        p.punsubscribe("log.*")
        types = set()
        deadline = time.monotonic() + 5
        while len(types) < 2 and time.monotonic() < deadline:
            m = p.get_message(timeout=1)
            if m is not None:
                types.add(m["type"])
        self.assertEqual(types, {"unsubscribe", "punsubscribe"})
        self.assertEqual(self.r.publish("events", "gone"), 0)

    def test_pubsub_thread_handler(self):
        received = []
        done = threading.Event()

        def handler(m):
            received.append(m["data"])
            if len(received) == 3:
                done.set()

        p = self.r.pubsub()
        p.subscribe(**{"jobs": handler})
        worker = p.run_in_thread(sleep_time=0.05, daemon=True)

        def stop_worker():
            worker.stop()  # the thread closes the PubSub itself on its way out
            worker.join(5)

        self.addCleanup(stop_worker)
        deadline = time.monotonic() + 5
        while self.r.publish("jobs", "j0") == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.r.publish("jobs", "j1")
        self.r.publish("jobs", "j2")
        self.assertTrue(done.wait(5), received)
        self.assertEqual(received[-2:], ["j1", "j2"])

    def test_lock_acquire_release(self):
        lock = self.r.lock("resource", timeout=5)
        self.assertTrue(lock.acquire(blocking=False))
        self.assertTrue(lock.locked())
        self.assertTrue(lock.owned())
        other = self.r.lock("resource", timeout=5)
        self.assertFalse(other.acquire(blocking=False))
        self.assertTrue(lock.extend(5))
        self.assertTrue(lock.reacquire())
        lock.release()
        self.assertFalse(lock.locked())
        with self.assertRaises(LockError):
            lock.release()
        self.assertTrue(other.acquire(blocking=False))
        other.release()

    def test_lock_context_manager_and_contention(self):
        counter = {"in": 0, "max": 0}
        errors = []

        def worker():
            try:
                c = self.env.py(decode_responses=True)
                for _ in range(5):
                    with c.lock("critical", timeout=5, blocking_timeout=10, sleep=0.01):
                        counter["in"] += 1
                        counter["max"] = max(counter["max"], counter["in"])
                        c.incr("protected")
                        time.sleep(0.005)
                        counter["in"] -= 1
                c.close()
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(counter["max"], 1, "two holders of one lock at once")
        self.assertEqual(self.r.get("protected"), "40")
        self.assertIsNone(self.r.get("critical"))

    def test_lock_expired_not_owned(self):
        lock = self.r.lock("short", timeout=0.2)
        self.assertTrue(lock.acquire())
        time.sleep(0.4)
        with self.assertRaises(LockNotOwnedError):
            lock.release()

    def test_lock_blocking_acquire_woken_by_release(self):
        holder = self.r.lock("handoff", timeout=5, thread_local=False)  # released by a timer thread
        self.assertTrue(holder.acquire())
        waiter = self.r.lock("handoff", timeout=5, sleep=0.02)
        t = threading.Timer(0.3, holder.release)
        t.start()
        t0 = time.monotonic()
        self.assertTrue(waiter.acquire(blocking_timeout=5))
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        waiter.release()
        t.join()

    def test_scripts(self):
        script = self.r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        self.r.script_flush()
        self.assertEqual(script(keys=["sc"], args=[5]), 5)  # EVALSHA -> NOSCRIPT -> SCRIPT LOAD
        self.assertEqual(script(keys=["sc"], args=[5]), 10)
        self.assertEqual(self.r.eval("return {KEYS[1], ARGV[1]}", 1, "k", "a"), ["k", "a"])

    def test_connection_pool_threads(self):
        pool_client = self.env.py(decode_responses=True, max_connections=20)
        self.addCleanup(pool_client.close)
        errors = []

        def work(i):
            try:
                for j in range(50):
                    pool_client.set("pool:%d" % i, j)
                    if pool_client.get("pool:%d" % i) != str(j):
                        errors.append((i, j))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])

    def test_version(self):
        self.assertTrue(redis.__version__.startswith("4."), redis.__version__)


if __name__ == "__main__":
    unittest.main()
