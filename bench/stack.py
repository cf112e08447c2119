"""The real stack for the load benchmarks: ``pserve`` serving the app with
waitress in its own process, from an INI file written to a temporary
directory: ``production.ini`` as shipped, with only the database, the
loopback port, a frozen clock and (if asked) the worker and thread counts
changed (the secret comes from the environment, as in production).

``Server`` is a context manager; ``server.rss_kb()`` reads the resident set
size of the serving processes from /proc.
"""

import base64
import configparser
import os
import socket
import subprocess
import sys
import tempfile
import time

import requests

from .common import NOW

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PSERVE = os.path.join(os.path.dirname(sys.executable), "pserve")


#: production.ini takes the keys of the encrypted columns from the environment only.
BENCH_DATA_KEYS = "bench:" + base64.urlsafe_b64encode(b"b" * 32).decode()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_ini():
    config = configparser.RawConfigParser()
    config.optionxform = str  # keep the keys' case
    config.read(os.path.join(ROOT, "production.ini"))
    return config


def write_ini(directory, database_url, port, workers, threads):
    """production.ini with the benchmark's database, port, workers, threads and clock."""
    config = production_ini()
    app = config["app:main"]
    app["sqlalchemy.url"] = database_url
    # Per worker: one connection per waitress thread, and a few spare (as
    # production: 20 + 10).
    app["sqlalchemy.pool_size"] = str(max(threads + 4, 20))
    app["booking.clock"] = NOW.isoformat()  # every benchmark's "now"
    app["booking.public_url"] = f"http://127.0.0.1:{port}"
    app["booking.maps"] = "offline"  # no request of a benchmark geocodes; never call out
    server = config["server:main"]
    server["listen"] = f"127.0.0.1:{port}"
    server["workers"] = str(workers)
    server["threads"] = str(threads)
    server["connection_limit"] = "1000"
    config["alembic"]["script_location"] = os.path.join(ROOT, "alembic")
    path = os.path.join(directory, "bench.ini")
    with open(path, "w") as handle:
        config.write(handle)
    return path


class Server:
    """``pserve`` on a free loopback port; ``base`` is its URL."""

    def __init__(self, database_url, workers=None, threads=None):
        """``workers`` processes of ``threads`` waitress threads each,
        production.ini's by default."""
        shipped = production_ini()["server:main"]
        self.database_url = database_url
        self.workers = workers or int(shipped.get("workers", "1"))
        self.threads = threads or int(shipped["threads"])

    def __enter__(self):
        self.directory = tempfile.TemporaryDirectory()
        port = free_port()
        ini = write_ini(self.directory.name, self.database_url, port, self.workers,
                        self.threads)
        self.log = open(os.path.join(self.directory.name, "server.log"), "w+")
        environ = {**os.environ, "BOOKING_SECRET": "bench-" + "s" * 40,
                   "BOOKING_DATA_KEYS": BENCH_DATA_KEYS}
        environ.pop("BOOKING_DATABASE_URL", None)
        self.process = subprocess.Popen([PSERVE, ini], cwd=ROOT, env=environ,
                                        stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise SystemExit(f"pserve exited: {self.output()}")
            try:
                requests.get(f"{self.base}/api/v1/t/bench", timeout=2)
                if self.workers == 1 or len(self.pids()) > self.workers:
                    return self  # serving, every worker forked
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise SystemExit("pserve did not start in 60 s")
            time.sleep(0.1)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-4000:]

    def pids(self):
        """pserve's process and its workers."""
        pids = [self.process.pid]
        for pid in pids:  # grows as children are found
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    pids += [int(child) for child in children.read().split()]
        return pids

    def rss_kb(self):
        """The resident set size of the processes that serve: the sum over
        the workers (pages they share are counted in each), or pserve's own
        with a single worker. The supervising pserve process is left out."""
        pids = self.pids()
        total = 0
        for pid in pids[1:] or pids:
            with open(f"/proc/{pid}/status") as status:
                total += next(int(line.split()[1]) for line in status
                              if line.startswith("VmRSS:"))
        return total

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        self.directory.cleanup()
