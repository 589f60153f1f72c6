"""Integration test harness: a real redis-server and the sidecar, each on a free port.

Every test gets a throw-away `redis-server` (``--save '' --appendonly no``) in a temp dir and the
sidecar binary (``$REDIS_SIDECAR_BIN``) pointed at it. A Redis given a `RedisTls` serves TLS only
(its plaintext port is 0), and the harness's own clients to it speak TLS too. With ``INTEGRATION_DIRECT=1`` the clients
talk straight to Redis instead, which validates the tests themselves without the binary.

Everything is bounded in time: every socket has a timeout, every wait has a deadline, and every
process started here is killed at teardown (SIGKILL as the fallback, and PR_SET_PDEATHSIG so that
nothing outlives a test runner killed by ctest's TIMEOUT).

Run with Debian's interpreter (python3-redis 4.3.4): ``/usr/bin/python3 -m unittest -v test_x.py``.
"""

import atexit
import ctypes
import os
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

DIRECT = os.environ.get("INTEGRATION_DIRECT", "") not in ("", "0")
# Default deadline for one reply (seconds); anything slower counts as a hang.
REPLY_TIMEOUT = float(os.environ.get("INTEGRATION_REPLY_TIMEOUT", "10"))
START_TIMEOUT = 15.0

_live_processes = []


def _kill_leftovers():
    for proc in list(_live_processes):
        _hard_kill(proc)


atexit.register(_kill_leftovers)


def _die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test runner dies, even by SIGKILL."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except Exception:  # pragma: no cover - best effort only
        pass


def _hard_kill(proc):
    if proc.poll() is None:
        try:
            # SIGKILL alone, also for a SIGSTOPped process: a SIGCONT first would let it run
            # (and answer what it had queued) before it dies.
            proc.kill()
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
    if proc in _live_processes:
        _live_processes.remove(proc)


def _stop_process(proc, timeout=5.0):
    """SIGTERM, then SIGKILL after `timeout` seconds."""
    if proc is None:
        return
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGCONT)  # a SIGSTOPped process cannot handle SIGTERM
            proc.terminate()
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
    _hard_kill(proc)


def _ephemeral_port_low():
    """The first port of the kernel's ephemeral range (where outgoing connections get theirs)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_handed_out_ports = set()


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1, for a server a test starts.

    Chosen below the kernel's ephemeral range: a port from bind(0) comes from that range, where
    every outgoing connection of the tests running in parallel also takes its local port, and two
    CI runs lost a test to such a port taken between this call and the server's bind. Random, so
    parallel test processes rarely try the same one, and never the same one twice in a process.
    """
    first, last = 10000, _ephemeral_port_low() - 1
    for _ in range(200 if last - first > 1000 else 0):
        port = random.randint(first, last)
        if port in _handed_out_ports:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))  # without SO_REUSEADDR: not even in TIME_WAIT
            except OSError:
                continue
        _handed_out_ports.add(port)
        return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sidecar_binary():
    path = os.environ.get("REDIS_SIDECAR_BIN")
    if not path:
        path = os.path.join(REPO, "build", "redis-sidecar")
    return path


def rss(pid):
    """Resident memory of process `pid`, in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


def sanitized(pid):
    """True when process `pid` runs with AddressSanitizer (tests/run-sanitized.sh): its quarantine
    keeps freed memory, so RSS bounds do not hold there (LeakSanitizer checks leaks instead)."""
    with open("/proc/%d/maps" % pid) as f:
        return "libasan" in f.read()


def tail(path, n=40):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------------
# RESP: encoding and a small blocking reader with deadlines.


class ReplyError(Exception):
    """An error reply (`-ERR ...`), kept as a value: `message` is the text without the '-'."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

    def __eq__(self, other):
        return isinstance(other, ReplyError) and other.message == self.message

    def __hash__(self):
        return hash(self.message)

    def __repr__(self):
        return "ReplyError(%r)" % self.message


class ConnectionClosed(Exception):
    """The peer closed the connection (or reset it) before a whole reply came."""


def _b(x):
    if isinstance(x, bytes):
        return x
    if isinstance(x, str):
        return x.encode()
    return str(x).encode()


