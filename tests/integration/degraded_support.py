"""Helpers shared by the degraded-mode tests (Redis down, stalled, coming back).

test_circuit.py, test_inflight.py, test_seed_flows.py and test_local_limits.py use these; the
harness itself (harness.py) stays as it is.
"""

import time

import unittest

from harness import (DIRECT, REPLY_TIMEOUT, ConnectionClosed, Env, RawClient, ReplyError, Sidecar, _LogOnFailure,
                     encode, free_port, sidecar_only, wait_for)

# Prefix of the error for commands the local store does not serve while Redis is down.
NOT_SERVED_PREFIX = "ERR upstream Redis is unavailable; '"
NOT_SERVED_SUFFIX = "' is not served by the sidecar while it is down"
# Prefix of the error for a request in flight whose outcome cannot be known.
OUTCOME_UNKNOWN_PREFIX = "ERR upstream Redis failed before replying, the command's outcome is unknown"

# Short timeouts so that failure detection is quick and tests stay bounded.
FAST_SIDECAR_ARGS = ("--upstream-timeout", "500", "--probe-interval", "250")


def parse_info(text):
    """INFO's bulk text -> (sections: list of section names, fields: dict)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    sections = []
    fields = {}
    for line in text.split("\r\n"):
        if not line:
            continue
        if line.startswith("# "):
            sections.append(line[2:].strip())
            continue
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k] = v
    return sections, fields


def info(port, *sections, timeout=2.0):
    """INFO [sections...] on a fresh connection -> (section names, fields)."""
    with RawClient(port, timeout=timeout) as c:
        r = c.call("INFO", *sections)
    if isinstance(r, ReplyError):
        raise AssertionError("INFO %s -> %r" % (" ".join(sections), r))
    return parse_info(r)


def info_sidecar(port, timeout=2.0):
    """The fields of `INFO sidecar` (mode, mode_transitions, ...) on a fresh connection."""
    return info(port, "sidecar", timeout=timeout)[1]


def mode(port, timeout=2.0):
    return info_sidecar(port, timeout).get("mode")


def transitions(port):
    return int(info_sidecar(port)["mode_transitions"])


def wait_mode(port, wanted, timeout, what=None):
    """Waits until INFO sidecar says mode:`wanted`; returns the seconds it took."""
    t0 = time.monotonic()
    wait_for(lambda: mode(port) == wanted, timeout, interval=0.02,
             what=what or "INFO sidecar mode:%s" % wanted)
    return time.monotonic() - t0


def timed_call(client, *args):
    """(reply, seconds) of one command on `client`."""
    t0 = time.monotonic()
    r = client.call(*args)
    return r, time.monotonic() - t0


def is_not_served(reply, command):
    """True when `reply` is the sidecar's 'not served while down' error naming `command`."""
    return (isinstance(reply, ReplyError) and reply.message.startswith(NOT_SERVED_PREFIX)
            and ("'%s'" % command.lower()) in reply.message)


def is_outcome_unknown(reply):
    return isinstance(reply, ReplyError) and reply.message.startswith(OUTCOME_UNKNOWN_PREFIX)


def read_or_closed(client, timeout):
    """The next reply, or ConnectionClosed (as a value) when the peer closes; socket.timeout raises."""
    client.settimeout(timeout)
    try:
        return client.read_reply()
    except ConnectionClosed as e:
        return e


class DegradedEnv(Env):
    """An Env whose Redis may be absent at start (`start_redis=False`) and started later."""

    def __init__(self, sidecar_args=FAST_SIDECAR_ARGS, redis_args=()):
        super().__init__(sidecar_args, redis_args)

    def start(self, start_redis=True):
        try:
            if start_redis:
                self.redis.start()
            if not DIRECT:
                self.sidecar = Sidecar(self.tmp, self.redis.port, self.sidecar_args).start()
        except BaseException:
            self.stop()
            raise
        return self

    def start_redis(self):
        """Starts Redis (again) on its port, with an empty dataset."""
        return self.redis.restart()


class DegradedTestCase(_LogOnFailure, unittest.TestCase):
    """A fresh Redis (+ sidecar with fast failure detection) for every test."""

    sidecar_args = FAST_SIDECAR_ARGS
    redis_args = ()
    start_redis = True

    def setUp(self):
        self.env = DegradedEnv(self.sidecar_args, self.redis_args)
        self.addCleanup(self.env.stop)
        self.env.start(start_redis=self.start_redis)
        self._clients = []
        if self.start_redis and not DIRECT:
            # The sidecar answers PING before its pool has connected: start from a known mode:up.
            wait_mode(self.port, "up", 5.0, "mode:up after the sidecar started with Redis running")

    def tearDown(self):
        for c in self._clients:
            c.close()
        self._dump_logs_if_failed(self.env)

    @property
    def port(self):
        return self.env.port

    def client(self, timeout=REPLY_TIMEOUT):
        c = RawClient(self.env.port, timeout=timeout)
        self._clients.append(c)
        return c

    def redis_client(self, timeout=REPLY_TIMEOUT):
        c = RawClient(self.env.redis_port, timeout=timeout)
        self._clients.append(c)
        return c

    def go_down(self, how="kill", timeout=5.0):
        """Takes Redis away (`kill`, `stop`, `pause`) and waits until the sidecar says mode:down."""
        getattr(self.env.redis, how)()
        if how == "pause":
            self.addCleanup(self._resume_quietly)
        return wait_mode(self.port, "down", timeout, "mode:down after Redis %s" % how)

    def _resume_quietly(self):
        try:
            if self.env.redis.running():
                self.env.redis.resume()
        except ProcessLookupError:
            pass


class DegradedClassCase(_LogOnFailure, unittest.TestCase):
    """One Redis (+ sidecar) for the whole class. With `redis_down = True`, Redis is stopped
    (SIGTERM) once the sidecar is up and every test runs against the local store: tests must then
    use keys of their own, as nothing can flush the local store."""

    env = None
    sidecar_args = FAST_SIDECAR_ARGS
    redis_args = ()
    redis_down = False

    @classmethod
    def setUpClass(cls):
        cls.env = DegradedEnv(cls.sidecar_args, cls.redis_args)
        cls.addClassCleanup(cls.env.stop)
        cls.env.start()
        if DIRECT:
            return
        wait_mode(cls.env.port, "up", 5.0, "mode:up after the sidecar started with Redis running")
        if cls.redis_down:
            cls.env.redis.stop()
            wait_mode(cls.env.port, "down", 5.0, "mode:down after Redis was stopped")

    def setUp(self):
        if not self.redis_down:
            if not self.env.redis.running():
                self.env.redis.start()
            self.env.flush()
        elif not DIRECT:
            self.assertEqual(mode(self.env.port), "down")

    def tearDown(self):
        self._dump_logs_if_failed(self.env)

    @property
    def port(self):
        return self.env.port


__all__ = [
    "DIRECT", "REPLY_TIMEOUT", "ConnectionClosed", "RawClient", "ReplyError", "encode", "free_port", "sidecar_only",
    "Sidecar",
    "wait_for", "NOT_SERVED_PREFIX", "NOT_SERVED_SUFFIX", "OUTCOME_UNKNOWN_PREFIX", "FAST_SIDECAR_ARGS",
    "parse_info", "info", "info_sidecar", "mode", "transitions", "wait_mode", "timed_call", "is_not_served",
    "is_outcome_unknown", "read_or_closed", "DegradedEnv", "DegradedTestCase", "DegradedClassCase",
]
