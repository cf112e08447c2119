"""Outbox messages per second drained by 1 and by 4 ``booking-worker``
processes into a local SMTP server (aiosmtpd, in this process) on
PostgreSQL.

``python -m bench.worker [--messages N] [--repeats R]``. The workers are
started first and idle on an empty outbox; the messages then appear in one
commit and the clock runs until the server has every one and the database
has marked them all sent (process start-up is not counted). Duplicates are
counted; they must be 0.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from booking.models import OutboxMessage
from tests.db.test_worker_processes import fill_outbox, write_ini
from tests.smtp import smtp_server

from .common import database

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def start_idle_workers(ini, count):
    processes = [
        subprocess.Popen([sys.executable, "-m", "booking.scripts.worker", ini, "--interval", "0.1"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for process in processes:  # each has finished one (empty) pass
        if not process.stdout.readline().startswith("sent "):
            raise SystemExit(f"a worker did not start: {process.stderr.read()}")
    return processes


def stop(processes):
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=30)


def sent_count(db):
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.sent_at.is_not(None)))


def one_run(db, server, ini, workers, messages):
    db.clean()
    server.inbox.raw.clear()
    processes = start_idle_workers(ini, workers)
    try:
        started = time.perf_counter()
        fill_outbox(db, messages)
        while server.inbox.count() < messages or sent_count(db) < messages:
            if time.perf_counter() - started > 300:
                raise SystemExit("the workers did not drain the outbox in 300 s")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    finally:
        stop(processes)
    received = Counter(server.inbox.outbox_ids())
    return elapsed, sum(received.values()) - len(received)


def measure(workers, messages=2_000, repeats=3):
    with database("postgresql") as db, smtp_server() as server, \
            tempfile.TemporaryDirectory() as directory:
        ini = write_ini(Path(directory), db, server.port, batch=50)
        runs = [one_run(db, server, ini, workers, messages) for _ in range(repeats)]
    seconds = statistics.median(elapsed for elapsed, _ in runs)
    return {
        "backend": "postgresql", "workers": workers, "messages": messages, "repeats": repeats,
        "median_s": round(seconds, 2), "messages_per_s": round(messages / seconds),
        "duplicates": sum(duplicates for _, duplicates in runs),
    }


def measure_all(messages=2_000, repeats=3):
    return [measure(workers, messages, repeats) for workers in (1, 4)]


COLUMNS = ["backend", "workers", "messages", "repeats", "median_s", "messages_per_s",
           "duplicates"]


def main():
    parser = argparse.ArgumentParser(prog="bench.worker")
    parser.add_argument("--messages", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = measure_all(args.messages, args.repeats)
    print("\nOutbox drained by booking-worker into a local SMTP server")
    print(" | ".join(COLUMNS))
    print(" | ".join("---" for _ in COLUMNS))
    for row in rows:
        print(" | ".join(str(row[c]) for c in COLUMNS))
    out = os.path.join(HERE, "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, f"worker-{time.strftime('%Y%m%d-%H%M%S')}.json"), "w") as handle:
        json.dump({"worker": rows}, handle, indent=2)
    if any(row["duplicates"] for row in rows):
        raise SystemExit("duplicates delivered: see the table")
    return rows


if __name__ == "__main__":
    main()