def encode(*args):
    """A multibulk command."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = _b(a)
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RawClient:
    """A socket to the sidecar (or Redis) with a timeout on every read and write; TLS when an
    `ssl_context` is given.

    `send` writes raw bytes; `read_reply` parses one RESP2/RESP3 reply into Python values
    (bytes, int, None, list, dict, ReplyError); `read_raw_reply` returns that reply's bytes.
    """

    def __init__(self, port, host="127.0.0.1", timeout=REPLY_TIMEOUT, ssl_context=None):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ssl_context is not None:
            try:
                self.sock = ssl_context.wrap_socket(self.sock, server_hostname=host)
            except BaseException:
                self.sock.close()
                raise
        self.timeout = timeout
        self.buf = bytearray()
        self.pos = 0

    # context manager and cleanup
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def settimeout(self, timeout):
        self.timeout = timeout
        self.sock.settimeout(timeout)

    def send(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        """Sends one command and returns its parsed reply (errors are returned, not raised)."""
        self.send(encode(*args))
        return self.read_reply()

    def call_ok(self, *args):
        """Like `call` but raises on an error reply."""
        r = self.call(*args)
        if isinstance(r, ReplyError):
            raise AssertionError("%r -> %r" % (args, r))
        return r

    # reading -------------------------------------------------------------------------------
    def _fill(self):
        try:
            chunk = self.sock.recv(1 << 16)
        except ConnectionResetError as e:
            raise ConnectionClosed("connection reset") from e
        if not chunk:
            raise ConnectionClosed("connection closed by peer")
        if self.pos > (1 << 20):
            del self.buf[: self.pos]
            self.pos = 0
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos : i])
                self.pos = i + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos : self.pos + n])
        if self.buf[self.pos + n : self.pos + n + 2] != b"\r\n":
            raise AssertionError("bulk not terminated by CRLF: %r" % bytes(self.buf[self.pos : self.pos + n + 2]))
        self.pos += n + 2
        return data

    def read_reply(self):
        line = self._line()
        if not line:
            raise AssertionError("empty reply line")
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return ReplyError(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t in (b"*", b"~", b">"):
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        if t == b"%":
            n = int(rest)
            d = {}
            for _ in range(n):
                k = self.read_reply()
                d[k if not isinstance(k, list) else tuple(k)] = self.read_reply()
            return d
        if t == b"_":
            return None
        if t == b"#":
            return rest == b"t"
        if t == b",":
            return float(rest)
        if t == b"(":
            return int(rest)
        if t in (b"=", b"!"):
            data = self._exact(int(rest))
            return ReplyError(data.decode()) if t == b"!" else data
        if t == b"|":  # attribute: skip it, return the reply that follows
            for _ in range(2 * int(rest)):
                self.read_reply()
            return self.read_reply()
        raise AssertionError("unknown reply type byte in %r" % line)

    def read_raw_reply(self):
        """The exact bytes of the next reply."""
        start = self.pos
        self.read_reply()
        return bytes(self.buf[start : self.pos])

    def read_exact_bytes(self, n):
        """Exactly `n` raw bytes (whatever they are)."""
        while len(self.buf) - self.pos < n:
            self._fill()
        data = bytes(self.buf[self.pos : self.pos + n])
        self.pos += n
        return data

    def read_until_close(self, limit=1 << 22):
        """All bytes until the peer closes. Raises socket.timeout if it does not close in time."""
        out = bytearray(self.buf[self.pos :])
        self.pos = len(self.buf)
        while len(out) < limit:
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)

    def closed_within(self, seconds, max_bytes=256 << 20):
        """Reads (and drops) everything until the peer closes; returns (closed, bytes read)."""
        self.sock.settimeout(0.5)
        deadline = time.monotonic() + seconds
        total = 0
        while time.monotonic() < deadline and total < max_bytes:
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except ConnectionResetError:
                return True, total
            if not chunk:
                return True, total
            total += len(chunk)
        return False, total

    def pending(self):
        """Bytes already buffered but not yet parsed."""
        return bytes(self.buf[self.pos :])


def wait_for(predicate, timeout, interval=0.05, what="condition"):
    """Polls `predicate` until it is truthy; returns its value, or fails after `timeout`."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while time.monotonic() < deadline:
        try:
            v = predicate()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last_exc = e
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last error: %r)" % (timeout, what, last_exc))


def ping_ok(port, timeout=1.0, password=None):
    """True when `port` answers PING with PONG (after AUTH `password`, when given)."""
    try:
        with RawClient(port, timeout=timeout) as c:
            if password is not None and c.call("AUTH", password) != b"OK":
                return False
            return c.call("PING") == b"PONG"
    except (OSError, ConnectionClosed, AssertionError):
        return False


