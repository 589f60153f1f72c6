"""The seed application's Redis flows through redis-py, with Redis up (forwarded) and stopped (local).

- JWT blacklist: `SET jwt_token_blacklist_<token> 1 EX 604800`, then GET on every request.
- Request lock: GETSET + EXPIRE + DEL on `user_request_block_<user>`, 8 threads racing, one winner.
- redis-py `Lock` (SET NX PX, and EVALSHA of its release/extend/reacquire scripts).
- Cache: `SET cache:user:42:x v EX 60`, invalidated with `scan_iter(match=...)` + DELETE.
- A 100-command non-transactional pipeline of mixed commands.

The same test methods run in both classes, so each flow is shown to work in both modes.
"""

import threading
import time
import unittest
import uuid

import redis
from redis.exceptions import LockError, LockNotOwnedError, NoScriptError, ResponseError
from redis.lock import Lock

from degraded_support import REPLY_TIMEOUT, DegradedClassCase, sidecar_only

THREADS = 8
ROUNDS = 5


class SeedFlows:
    """The flows; mixed into a DegradedClassCase that says whether Redis is up."""

    def setUp(self):
        super().setUp()
        self.r = self.redis_py()

    def redis_py(self, **kw):
        kw.setdefault("socket_timeout", REPLY_TIMEOUT)
        kw.setdefault("socket_connect_timeout", REPLY_TIMEOUT)
        kw.setdefault("decode_responses", True)
        client = redis.Redis(host="127.0.0.1", port=self.env.port, **kw)
        self.addCleanup(client.close)
        return client

    def check_in_redis(self, key, expected):
        """With Redis up, what the flow wrote is in Redis itself."""
        if not self.redis_down:
            got = self.env.redis_call("GET", key)
            self.assertEqual(got, None if expected is None else expected.encode(), "Redis's %s" % key)

    # -- JWT blacklist -----------------------------------------------------------------------
    def test_jwt_blacklist(self):
        r = self.r
        tokens = [uuid.uuid4().hex for _ in range(20)]
        for t in tokens[:10]:
            self.assertIs(r.set("jwt_token_blacklist_%s" % t, 1, ex=604800), True)
        for t in tokens[:10]:
            self.assertEqual(r.get("jwt_token_blacklist_%s" % t), "1")
            ttl = r.ttl("jwt_token_blacklist_%s" % t)
            self.assertTrue(604790 <= ttl <= 604800, ttl)
        for t in tokens[10:]:
            self.assertIsNone(r.get("jwt_token_blacklist_%s" % t))
        self.assertEqual(r.exists(*["jwt_token_blacklist_%s" % t for t in tokens]), 10)
        self.check_in_redis("jwt_token_blacklist_%s" % tokens[0], "1")

    # -- request lock: GETSET + EXPIRE + DEL -----------------------------------------------------
    def test_request_lock_getset_one_winner(self):
        clients = [self.redis_py() for _ in range(THREADS)]
        for round_ in range(ROUNDS):
            key = "user_request_block_%d" % (1000 + round_)
            barrier = threading.Barrier(THREADS, timeout=10)
            results = [None] * THREADS
            errors = []

            def attempt(i):
                try:
                    c = clients[i]
                    barrier.wait()
                    old = c.getset(key, "1")
                    won = old is None
                    if won:
                        self.assertIs(c.expire(key, 30), True)
                    results[i] = won
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append((i, repr(e)))

            threads = [threading.Thread(target=attempt, args=(i,)) for i in range(THREADS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(15)
            self.assertEqual(errors, [], "round %d" % round_)
            self.assertEqual(results.count(True), 1, "round %d: winners %r" % (round_, results))
            # (No TTL check: a loser's GETSET after the winner's EXPIRE clears the TTL, in Redis too.)
            self.assertEqual(self.r.get(key), "1")
            self.check_in_redis(key, "1")
            # The winner finishes its request and frees the user.
            winner = results.index(True)
            self.assertEqual(clients[winner].delete(key), 1)
            self.assertEqual(self.r.exists(key), 0)
            self.assertIsNone(self.r.getset(key, "1"), "round %d: free again after DEL" % round_)
            self.assertEqual(self.r.delete(key), 1)

    # -- redis-py Lock -----------------------------------------------------------------------------
    def test_lock_acquire_release(self):
        r = self.r
        lock = r.lock("lock:orders", timeout=5)
        self.assertTrue(lock.acquire(blocking=False))
        self.assertTrue(lock.locked())
        self.assertTrue(lock.owned())
        pttl = r.pttl("lock:orders")
        self.assertTrue(4000 < pttl <= 5000, pttl)
        other = self.redis_py().lock("lock:orders", timeout=5)
        self.assertFalse(other.acquire(blocking=False))
        self.assertFalse(other.owned())
        lock.release()
        self.assertFalse(lock.locked())
        self.assertIsNone(r.get("lock:orders"))
        with self.assertRaises(LockError):
            lock.release()  # not held any more
        self.assertTrue(other.acquire(blocking=False))
        other.release()

    def test_lock_context_manager(self):
        r = self.r
        with r.lock("lock:ctx", timeout=5, blocking_timeout=1) as lk:
            self.assertTrue(lk.owned())
            self.assertIsNotNone(r.get("lock:ctx"))
            with self.assertRaises(LockError):  # held: a second `with` gives up after blocking_timeout
                with self.redis_py().lock("lock:ctx", timeout=5, blocking_timeout=0.2, sleep=0.05):
                    self.fail("acquired a lock that is held")
        self.assertIsNone(r.get("lock:ctx"))
        self.assertFalse(r.lock("lock:ctx").locked())

    def test_lock_blocking_acquire_with_another_holder(self):
        holder = self.r.lock("lock:job", timeout=5, thread_local=False)  # released by another thread
        self.assertTrue(holder.acquire(blocking=False))
        waiter = self.redis_py().lock("lock:job", timeout=5, sleep=0.05)
        t0 = time.monotonic()
        self.assertFalse(waiter.acquire(blocking=True, blocking_timeout=0.3))
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        releaser = threading.Timer(0.3, holder.release)
        releaser.start()
        self.addCleanup(releaser.cancel)
        t0 = time.monotonic()
        self.assertTrue(waiter.acquire(blocking=True, blocking_timeout=5))
        took = time.monotonic() - t0
        self.assertTrue(0.2 <= took < 3, "acquired %.2fs after waiting started" % took)
        releaser.join(5)
        self.assertTrue(waiter.owned())
        waiter.release()
        self.assertIsNone(self.r.get("lock:job"))

    def test_lock_mutual_exclusion_8_threads(self):
        clients = [self.redis_py() for _ in range(THREADS)]
        inside = []
        overlaps = []
        errors = []
        done = [0]
        guard = threading.Lock()

        def worker(i):
            try:
                for _ in range(5):
                    with clients[i].lock("lock:critical", timeout=5, sleep=0.01, blocking_timeout=10):
                        with guard:
                            inside.append(i)
                            if len(inside) > 1:
                                overlaps.append(list(inside))
                        time.sleep(0.005)
                        with guard:
                            inside.remove(i)
                            done[0] += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append((i, repr(e)))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        self.assertEqual(overlaps, [], "two holders of one redis-py Lock at once")
        self.assertEqual(done[0], THREADS * 5)
        self.assertIsNone(self.r.get("lock:critical"))

    def test_lock_expired_release_not_owned(self):
        a = self.r.lock("lock:short", timeout=0.2)
        self.assertTrue(a.acquire(blocking=False))
        time.sleep(0.35)
        self.assertFalse(a.locked())
        b = self.redis_py().lock("lock:short", timeout=5)
        self.assertTrue(b.acquire(blocking=False))
        with self.assertRaises(LockNotOwnedError):
            a.extend(5)  # the extend script sees another token: returns 0
        with self.assertRaises(LockNotOwnedError):
            a.reacquire()
        with self.assertRaises(LockNotOwnedError):
            a.release()  # the release script sees another token: returns 0
        self.assertTrue(b.owned())
        b.release()

    def test_lock_extend_and_reacquire(self):
        r = self.r
        lock = r.lock("lock:ext", timeout=2)
        self.assertTrue(lock.acquire(blocking=False))
        self.assertTrue(lock.extend(3))
        pttl = r.pttl("lock:ext")
        self.assertTrue(4000 < pttl <= 5000, "pttl after extend(3) of a 2s lock: %r" % pttl)
        self.assertTrue(lock.extend(10, replace_ttl=True))
        pttl = r.pttl("lock:ext")
        self.assertTrue(9000 < pttl <= 10000, "pttl after extend(10, replace_ttl=True): %r" % pttl)
        self.assertTrue(lock.reacquire())
        pttl = r.pttl("lock:ext")
        self.assertTrue(1000 < pttl <= 2000, "pttl after reacquire of a 2s lock: %r" % pttl)
        lock.release()
        with self.assertRaises(LockError):
            lock.extend(1)
        no_timeout = r.lock("lock:ext2")
        self.assertTrue(no_timeout.acquire(blocking=False))
        self.assertEqual(r.pttl("lock:ext2"), -1)
        with self.assertRaises(LockError):
            no_timeout.extend(1)  # a lock without timeout cannot be extended
        no_timeout.release()

    def test_lock_scripts_load_and_exists(self):
        r = self.r
        for body in (Lock.LUA_RELEASE_SCRIPT, Lock.LUA_EXTEND_SCRIPT, Lock.LUA_REACQUIRE_SCRIPT):
            sha = r.script_load(body)
            self.assertEqual(sha, r.register_script(body).sha)
            self.assertEqual(r.script_exists(sha), [True])
        self.assertEqual(r.script_exists("0" * 40), [False])
        # The release script run by hand, EVAL and EVALSHA.
        self.assertTrue(r.set("lock:manual", "tok", px=5000))
        self.assertEqual(r.eval(Lock.LUA_RELEASE_SCRIPT, 1, "lock:manual", "other"), 0)
        self.assertEqual(r.evalsha(r.register_script(Lock.LUA_RELEASE_SCRIPT).sha, 1, "lock:manual", "tok"), 1)
        self.assertIsNone(r.get("lock:manual"))
        with self.assertRaises(NoScriptError) as e:
            r.evalsha("f" * 40, 0)
        self.assertEqual(str(e.exception), "No matching script. Please use EVAL.")

    # -- cache ---------------------------------------------------------------------------------
    def test_cache_scan_and_delete(self):
        r = self.r
        fields = ["profile", "orders", "cart", "prefs", "avatar"]
        for f in fields:
            self.assertIs(r.set("cache:user:42:%s" % f, "v-%s" % f, ex=60), True)
        for f in ("profile", "orders"):
            self.assertIs(r.set("cache:user:420:%s" % f, "other", ex=60), True)
        self.assertIs(r.set("cache:user:4:profile", "other", ex=60), True)
        self.assertEqual(r.get("cache:user:42:cart"), "v-cart")
        self.assertTrue(55 <= r.ttl("cache:user:42:cart") <= 60)
        found = sorted(r.scan_iter(match="cache:user:42:*"))
        self.assertEqual(found, sorted("cache:user:42:%s" % f for f in fields))
        self.assertEqual(sorted(r.scan_iter(match="cache:user:42:*", count=2)), found)
        self.assertEqual(r.delete(*found), len(fields))
        self.assertEqual(list(r.scan_iter(match="cache:user:42:*")), [])
        self.assertEqual(r.get("cache:user:420:profile"), "other")
        self.assertEqual(r.get("cache:user:420:orders"), "other")
        self.assertEqual(r.get("cache:user:4:profile"), "other")
        self.assertEqual(sorted(r.scan_iter(match="cache:user:420:*")),
                         ["cache:user:420:orders", "cache:user:420:profile"])
        self.check_in_redis("cache:user:420:orders", "other")
        self.check_in_redis("cache:user:42:cart", None)

    # -- pipeline ------------------------------------------------------------------------------
    def test_mixed_pipeline_of_100(self):
        pipe = self.r.pipeline(transaction=False)
        expected = []
        for j in range(10):
            k = "pl:%d" % j
            pipe.set(k, "v%d" % j)
            expected.append(True)
            pipe.get(k)
            expected.append("v%d" % j)
            pipe.incr("pl:ctr")
            expected.append(j + 1)
            pipe.expire(k, 100)
            expected.append(True)
            pipe.ttl(k)
            expected.append("ttl")
            pipe.append("pl:app", "x")
            expected.append(j + 1)
            pipe.mget([k, "pl:missing"])
            expected.append(["v%d" % j, None])
            pipe.exists(k, "pl:missing")
            expected.append(1)
            pipe.getset("pl:gs", str(j))
            expected.append(None if j == 0 else str(j - 1))
            if j == 8:
                pipe.incrbyfloat("pl:float", 1.5)
                expected.append(1.5)
            elif j == 9:
                pipe.incr("pl:app")  # not an integer: an error in its place, the rest unaffected
                expected.append(ResponseError("value is not an integer or out of range"))
            else:
                pipe.delete(k)
                expected.append(1)
        self.assertEqual(len(pipe), 100)
        got = pipe.execute(raise_on_error=False)
        self.assertEqual(len(got), 100)
        for i, (g, e) in enumerate(zip(got, expected)):
            if e == "ttl":
                self.assertIn(g, (99, 100), "reply %d" % i)
            elif isinstance(e, ResponseError):
                self.assertIsInstance(g, ResponseError, "reply %d" % i)
                self.assertEqual(str(g), str(e), "reply %d" % i)
            else:
                self.assertEqual(g, e, "reply %d" % i)
        self.assertEqual(self.r.get("pl:ctr"), "10")
        self.assertEqual(self.r.strlen("pl:app"), 10)
        self.assertEqual(self.r.exists(*["pl:%d" % j for j in range(10)]), 2)  # pl:8, pl:9 kept
        self.check_in_redis("pl:gs", "9")


class SeedFlowsRedisUpTest(SeedFlows, DegradedClassCase):
    """Forwarded to Redis."""

    redis_down = False


@sidecar_only("Redis stopped behind the sidecar")
class SeedFlowsRedisDownTest(SeedFlows, DegradedClassCase):
    """Redis stopped: the sidecar's local store answers."""

    redis_down = True


if __name__ == "__main__":
    unittest.main()
