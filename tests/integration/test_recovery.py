"""Recovery: what the sidecar promised while Redis was down is applied to Redis before forwarding
resumes (README "Nothing lost": the key classes, column "when Redis is back").

- Cache invalidations made while down (DEL of a key, `scan_iter(match="cache:user:42:*")` + DELETE,
  KEYS pattern) delete those keys in Redis, also keys only Redis held; `cache:user:420:*` stays.
- Locks taken locally while down (GETSET request lock, redis-py Lock) are written to Redis with
  their remaining PTTL and exclude other clients; a lock another client took in Redis meanwhile
  is a conflict: counted in recovery_lock_conflicts, and Redis's holder stands.
- Default keys written while down are dropped, never sent (recovery_default_keys_dropped).
- A recovery cut short by Redis failing again completes on the next one.
- Forwarding (mode:up, serving:redis) resumes only once recovery is done; requests that arrive at
  start-up wait for it; it does resume while clients keep writing (recovery converges).
- A lock taken while recovery runs (the local store still answers) is in Redis afterwards.
"""

import threading
import time
import unittest

import redis
from redis.exceptions import LockNotOwnedError

from durability_support import (REPLY_TIMEOUT, DurableTestCase, HiddenRedis, RawClient, WEEK, counter, encode,
                                missing_tokens, pipelined, short, sidecar_fields, sidecar_only, token_key,
                                wait_down, wait_for, wait_serving_redis)


class RecoveryCase(DurableTestCase, unittest.TestCase):

    def py(self, port=None):
        client = redis.Redis(host="127.0.0.1", port=port or self.port, decode_responses=True,
                             socket_timeout=REPLY_TIMEOUT, socket_connect_timeout=REPLY_TIMEOUT)
        self.addCleanup(client.close)
        return client

    def redis_py(self):
        """redis-py straight to Redis (another app instance, or the test's own look at Redis)."""
        return self.py(self.env.redis_port)


@sidecar_only("recovery is the sidecar's")
class CacheInvalidationTest(RecoveryCase):

    def test_invalidations_made_while_down_are_applied_to_redis(self):
        r = self.py()
        direct = self.redis_py()
        for f in ("profile", "orders", "cart"):
            self.assertTrue(r.set("cache:user:42:%s" % f, "v-" + f, ex=600))
        for f in ("redis-only-1", "redis-only-2"):  # written by another app instance: never seen here
            self.assertTrue(direct.set("cache:user:42:%s" % f, "v", ex=600))
        for f in ("profile", "orders"):
            self.assertTrue(r.set("cache:user:420:%s" % f, "keep", ex=600))
        for k in ("cache:item:7", "cache:item:8", "cache:user:43:a", "cache:user:43:b"):
            self.assertTrue(direct.set(k, "v", ex=600))
        self.assertTrue(direct.set("user:42:name", "not-a-cache-key"))
        base_deleted = counter(self.port, "recovery_cache_keys_deleted")

        self.pause_redis()
        # The app invalidates while Redis is away: by exact key, by SCAN MATCH + DELETE, by KEYS.
        self.assertEqual(r.delete("cache:item:7"), 0)  # the local store never had it
        self.assertTrue(r.set("cache:user:42:fresh", "written-while-down", ex=600))
        found = sorted(r.scan_iter(match="cache:user:42:*"))
        self.assertEqual(found, ["cache:user:42:fresh"], "the local store holds only what was written while down")
        self.assertEqual(r.delete(*found), 1)
        self.assertEqual(r.keys("cache:user:43:*"), [])
        self.assertIsNone(r.get("cache:user:42:profile"))

        self.resume_redis(timeout=8.0)
        with self.subTest("scan_iter(match=cache:user:42:*) + DELETE"):
            self.assertEqual(sorted(direct.keys("cache:user:42:*")), [],
                             "cache:user:42:* was invalidated by SCAN MATCH + DELETE while down: those keys, also "
                             "the ones only Redis held, must be deleted from Redis by recovery")
        with self.subTest("KEYS cache:user:43:*"):
            self.assertEqual(direct.keys("cache:user:43:*"), [],
                             "KEYS cache:user:43:* while down is an invalidation too")
        with self.subTest("untouched keys"):
            self.assertEqual(sorted(direct.keys("cache:user:420:*")),
                             ["cache:user:420:orders", "cache:user:420:profile"],
                             "cache:user:420:* does not match cache:user:42:* and must stay")
            self.assertEqual(direct.get("cache:item:8"), "v")
            self.assertEqual(direct.get("user:42:name"), "not-a-cache-key")
        with self.subTest("DEL cache:item:7 (held only by Redis)"):
            self.assertEqual(direct.get("cache:item:7"), None,
                             "DEL cache:item:7 through the sidecar while Redis was down (the local store did not "
                             "hold it: DEL answered 0) must be replayed to Redis on recovery; Redis still serves "
                             "the stale entry")
        with self.subTest("recovery_cache_keys_deleted"):
            self.assertEqual(counter(self.port, "recovery_cache_keys_deleted") - base_deleted, 8,
                             "3 + 2 keys of cache:user:42:*, 2 of cache:user:43:*, cache:item:7 deleted in Redis")
        # Forwarded again: the sidecar answers what Redis holds.
        self.assertIsNone(r.get("cache:user:42:profile"))
        self.assertEqual(r.get("cache:user:420:profile"), "keep")