def password_in(args):
    """The client password that Redis or sidecar arguments set (`--requirepass PW`, or the sidecar's
    `--requirepass-file FILE`), or None. The harness authenticates with it for its own checks."""
    args = list(args)
    for i, a in enumerate(args[:-1]):
        if a == "--requirepass" and args[i + 1] != "":
            return args[i + 1]
        if a == "--requirepass-file":
            with open(args[i + 1], "rb") as f:
                return f.readline().rstrip(b"\r\n").decode()
    return None


def _answers(port, ssl_context=None):
    """True once something on `port` answers PING (+PONG, or -NOAUTH from a Redis with a password)."""
    try:
        with RawClient(port, timeout=0.5, ssl_context=ssl_context) as c:
            r = c.call("PING")
            return r == b"PONG" or (isinstance(r, ReplyError) and r.message.startswith("NOAUTH"))
    except (OSError, ConnectionClosed, AssertionError):  # ssl.SSLError is an OSError
        return False


# --------------------------------------------------------------------------------------------
# Processes.


class RedisTls:
    """TLS for a test Redis: its certificate and key, the CA it trusts for client certificates
    (`tls-auth-clients`: yes, optional or no), and the files the test's own clients use."""

    def __init__(self, ca_file, cert_file, key_file, client_cert_file=None, client_key_file=None,
                 auth_clients="yes"):
        self.ca_file = ca_file
        self.cert_file = cert_file
        self.key_file = key_file
        self.client_cert_file = client_cert_file
        self.client_key_file = client_key_file
        self.auth_clients = auth_clients

    def redis_args(self, port):
        """redis-server arguments: TLS on `port`, no plaintext port at all."""
        return ["--port", "0", "--tls-port", str(port), "--tls-cert-file", self.cert_file,
                "--tls-key-file", self.key_file, "--tls-ca-cert-file", self.ca_file,
                "--tls-auth-clients", self.auth_clients]

    def client_context(self):
        """An ssl.SSLContext that verifies Redis and presents the client certificate, if any."""
        context = ssl.create_default_context(cafile=self.ca_file)
        if self.client_cert_file:
            context.load_cert_chain(self.client_cert_file, self.client_key_file)
        return context


