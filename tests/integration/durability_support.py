"""Helpers shared by the durability, recovery and soak tests (test_durability.py,
test_recovery.py, test_soak.py): a sidecar that is killed with SIGKILL and restarted on the same
--data-dir and port, pipelined revocations and checks, INFO sidecar counters, a tmpfs mount.

harness.py and degraded_support.py stay as they are; everything here builds on them.
"""

import os
import signal
import subprocess
import time
import uuid

from harness import (DIRECT, REPLY_TIMEOUT, ConnectionClosed, RawClient, ReplyError, Sidecar, _LogOnFailure, encode,
                     sidecar_only, tail, wait_for)
from degraded_support import (FAST_SIDECAR_ARGS, DegradedEnv, info_sidecar, is_outcome_unknown, mode, parse_info,
                              wait_mode)

BLACKLIST_PREFIX = "jwt_token_blacklist_"
LOCK_PREFIX = "user_request_block_"
CACHE_PREFIX = "cache:"
# The seed application's token lifetime: SET jwt_token_blacklist_<t> 1 EX 604800.
WEEK = 604800
# The error a durable write gets when the journal could not store it.
NOT_DURABLE_PREFIX = "ERR the sidecar could not store this write durably"
# redis-py Locks are named `lock:<name>` in these tests: that prefix is made a lock class too.
PY_LOCK_PREFIX = "lock:"
SIDECAR_ARGS = FAST_SIDECAR_ARGS + ("--lock-prefix", LOCK_PREFIX, "--lock-prefix", PY_LOCK_PREFIX)
# Seconds the sidecar may take to notice that Redis is back and finish a small recovery.
UP_DEADLINE = 5.0
# Seconds within which a token revoked straight in Redis must be known to the sidecar's mirror.
MIRROR_REFRESH = 1.0
JOURNAL_NAME = "journal.rsj"


def token_key(token):
    return BLACKLIST_PREFIX + token


def new_tokens(n, tag):
    """`n` unique token names, tagged so a failure message says where a token came from."""
    return ["%s-%03d-%s" % (tag, i, uuid.uuid4().hex[:16]) for i in range(n)]


def pipelined(client, commands, chunk=200):
    """Sends `commands` in pipelined chunks and returns every reply, in order."""
    replies = []
    for start in range(0, len(commands), chunk):
        part = commands[start:start + chunk]
        client.send(b"".join(encode(*c) for c in part))
        replies.extend(client.read_reply() for _ in part)
    return replies


def revoke(port, tokens, timeout=REPLY_TIMEOUT):
    """Revokes `tokens` through whatever listens on `port` (SET ... 1 EX 604800); returns replies."""
    with RawClient(port, timeout=timeout) as c:
        return pipelined(c, [("SET", token_key(t), "1", "EX", WEEK) for t in tokens])


def revoke_ok(testcase, port, tokens, what):
    replies = revoke(port, tokens)
    bad = [(t, r) for t, r in zip(tokens, replies) if r != b"OK"]
    testcase.assertEqual(bad, [], "%s: revocations not acknowledged with +OK (%d of %d)"
                         % (what, len(bad), len(tokens)))


def missing_tokens(port, tokens, timeout=REPLY_TIMEOUT):
    """Tokens whose GET (the app's check) does not answer "1" on `port`, as (token, reply)."""
    with RawClient(port, timeout=timeout) as c:
        replies = pipelined(c, [("GET", token_key(t)) for t in tokens])
    return [(t, r) for t, r in zip(tokens, replies) if r != b"1"]


def ttls(port, tokens, timeout=REPLY_TIMEOUT):
    with RawClient(port, timeout=timeout) as c:
        return pipelined(c, [("TTL", token_key(t)) for t in tokens])


def short(items, n=5):
    """The first few of a list, for failure messages."""
    items = list(items)
    return "%d: %r%s" % (len(items), items[:n], " ..." if len(items) > n else "")


def sidecar_fields(port, timeout=2.0):
    """INFO sidecar as a dict (mode, serving, recovery_* ...)."""
    return info_sidecar(port, timeout=timeout)


def counter(port, name):
    return int(sidecar_fields(port).get(name, "0"))


def serving_redis(port):
    try:
        f = sidecar_fields(port)
    except Exception:  # noqa: BLE001 - unreachable counts as not serving
        return False
    return f.get("mode") == "up" and f.get("serving") == "redis"


def wait_serving_redis(port, timeout=UP_DEADLINE, what="mode:up and serving:redis (recovery done)"):
    try:
        wait_for(lambda: serving_redis(port), timeout, interval=0.02, what=what)
    except AssertionError as e:
        try:
            f = sidecar_fields(port)
            state = ", ".join("%s:%s" % (k, v) for k, v in f.items()
                              if k in ("mode", "serving", "upstream_connections_ready", "mode_transitions")
                              or k.startswith("recovery_"))
        except Exception as e2:  # noqa: BLE001
            state = "INFO sidecar failed: %r" % e2
        raise AssertionError("%s; INFO sidecar: %s" % (e, state)) from None


def wait_down(port, timeout=5.0, what="mode:down"):
    wait_mode(port, "down", timeout, what)