@sidecar_only("recovery is the sidecar's")
class LockRecoveryTest(RecoveryCase):

    def test_locks_taken_while_down_are_held_in_redis_afterwards(self):
        r = self.py()
        direct = self.redis_py()
        base_written = counter(self.port, "recovery_locks_written")
        self.pause_redis()
        # The seed app's request lock: GETSET + EXPIRE.
        self.assertIsNone(r.getset("user_request_block_77", "1"), "free: GETSET answers nil")
        self.assertTrue(r.expire("user_request_block_77", 30))
        lock = r.lock("lock:orders", timeout=20)
        self.assertTrue(lock.acquire(blocking=False))
        taken = time.monotonic()
        token = lock.local.token.decode() if isinstance(lock.local.token, bytes) else lock.local.token
        time.sleep(0.3)

        self.resume_redis(timeout=8.0)
        elapsed_ms = (time.monotonic() - taken) * 1000
        self.assertEqual(direct.get("user_request_block_77"), "1", "the request lock taken while down is in Redis")
        self.assertEqual(direct.get("lock:orders"), token, "the redis-py Lock taken while down is in Redis, "
                                                          "with its token")
        for key, ttl_ms in (("user_request_block_77", 30000), ("lock:orders", 20000)):
            pttl = direct.pttl(key)
            self.assertTrue(ttl_ms - elapsed_ms - 1500 <= pttl <= ttl_ms - elapsed_ms + 100,
                            "%s: PTTL in Redis %r, expected the remaining %d ms of its %d ms"
                            % (key, pttl, ttl_ms - elapsed_ms, ttl_ms))
        self.assertEqual(counter(self.port, "recovery_locks_written") - base_written, 2)
        self.assertEqual(counter(self.port, "recovery_lock_conflicts"), 0)

        # Nobody else can take them, through the sidecar or straight in Redis.
        other = self.py()
        self.assertIsNone(other.set("user_request_block_77", "1", nx=True, ex=30))
        self.assertIsNone(direct.set("user_request_block_77", "1", nx=True, ex=30))
        self.assertFalse(other.lock("lock:orders", timeout=5).acquire(blocking=False))
        self.assertFalse(self.redis_py().lock("lock:orders", timeout=5).acquire(blocking=False))
        # Their holders release them (forwarded: the release script finds the token in Redis).
        self.assertTrue(lock.owned())
        lock.release()
        self.assertIsNone(direct.get("lock:orders"))
        self.assertEqual(r.delete("user_request_block_77"), 1)
        self.assertTrue(other.lock("lock:orders", timeout=5).acquire(blocking=False))

    def hide_redis(self):
        hidden = HiddenRedis(self.env)
        self.addCleanup(hidden.show_quietly)
        hidden.hide()
        wait_down(self.port, 5.0, "mode:down once Redis moved off the sidecar's upstream port")
        return hidden

    def test_lock_taken_in_redis_by_another_client_meanwhile_is_a_conflict(self):
        r = self.py()
        base = counter(self.port, "recovery_lock_conflicts")
        hidden = self.hide_redis()
        # Through the sidecar (local): the request lock and a redis-py Lock.
        self.assertIsNone(r.getset("user_request_block_5", "1"))
        self.assertTrue(r.expire("user_request_block_5", 30))
        mine = r.lock("lock:report", timeout=20)
        self.assertTrue(mine.acquire(blocking=False))
        # Meanwhile other app instances take the same locks in Redis.
        self.assertEqual(hidden.call("SET", "user_request_block_5", "other-holder", "NX", "EX", "30"), b"OK")
        self.assertEqual(hidden.call("SET", "lock:report", "other-token", "NX", "PX", "20000"), b"OK")
        hidden.show()
        wait_serving_redis(self.port, 8.0, "serving:redis after Redis is back on its port")

        self.assertEqual(counter(self.port, "recovery_lock_conflicts") - base, 2,
                         "two locks held here and by another client in Redis during the outage: 2 conflicts")
        direct = self.redis_py()
        self.assertEqual(direct.get("user_request_block_5"), "other-holder", "Redis's holder stands")
        self.assertEqual(direct.get("lock:report"), "other-token", "Redis's holder stands")
        self.assertTrue(0 < direct.pttl("lock:report") <= 20000)
        self.assertFalse(mine.owned())
        with self.assertRaises(LockNotOwnedError):
            mine.release()
        self.assertEqual(direct.get("lock:report"), "other-token")
        self.assertIn("conflict", self.env.sidecar_log())

    def test_request_lock_taken_twice_with_the_same_value_is_a_conflict(self):
        # The seed app's request lock is always GETSET key "1": the other holder's value is the same as
        # ours. Both clients got nil from GETSET during the outage, so both held it: that is a conflict
        # although the values are equal (only a lock this sidecar held before the outage is not).
        r = self.py()
        base = counter(self.port, "recovery_lock_conflicts")
        hidden = self.hide_redis()
        self.assertIsNone(r.getset("user_request_block_9", "1"), "free locally: acquired through the sidecar")
        self.assertTrue(r.expire("user_request_block_9", 30))
        self.assertIsNone(hidden.call("GETSET", "user_request_block_9", "1"), "free in Redis: acquired there too")
        # The sidecar tells its own earlier push (a recovery cut short) from another holder by value
        # and exact absolute expiry (it pushes with PXAT). Two EXPIRE 30 sent within the same
        # millisecond would be indistinguishable, so the other holder's lease differs by a second,
        # as two clients' leases do in practice.
        self.assertEqual(hidden.call("EXPIRE", "user_request_block_9", "29"), 1)
        hidden.show()
        wait_serving_redis(self.port, 8.0, "serving:redis after Redis is back on its port")
        self.assertEqual(counter(self.port, "recovery_lock_conflicts") - base, 1,
                         "GETSET user_request_block_9 1 answered nil locally during the outage while another "
                         "client held the same key in Redis (also value \"1\"): two holders at once, expected "
                         "recovery_lock_conflicts to count it")