class RedisServer:
    """A redis-server on a free port in `workdir`, with helpers to stop, kill, pause, restart.
    With `tls` (a RedisTls) that port speaks TLS only."""

    def __init__(self, workdir, port=None, extra_args=(), tls=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.extra_args = list(extra_args)
        self.tls = tls
        # What the harness's own clients of this Redis wrap their sockets with (None: plain TCP).
        self.ssl_context = tls.client_context() if tls else None
        self.password = password_in(self.extra_args)  # requirepass: AUTH before the harness's commands
        self.proc = None
        self.log = os.path.join(workdir, "redis-%d.log" % self.port)

    def start(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        port_args = self.tls.redis_args(self.port) if self.tls else ["--port", str(self.port)]
        args = [
            exe] + port_args + ["--bind", "127.0.0.1", "--dir", self.workdir,
            "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", self.log,
            "--protected-mode", "no", "--maxclients", "4096",
        ] + self.extra_args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        _live_processes.append(self.proc)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited with %s:\n%s" % (self.proc.returncode, tail(self.log)))
            if _answers(self.port, self.ssl_context):
                return self
            time.sleep(0.02)
        self.kill()
        raise RuntimeError("redis-server did not answer PING in %ss:\n%s" % (START_TIMEOUT, tail(self.log)))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM (clean shutdown), SIGKILL fallback."""
        _stop_process(self.proc)

    def kill(self):
        """SIGKILL: Redis vanishes, its sockets are reset."""
        if self.proc is not None:
            _hard_kill(self.proc)

    def pause(self):
        """SIGSTOP: Redis stays connected but never answers."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)

    def restart(self):
        """Stops Redis if it runs and starts a new one on the same port (empty dataset)."""
        self.kill()
        return self.start()


class Sidecar:
    """The sidecar binary listening on a free port, pointed at `upstream_port`.

    With `plain=True` only `extra_args` are passed (no --listen/--upstream/--data-dir): the caller
    sets `port` to where the sidecar will listen.
    """

    def __init__(self, workdir, upstream_port, extra_args=(), plain=False, port=None, env=None):
        self.workdir = workdir
        self.env = env  # extra environment variables for the process
        self.plain = plain
        self.port = port or free_port()
        self.upstream_port = upstream_port
        self.extra_args = list(extra_args)
        self.password = password_in(self.extra_args)  # requirepass: AUTH before the harness's commands
        self.proc = None
        self.log = os.path.join(workdir, "sidecar-%d.log" % self.port)
        self.data_dir = os.path.join(workdir, "data")

    def start(self, wait_ping=True, wait_upstream=False):
        """Starts the binary and waits until it answers PING; with `wait_upstream`, also until
        `INFO sidecar` says mode:up, i.e. it is connected to Redis (Env.start does that)."""
        exe = sidecar_binary()
        if not os.access(exe, os.X_OK):
            raise RuntimeError("sidecar binary %r not found: build it or set REDIS_SIDECAR_BIN "
                               "(or INTEGRATION_DIRECT=1 to test Redis itself)" % exe)
        os.makedirs(self.data_dir, exist_ok=True)
        if self.plain:
            args = [exe] + self.extra_args
        else:
            args = [exe, "--listen", "127.0.0.1:%d" % self.port, "--upstream",
                    "127.0.0.1:%d" % self.upstream_port, "--data-dir", self.data_dir] + self.extra_args
            # The tests use keys of no class while Redis is down to check the local answers; the
            # default (refuse) is tested where a test names the option itself.
            if "--default-keys-while-down" not in self.extra_args:
                args += ["--default-keys-while-down", "ephemeral"]
        self._logf = open(self.log, "ab")
        environ = None
        if self.env:
            environ = dict(os.environ)
            environ.update(self.env)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._logf, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent, env=environ)
        _live_processes.append(self.proc)
        if not wait_ping:
            return self
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sidecar exited with %s:\n%s" % (self.proc.returncode, tail(self.log)))
            if ping_ok(self.port, timeout=0.5, password=self.password):
                break
            time.sleep(0.02)
        else:
            raise RuntimeError("sidecar did not answer PING in %ss:\n%s" % (START_TIMEOUT, tail(self.log)))
        while wait_upstream and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sidecar exited with %s:\n%s" % (self.proc.returncode, tail(self.log)))
            mode = self.mode()
            if mode in ("up", None):  # None: a binary without the field; nothing to wait for
                return self
            time.sleep(0.02)
        if wait_upstream:
            raise RuntimeError("sidecar not connected to Redis (INFO sidecar mode:up) in %ss:\n%s"
                               % (START_TIMEOUT, tail(self.log)))
        return self

    def info_fields(self):
        """The fields of `INFO sidecar` as a dict (after AUTH when the sidecar has a password)."""
        with RawClient(self.port, timeout=2) as c:
            if self.password is not None:
                c.call("AUTH", self.password)
            r = c.call("INFO", "sidecar")
        if not isinstance(r, bytes):
            return {}
        return dict(line.split(":", 1) for line in r.decode("utf-8", "replace").split("\r\n") if ":" in line)

    def mode(self):
        """`mode` of INFO sidecar ('up', 'down'...), None if absent."""
        try:
            return self.info_fields().get("mode")
        except (OSError, ConnectionClosed, AssertionError):
            return "unreachable"

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        _stop_process(self.proc)
        if getattr(self, "_logf", None):
            self._logf.close()
            self._logf = None


class Env:
    """Redis plus (unless DIRECT) the sidecar in front of it.

    `port` is where clients connect (the sidecar, or Redis in direct mode); `redis_port` is
    Redis itself, for checks that must bypass the sidecar.
    """

    def __init__(self, sidecar_args=(), redis_args=(), redis_tls=None):
        self.tmp = tempfile.mkdtemp(prefix="sidecar-it-")
        self.redis = RedisServer(self.tmp, extra_args=redis_args, tls=redis_tls)
        self.sidecar = None
        self.sidecar_args = sidecar_args

    def start(self, wait_upstream=True):
        """Starts Redis and the sidecar; with `wait_upstream` (the default) waits for mode:up."""
        try:
            self.redis.start()
            if not DIRECT:
                self.sidecar = Sidecar(self.tmp, self.redis.port, self.sidecar_args).start(
                    wait_upstream=wait_upstream)
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def port(self):
        return self.redis.port if DIRECT else self.sidecar.port

    @property
    def redis_port(self):
        return self.redis.port

    def client(self, timeout=REPLY_TIMEOUT):
        return RawClient(self.port, timeout=timeout)

    def redis_client(self, timeout=REPLY_TIMEOUT):
        """A raw client straight to Redis, bypassing the sidecar (over TLS when Redis has it)."""
        return RawClient(self.redis_port, timeout=timeout, ssl_context=self.redis.ssl_context)

    def redis_call(self, *args, timeout=REPLY_TIMEOUT):
        """One command straight to Redis on a connection of its own (closed afterwards)."""
        with self.redis_client(timeout) as c:
            return c.call(*args)

    def py(self, **kw):
        """A redis-py client through the sidecar (Debian's python3-redis)."""
        import redis  # noqa: PLC0415 - only tests that need it import it

        kw.setdefault("socket_timeout", REPLY_TIMEOUT)
        kw.setdefault("socket_connect_timeout", REPLY_TIMEOUT)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def flush(self):
        """FLUSHALL straight on Redis (every db)."""
        if self.redis.running():
            with self.redis_client() as c:
                if self.redis.password is not None:
                    c.call_ok("AUTH", self.redis.password)
                c.call_ok("FLUSHALL")

    def logs(self):
        out = ["--- redis log ---", tail(self.redis.log)]
        if self.sidecar is not None:
            out += ["--- sidecar log ---", tail(self.sidecar.log)]
        return "\n".join(out)

    def stop(self):
        try:
            if self.sidecar is not None:
                self.sidecar.stop()
        finally:
            self.redis.stop()
            if os.environ.get("INTEGRATION_KEEP_TMP") in (None, "", "0"):
                shutil.rmtree(self.tmp, ignore_errors=True)


class _LogOnFailure:
    """Prints the Redis and sidecar logs when a test fails."""

    def _dump_logs_if_failed(self, env):
        outcome = getattr(self, "_outcome", None)
        if outcome is not None and not getattr(outcome, "success", True) and env is not None:
            sys.stderr.write("\n" + env.logs() + "\n")


class _EnvClients(_LogOnFailure, unittest.TestCase):
    """Raw clients of `self.env` that are closed at the end of each test, and the logs dumped when
    it failed. Subclasses set `self.env` and `self._clients = []` in setUp."""

    def tearDown(self):
        for c in self._clients:
            c.close()
        self._dump_logs_if_failed(self.env)

    def client(self, timeout=REPLY_TIMEOUT):
        """A raw client to the sidecar, closed at the end of the test."""
        c = self.env.client(timeout)
        self._clients.append(c)
        return c

    def redis_client(self, timeout=REPLY_TIMEOUT):
        """A raw client straight to Redis, closed at the end of the test."""
        c = self.env.redis_client(timeout)
        self._clients.append(c)
        return c


class SidecarTestCase(_EnvClients):
    """One Redis (+ sidecar) for the whole class; FLUSHALL on Redis before each test."""

    env = None
    sidecar_args = ()
    redis_args = ()
    redis_tls = None  # a RedisTls: Redis speaks TLS only

    @classmethod
    def setUpClass(cls):
        cls.env = Env(cls.sidecar_args, cls.redis_args, cls.redis_tls)
        cls.addClassCleanup(cls.env.stop)
        cls.env.start()

    def setUp(self):
        if not self.env.redis.running():  # an earlier test broke it: start afresh
            self.env.redis.start()
        self.env.flush()
        self._clients = []


class FreshEnvTestCase(_EnvClients):
    """A new Redis (+ sidecar) for every test: for tests that kill or stop Redis."""

    sidecar_args = ()
    redis_args = ()
    redis_tls = None  # a RedisTls: Redis speaks TLS only

    def setUp(self):
        self.env = Env(self.sidecar_args, self.redis_args, self.redis_tls)
        self.addCleanup(self.env.stop)
        self.env.start()
        self._clients = []


def sidecar_only(reason="checks sidecar behaviour"):
    """Skips a test in direct mode."""
    return unittest.skipIf(DIRECT, "INTEGRATION_DIRECT=1: " + reason)


def run_cmd(args, timeout=60, input=None):
    """Runs a command with a deadline; returns CompletedProcess with text output."""
    return subprocess.run(args, input=input, capture_output=True, timeout=timeout,
                          stdin=None if input is not None else subprocess.DEVNULL)
