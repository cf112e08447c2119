"""The load generator: its own process (``python -m bench.loadgen``), so
that it does not share an interpreter with the server or the harness.

It reads a plan as JSON on stdin::

    {"base": "http://127.0.0.1:PORT", "seconds": 3.0,
     "clients": [{"headers": {...}, "requests": [["POST", "/path", {...} or null], ...],
                  "cycle": false, "limit": 1000}, ...]}

and runs one thread per client, each with its own keep-alive HTTP/1.1
connection, sending its requests one after the other until its list ends
(or, with ``cycle``, until ``limit`` requests), or ``seconds`` have passed.
It prints JSON: elapsed seconds, per-request latencies and status counts.
Only loopback addresses are accepted.
"""

import http.client
import json
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit


def run(plan):
    target = urlsplit(plan["base"])
    if target.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load generator only sends to the loopback interface")
    clients = plan["clients"]
    seconds = float(plan["seconds"])
    barrier = threading.Barrier(len(clients) + 1)
    lock = threading.Lock()
    latencies, statuses = [], Counter()
    finished = []

    def client(spec):
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        headers = {"Connection": "keep-alive", **spec.get("headers", {})}
        requests_ = spec["requests"]
        limit = spec.get("limit") or len(requests_)
        if not spec.get("cycle"):
            limit = min(limit, len(requests_))
        mine, codes = [], Counter()
        barrier.wait()
        deadline = time.perf_counter() + seconds
        for n in range(limit):
            if time.perf_counter() > deadline:
                break
            method, path, body = requests_[n % len(requests_)]
            data = None if body is None else json.dumps(body).encode()
            sent = dict(headers)
            if data is not None:
                sent["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                connection.request(method, path, body=data, headers=sent)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                connection.close()  # reconnects on the next request
                status = "connection_error"
            mine.append(time.perf_counter() - started)
            codes[str(status)] += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            statuses.update(codes)
            finished.append(time.perf_counter())

    threads = [threading.Thread(target=client, args=(spec,)) for spec in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return {"elapsed": max(finished) - started, "latencies": latencies,
            "statuses": dict(statuses)}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)


def drive(plan, timeout=None):
    """Run ``plan`` in a new load-generator process; return its report."""
    import os
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-m", "bench.loadgen"], cwd=root,
                            input=json.dumps(plan), capture_output=True, text=True,
                            timeout=timeout or float(plan["seconds"]) + 120)
    if result.returncode != 0:
        raise SystemExit(f"the load generator failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)