class DurableEnv(DegradedEnv):
    """Redis (possibly absent at start) and a sidecar whose --data-dir (<tmp>/data) outlives it.

    `kill_sidecar` sends a real SIGKILL; `restart_sidecar` starts the binary again on the same port
    and data dir, as systemd would after a crash.
    """

    def __init__(self, sidecar_args=SIDECAR_ARGS, redis_args=()):
        super().__init__(sidecar_args, redis_args)

    @property
    def data_dir(self):
        return os.path.join(self.tmp, "data")

    @property
    def journal(self):
        return os.path.join(self.data_dir, JOURNAL_NAME)

    def kill_sidecar(self):
        """SIGKILL, for real: no flush, no destructor, no goodbye."""
        sc = self.sidecar
        if sc is None or sc.proc is None:
            return
        if sc.proc.poll() is None:
            os.kill(sc.proc.pid, signal.SIGKILL)
        sc.proc.wait(timeout=10)
        sc.stop()  # reaps and closes the log file; the process is gone already

    def restart_sidecar(self, wait_ping=True):
        """A new sidecar process on the same port and --data-dir."""
        port = self.sidecar.port
        self.sidecar = Sidecar(self.tmp, self.redis.port, self.sidecar_args, port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.sidecar.start(wait_ping=wait_ping)
            except RuntimeError as e:
                # The port may still be held for an instant by the killed process's socket.
                self.sidecar.stop()
                if time.monotonic() > deadline or "exited" not in str(e):
                    raise
                time.sleep(0.1)

    def sidecar_log_tail(self, n=60):
        return tail(self.sidecar.log, n) if self.sidecar is not None else ""

    def sidecar_log(self):
        try:
            with open(self.sidecar.log, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class DurableTestCase(_LogOnFailure):
    """Mixin for unittest.TestCase: a fresh DurableEnv per test (Redis started unless
    `start_redis = False`)."""

    sidecar_args = SIDECAR_ARGS
    redis_args = ()
    start_redis = True

    def setUp(self):
        self.env = DurableEnv(self.sidecar_args, self.redis_args)
        self.addCleanup(self.env.stop)
        self.env.start(start_redis=self.start_redis)
        if self.start_redis:
            wait_serving_redis(self.port, 10.0, "mode:up after the sidecar started next to Redis")
        else:
            wait_down(self.port, 5.0, "mode:down with no Redis at all")

    def tearDown(self):
        self._dump_logs_if_failed(self.env)

    @property
    def port(self):
        return self.env.port

    def resume_quietly(self):
        try:
            if self.env.redis.running():
                self.env.redis.resume()
        except ProcessLookupError:
            pass

    def pause_redis(self):
        """SIGSTOP Redis (its data stays) and wait until the sidecar is down."""
        self.env.redis.pause()
        self.addCleanup(self.resume_quietly)
        wait_down(self.port, 5.0, "mode:down after SIGSTOP of Redis")

    def resume_redis(self, timeout=UP_DEADLINE):
        self.env.redis.resume()
        wait_serving_redis(self.port, timeout, "serving:redis after SIGCONT of Redis")


class HiddenRedis:
    """Redis moved out of the sidecar's reach while other clients can still write to it: CONFIG SET
    port moves its listener to another port (the sidecar's reconnects are refused) and CLIENT KILL
    drops the sidecar's connections. `show` puts it back on its port."""

    def __init__(self, env):
        self.env = env
        self.alt_port = None

    def hide(self):
        from harness import free_port  # noqa: PLC0415
        self.alt_port = free_port()
        with RawClient(self.env.redis_port, timeout=5) as c:
            c.call_ok("CONFIG", "SET", "port", self.alt_port)
            c.call_ok("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        return self.alt_port

    def call(self, *args):
        """One command to Redis on its hidden port."""
        with RawClient(self.alt_port, timeout=5) as c:
            return c.call(*args)

    def show(self):
        if self.alt_port is None:
            return
        with RawClient(self.alt_port, timeout=5) as c:
            c.call_ok("CONFIG", "SET", "port", self.env.redis_port)
        self.alt_port = None

    def show_quietly(self):
        try:
            self.show()
        except Exception:  # noqa: BLE001 - cleanup only
            pass


class TmpfsMount:
    """A small tmpfs mounted at `path` (needs root); `ok` says whether mounting worked."""

    def __init__(self, path, size="64k"):
        self.path = path
        self.size = size
        self.ok = False
        self.error = ""

    def mount(self):
        os.makedirs(self.path, exist_ok=True)
        try:
            r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % self.size, "tmpfs", self.path],
                               capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.error = repr(e)
            return False
        if r.returncode != 0:
            self.error = (r.stderr or r.stdout).decode("utf-8", "replace").strip()
            return False
        self.ok = True
        return True

    def unmount(self):
        if not self.ok:
            return
        for _ in range(50):
            r = subprocess.run(["umount", self.path], capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
            if r.returncode == 0:
                self.ok = False
                return
            time.sleep(0.1)  # a process still holding a file there is being reaped
        subprocess.run(["umount", "-l", self.path], capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
        self.ok = False


__all__ = [
    "DIRECT", "REPLY_TIMEOUT", "ConnectionClosed", "RawClient", "ReplyError", "encode", "sidecar_only", "wait_for",
    "is_outcome_unknown", "mode", "parse_info", "info_sidecar",
    "BLACKLIST_PREFIX", "LOCK_PREFIX", "CACHE_PREFIX", "PY_LOCK_PREFIX", "WEEK", "NOT_DURABLE_PREFIX",
    "SIDECAR_ARGS", "UP_DEADLINE", "MIRROR_REFRESH", "JOURNAL_NAME",
    "token_key", "new_tokens", "pipelined", "revoke", "revoke_ok", "missing_tokens", "ttls", "short",
    "sidecar_fields", "counter", "serving_redis", "wait_serving_redis", "wait_down",
    "DurableEnv", "DurableTestCase", "HiddenRedis", "TmpfsMount",
]
