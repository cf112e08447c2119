"""Waitress in several processes: a ``paste.server_runner`` for pserve.

One CPython process runs Python on one core at a time, however many
threads it has. To use every core, this runner binds the listening sockets
once, forks ``workers`` processes after the app is loaded (they share its
start-up memory), and each serves those sockets with a waitress server of
its own ``threads``; a new connection goes to the least busy worker
(:class:`Balancer`).
In the INI file::

    [server:main]
    use = egg:booking#main
    workers = 2
    threads = 4
    listen = 127.0.0.1:6543

Every other option is waitress's own. The parent only supervises: a worker
that dies is replaced (at most one a second), and SIGTERM or SIGINT is
passed on to the workers (as with plain waitress, requests in flight are
cut). ``workers = 1``, or a platform without ``fork``, serves in this
process exactly like ``egg:waitress#main``.
"""

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time

import waitress
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.server import BaseWSGIServer, create_server

log = logging.getLogger(__name__)

#: Seconds between two replacements of a dead worker (a crash loop must not
#: spin), and how long stopped workers may take before they are killed.
RESPAWN_INTERVAL = 1.0
STOP_TIMEOUT = 10.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def serve(app, global_conf=None, workers="1", **kw):
    """The ``egg:booking#main`` server runner; ``kw`` are waitress's options."""
    workers = int(workers)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers == 1 or not hasattr(os, "fork"):
        return waitress.serve_paste(app, global_conf, **kw)
    if "unix_socket" in kw or "sockets" in kw:
        raise ValueError("workers above 1 serve what listen (or host and port) names, "
                         "not unix_socket or sockets")
    sockets = bind(kw)
    Supervisor(app, sockets, workers, kw).run()
    return 0


def bind(kw):
    """Listening sockets for waitress's ``listen`` (or ``host``/``port``)
    options, which are removed from ``kw``; the workers inherit them."""
    address = {key: kw.pop(key) for key in ("listen", "host", "port") if key in kw}
    adjustments = Adjustments(**address, backlog=kw.get("backlog", Adjustments.backlog))
    sockets = []
    for family, socktype, proto, sockaddr in adjustments.listen:
        sock = socket.socket(family, socktype, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(sockaddr)
        sock.listen(adjustments.backlog)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


class Balancer:
    """Keeps the workers' shares of the connections even.

    The kernel gives a new connection to whichever worker accepts first, so
    a burst of keep-alive connections can land mostly on one worker, whose
    clients then wait while the other core idles. Each worker publishes how
    many connections it holds in memory shared across the fork, and
    listens for new ones only while it holds no more than the least busy
    worker; one that stops listening wakes the others (a byte down each
    one's pipe), so that the least busy one is always listening."""

    IDLE = 2**31 - 1  # the count of a slot whose worker is gone: never the least busy

    def __init__(self, workers):
        self.counts = multiprocessing.RawArray("l", [self.IDLE] * workers)
        self.wakers = [os.pipe() for _ in range(workers)]
        for reader, writer in self.wakers:
            os.set_blocking(reader, False)
            os.set_blocking(writer, False)

    def attach(self, slot, server):
        """Wrap the listening sockets of ``server`` (waitress's, in worker
        ``slot``), and wake its loop when another worker stops listening."""
        loop_map = getattr(server, "map", None) or server._map  # several sockets, or one
        listeners = [d for d in loop_map.values() if isinstance(d, BaseWSGIServer)]
        self.counts[slot] = 0
        fair = True

        def connections():
            return sum(len(listener.active_channels) for listener in listeners)

        def balanced(plain_readable):
            def readable():
                nonlocal fair
                accepting = plain_readable()  # waitress's own checks and upkeep
                self.counts[slot] = connections()
                was_fair, fair = fair, self.counts[slot] <= min(self.counts)
                if was_fair and not fair:
                    self.wake_others(slot)
                return accepting and fair
            return readable

        for listener in listeners:
            listener.readable = balanced(listener.readable)
        Waker(self.wakers[slot][0], loop_map)

    def wake_others(self, slot):
        for other, (_, writer) in enumerate(self.wakers):
            if other != slot:
                with contextlib.suppress(BlockingIOError):  # already awake
                    os.write(writer, b"w")

    def forget(self, slot):
        self.counts[slot] = self.IDLE


class Waker(wasyncore.file_dispatcher):
    """Wakes a worker's loop (to look at the counts again) when a byte
    arrives on its pipe."""

    def readable(self):
        return True

    def writable(self):
        return False

    def handle_read(self):
        with contextlib.suppress(BlockingIOError):
            self.recv(512)


class Supervisor:
    """Forks the workers, replaces the ones that die, stops them all."""

    def __init__(self, app, sockets, workers, options):
        self.app = app
        self.sockets = sockets
        self.workers = workers
        self.options = options
        self.children = {}  # pid: slot
        self.balancer = Balancer(workers)
        self.stopping = False

    def run(self):
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.stop)
        for sock in self.sockets:
            host, port = sock.getsockname()[:2]
            print(f"Serving on http://{host}:{port} with {self.workers} workers", flush=True)
        last_spawn, replacing = 0.0, False
        try:
            while not self.stopping:
                while len(self.children) < self.workers and not self.stopping:
                    pause = last_spawn + RESPAWN_INTERVAL - time.monotonic()
                    if replacing and pause > 0:
                        time.sleep(pause)  # a crash loop must not spin
                    last_spawn = time.monotonic()
                    slot = min(set(range(self.workers)) - set(self.children.values()))
                    self.children[self.spawn(slot)] = slot
                replacing = True  # every worker started: from now on, replacements
                self.reap(block=True)
        finally:
            self.shutdown()

    def spawn(self, slot):
        # Signals wait until the new worker has its own handling: the
        # parent's handler must never run in a child.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            raise
        if pid:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            return pid
        # The worker: default signal handling (SIGTERM ends it), then serve.
        status = 1
        try:
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            server = create_server(self.app, sockets=self.sockets, **self.options)
            self.balancer.attach(slot, server)
            server.run()  # the parent said where it serves
            status = 0
        except BaseException:
            log.exception("worker %s failed", os.getpid())
        finally:
            os._exit(status)

    def reap(self, block):
        """Forget exited workers; with ``block``, wait for one (or a signal)."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            except InterruptedError:
                return
            if pid == 0:
                return
            if pid in self.children:
                slot = self.children.pop(pid)
                self.balancer.forget(slot)
                self.balancer.wake_others(slot)  # the one that held fewest may be gone
                if not self.stopping:
                    log.error("worker %s exited (status %s); starting another", pid, status)
            if block:
                return

    def stop(self, signum, frame):
        self.stopping = True
        self.signal_children(signal.SIGTERM)

    def signal_children(self, signum):
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def shutdown(self):
        self.stopping = True
        self.signal_children(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.children and time.monotonic() < deadline:
            self.reap(block=False)
            time.sleep(0.05)
        self.signal_children(signal.SIGKILL)
        while self.children:
            self.reap(block=True)
        for sock in self.sockets:
            sock.close()
