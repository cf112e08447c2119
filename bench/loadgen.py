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

import json
import socket
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit


class Connection:
    """One keep-alive HTTP/1.1 connection, written and parsed by hand: the
    generator shares the machine's cores with the server, and
    ``http.client`` (an email parser per response) costs several times
    more CPU per request than this."""

    def __init__(self, host, port, timeout=60):
        self.address = (host, port)
        self.host = f"{host}:{port}".encode()
        self.timeout = timeout
        self.sock = None
        self.buffer = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def request(self, method, path, body, headers):
        """Send one request and read its whole response; returns the status."""
        if self.sock is None:
            self.sock = socket.create_connection(self.address, self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.host]
        lines += [f"{name}: {value}".encode() for name, value in headers.items()]
        if body is not None:
            lines.append(b"Content-Length: %d" % len(body))
        self.sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))
        head = self.read_until(b"\r\n\r\n")
        status_line, *fields = head.split(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked, closing = None, False, False
        for field in fields:
            name, _, value = field.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value
            elif name == b"connection":
                closing = value == b"close"
        if status in (204, 304) or status < 200:
            pass  # no body, whatever the headers say
        elif chunked:
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0], 16)
                self.read_exactly(size + 2)  # the chunk and its CRLF
                if size == 0:
                    break
        elif length is not None:
            self.read_exactly(length)
        else:  # the body runs to the end of the connection
            while self.recv():
                pass
            closing = True
        if closing:
            self.close()
        return status

    def recv(self):
        data = self.sock.recv(65536)
        self.buffer += data
        return data

    def read_until(self, separator):
        while (end := self.buffer.find(separator)) < 0:
            if not self.recv():
                raise ConnectionError("the server closed the connection mid-response")
        found, self.buffer = self.buffer[:end], self.buffer[end + len(separator):]
        return found

    def read_exactly(self, size):
        while len(self.buffer) < size:
            if not self.recv():
                raise ConnectionError("the server closed the connection mid-response")
        found, self.buffer = self.buffer[:size], self.buffer[size:]
        return found


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
        connection = Connection(target.hostname, target.port)
        headers = spec.get("headers", {})
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
                status = connection.request(method, path, data, sent)
            except (OSError, ValueError, IndexError):
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
