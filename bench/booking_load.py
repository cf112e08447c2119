"""Bookings per second through the real stack: waitress in its own process,
a load generator here, each client thread with its own HTTP connection,
little contention (distinct slots over many resources)."""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import timedelta

import requests

from .common import NOW, ZONE, database, median_ms, percentile_ms, seed
from tests.db.invariants import capacity_violations

HERE = os.path.dirname(os.path.abspath(__file__))


def start_server(url, threads):
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", url, str(threads)],
        cwd=os.path.dirname(HERE), stdout=subprocess.PIPE, text=True,
    )
    port = int(process.stdout.readline().strip())
    return process, f"http://127.0.0.1:{port}"


def measure(backend, clients, requests_per_client, server_threads=16):
    with database(backend) as db:
        world = seed(db, resources=100, bookings=0, customers=clients)
        process, base = start_server(db.url, server_threads)
        try:
            first_day = NOW.astimezone(ZONE).date() + timedelta(days=1)
            plan = [
                (world["resource_ids"][n % 100], first_day + timedelta(days=(n // 100) // 12),
                 8 + (n // 100) % 12)
                for n in range(clients * requests_per_client)
            ]
            latencies, statuses = [], []
            lock = threading.Lock()
            barrier = threading.Barrier(clients)

            def client(index):
                mine = plan[index::clients]
                token = world["tokens"][index]
                with requests.Session() as http:
                    headers = {"Authorization": f"Bearer {token}"}
                    barrier.wait()
                    for resource_id, day, hour in mine:
                        start = f"{day}T{hour:02d}:00:00+01:00"
                        started = time.perf_counter()
                        response = http.post(f"{base}/api/v1/t/bench/bookings", headers=headers,
                                             json={"resource_id": resource_id, "start": start})
                        elapsed = time.perf_counter() - started
                        with lock:
                            latencies.append(elapsed)
                            statuses.append(response.status_code)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
        finally:
            process.terminate()
            process.wait(timeout=30)
        with db.session() as s:
            violations = len(capacity_violations(s, NOW))
        ok = statuses.count(201)
        return {
            "backend": backend, "clients": clients, "requests": len(statuses),
            "created": ok, "errors_5xx": sum(1 for s in statuses if s >= 500),
            "other": len(statuses) - ok,
            "bookings_per_s": round(ok / seconds, 1),
            "p50_ms": round(median_ms(latencies), 1),
            "p95_ms": round(percentile_ms(latencies, 0.95), 1),
            "capacity_violations": violations,
        }


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