@sidecar_only("recovery is the sidecar's")
class DefaultKeysTest(RecoveryCase):

    def test_default_keys_written_while_down_are_dropped(self):
        r = self.py()
        direct = self.redis_py()
        self.assertTrue(direct.set("profile:1", "redis-value"))
        base = counter(self.port, "recovery_default_keys_dropped")
        self.pause_redis()
        self.assertTrue(r.set("plain:a", "1"))
        self.assertTrue(r.set("plain:b", "2", ex=100))
        self.assertEqual(r.incr("plain:counter"), 1)
        self.assertTrue(r.set("profile:1", "local-value"))
        self.assertEqual(r.get("profile:1"), "local-value")
        self.resume_redis(timeout=8.0)
        self.assertEqual(direct.exists("plain:a", "plain:b", "plain:counter"), 0,
                         "default keys written while down must not be sent to Redis")
        self.assertEqual(direct.get("profile:1"), "redis-value", "Redis's value of a default key stands")
        self.assertEqual(counter(self.port, "recovery_default_keys_dropped") - base, 4)
        self.assertEqual(r.get("profile:1"), "redis-value")
        self.assertIsNone(r.get("plain:a"))
        self.assertIn("default keys dropped", self.env.sidecar_log())


@sidecar_only("recovery is the sidecar's")
class LongRecoveryTest(RecoveryCase):
    """20,000 blacklist entries revoked while Redis is absent: a recovery long enough to cut short
    and to watch."""

    start_redis = False
    N = 20000

    def revoke_many(self):
        tokens = ["bulk-%05d" % i for i in range(self.N)]
        with RawClient(self.port, timeout=30) as c:
            replies = pipelined(c, [("SET", token_key(t), "1", "EX", WEEK) for t in tokens], chunk=1000)
        bad = [(t, x) for t, x in zip(tokens, replies) if x != b"OK"]
        self.assertEqual(bad, [], "revocations while down: %s" % short(bad))
        return tokens

    def dbsize(self):
        with RawClient(self.env.redis_port, timeout=2) as c:
            return c.call("DBSIZE")

    def test_recovery_cut_short_by_redis_failing_completes_next_time(self):
        tokens = self.revoke_many()
        self.env.redis.start()
        # Kill Redis as soon as recovery has started writing to it.
        deadline = time.monotonic() + 10
        seen = 0
        while time.monotonic() < deadline:
            try:
                seen = self.dbsize()
            except Exception:  # noqa: BLE001
                seen = 0
            if seen > 0:
                break
            time.sleep(0.002)
        self.env.redis.kill()
        self.assertGreater(seen, 0, "recovery never started writing to Redis within 10 s")
        self.assertLess(seen, self.N, "recovery finished before Redis could be killed: nothing was cut short")
        wait_for(lambda: counter(self.port, "recovery_failures") >= 1, 5.0,
                 what="recovery_failures counts the recovery cut short")
        fields = sidecar_fields(self.port)
        self.assertNotEqual(fields.get("serving"), "redis", fields)
        self.assertEqual(missing_tokens(self.port, tokens[::500]), [], "still answered locally")

        self.env.redis.start()  # empty again
        wait_serving_redis(self.port, 15.0, "serving:redis after the second recovery")
        self.assertEqual(self.dbsize(), self.N, "the second recovery wrote every entry")
        self.assertEqual(missing_tokens(self.env.redis_port, tokens), [])
        self.assertGreaterEqual(counter(self.port, "recovery_blacklist_written"), self.N)

    def test_forwarding_resumes_only_after_recovery(self):
        tokens = self.revoke_many()
        self.env.redis.start()
        self.env.redis_call("SET", "probe", "in-redis")
        samples = []  # (serving, mode, dbsize read after INFO answered, GET probe through the sidecar)
        deadline = time.monotonic() + 15
        with RawClient(self.port, timeout=5) as c:
            while time.monotonic() < deadline:
                f = sidecar_fields(self.port)
                t0 = time.monotonic()
                probe = c.call("GET", "probe")
                took = time.monotonic() - t0
                f2 = sidecar_fields(self.port)
                n = self.dbsize()
                samples.append((f.get("serving"), f.get("mode"), f2.get("serving"), n, probe, took))
                if f.get("serving") == "redis":
                    break
                time.sleep(0.01)
        self.assertEqual(samples[-1][0], "redis", "recovery never finished: %r" % samples[-5:])
        for serving, mode_, serving_after, n, probe, took in samples:
            if serving == "redis" or mode_ == "up":
                self.assertEqual(n, self.N + 1, "INFO said serving:%s mode:%s while Redis held only %d of the %d "
                                 "entries (+ the probe key)" % (serving, mode_, n, self.N + 1))
            if serving != "redis" and serving_after != "redis":
                self.assertIsNone(probe, "GET probe was forwarded to Redis during recovery (serving:%s)" % serving)
            self.assertLess(took, 1.0, "GET during recovery took %.2fs" % took)
        recovering = [s for s in samples if s[0] == "local (recovering)"]
        self.assertTrue(recovering, "recovery of %d entries was never seen in progress: %r" % (self.N, samples[:5]))
        with RawClient(self.port, timeout=5) as c:
            self.assertEqual(c.call("GET", "probe"), b"in-redis", "forwarded once recovery is done")

        # A restart with Redis up (and empty): the first requests wait for the recovery.
        self.env.kill_sidecar()
        self.env.redis_call("FLUSHALL")
        self.env.restart_sidecar(wait_ping=False)
        deadline = time.monotonic() + 10
        while True:
            try:
                c = RawClient(self.port, timeout=15)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.005)
        with c:
            c.send(encode("GET", token_key(tokens[-1])))
            reply = c.read_reply()
            n = self.dbsize()
        self.assertEqual(reply, b"1")
        self.assertEqual(n, self.N, "the first request after a restart was answered before recovery re-seeded "
                         "Redis (%d of %d entries)" % (n, self.N))
        wait_serving_redis(self.port, 5.0)


    def test_lock_taken_while_recovery_runs_is_held_in_redis_afterwards(self):
        # Recovery runs in rounds and the local store answers until the last one: a lock acquired in
        # between is held locally and must reach Redis, like any lock taken during the outage.
        self.revoke_many()
        self.env.redis.start()
        wait_for(lambda: sidecar_fields(self.port).get("serving") == "local (recovering)" and self.dbsize() > 0,
                 10.0, interval=0.005, what="recovery in progress (serving:local (recovering))")
        r = self.py()
        self.assertIsNone(r.getset("user_request_block_during", "1"), "free: acquired through the sidecar")
        self.assertTrue(r.expire("user_request_block_during", 30))
        still = sidecar_fields(self.port).get("serving")
        self.assertEqual(still, "local (recovering)", "recovery finished before the lock was taken: the test "
                         "proves nothing (20,000 entries should take about a second)")
        self.assertEqual(self.env.redis_call("GET", "user_request_block_during"), None,
                         "answered locally during recovery, not forwarded")
        wait_serving_redis(self.port, 15.0, "serving:redis after recovery")
        self.assertEqual(self.env.redis_call("GET", "user_request_block_during"), b"1",
                         "GETSET user_request_block_during 1 answered nil (acquired) by the local store while "
                         "recovery ran (serving:local (recovering)); once forwarding resumed the lock is not in "
                         "Redis, so the next client acquires it too")
        self.assertIsNone(self.py().set("user_request_block_during", "1", nx=True, ex=30),
                          "a second client took the lock held since the recovery")

    def test_forwarding_resumes_while_clients_keep_writing(self):
        # Each recovery round applies what the local store took during the previous one; clients that
        # keep revoking tokens and writing cache keys must not keep the sidecar off Redis for ever.
        tokens = self.revoke_many()[:2000]
        stop = threading.Event()
        acked = []
        errors = []

        def writer(i):
            n = 0
            try:
                with RawClient(self.port, timeout=10) as c:
                    while not stop.is_set():
                        n += 1
                        t = "live-%d-%d" % (i, n)
                        r = c.call("SET", token_key(t), "1", "EX", WEEK)
                        if r == b"OK":
                            acked.append(t)
                        else:
                            errors.append(r)
                        c.call("SET", "cache:user:%d:x" % (n % 20), "v", "EX", "60")
                        if n % 3 == 0:  # the app's invalidation: scan_iter(match=...) + DELETE
                            c.call("SCAN", "0", "MATCH", "cache:user:%d:*" % (n % 20), "COUNT", "100")
                            c.call("DEL", "cache:user:%d:x" % (n % 20))
                        time.sleep(0.01)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

        threads = [threading.Thread(target=writer, args=(i,), daemon=True) for i in range(6)]
        for t in threads:
            t.start()
        self.addCleanup(stop.set)
        time.sleep(0.3)
        self.env.redis.start()
        t0 = time.monotonic()
        try:
            wait_serving_redis(self.port, 8.0, "serving:redis while 6 clients keep writing")
            stuck = None
        except AssertionError as e:
            stuck = str(e)
        took = time.monotonic() - t0
        stop.set()
        for t in threads:
            t.join(10)
        self.assertEqual(errors, [])
        self.assertIsNone(stuck, "recovery never converged while clients kept writing: each round finds the "
                          "writes taken locally during the previous one, and forwarding waits for a round that finds "
                          "nothing: %s" % stuck)
        self.assertLess(took, 8.0)
        wait_serving_redis(self.port, 10.0)
        self.assertEqual(missing_tokens(self.env.redis_port, tokens + acked), [])


if __name__ == "__main__":
    unittest.main()
