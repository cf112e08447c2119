"""A Nominatim-shaped HTTP server for tests: ``GET /search?q=…&format=jsonv2``
answers from a table of known places, records every request (arrival time,
headers, query), and can be told to be slow, fail or talk nonsense."""

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

#: Known places: normalized query → (lat, lon, display_name), as strings the
#: way Nominatim sends them.
PLACES = {
    "1 rue de rivoli, paris": ("48.8556", "2.3601", "1, Rue de Rivoli, Paris, France"),
    "10 downing street, london": ("51.5034", "-0.1276", "10 Downing Street, London, UK"),
    "place bellecour, lyon": ("45.7578", "4.8320", "Place Bellecour, Lyon, France"),
    "vieux-port, marseille": ("43.2951", "5.3744", "Vieux-Port, Marseille, France"),
    "grand-place, brussels": ("50.8467", "4.3525", "Grand-Place, Brussels, Belgium"),
}


@dataclass
class Seen:
    at: float
    query: str
    user_agent: str
    params: dict


@dataclass
class FakeNominatim:
    """The WSGI app. ``script`` holds the next answers to give, one per
    request, before the normal ones: ``("status", 503)``, ``("sleep", 2.0)``,
    ``("body", b"…")`` or ``("json", [...])``."""

    places: dict = field(default_factory=lambda: dict(PLACES))
    script: list = field(default_factory=list)
    seen: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ, start_response):
        params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self.lock:
            self.seen.append(Seen(time.time(), params.get("q", ""),
                                  environ.get("HTTP_USER_AGENT", ""), params))
            action = self.script.pop(0) if self.script else None
        if environ["PATH_INFO"] != "/search":
            return self.reply(start_response, 404, b"[]")
        if action is not None:
            kind, value = action
            if kind == "status":
                return self.reply(start_response, value, b"<h1>Service unavailable</h1>",
                                  "text/html")
            if kind == "sleep":
                time.sleep(value)
            elif kind == "body":
                return self.reply(start_response, 200, value)
            elif kind == "json":
                return self.reply(start_response, 200, json.dumps(value).encode())
        place = self.places.get(" ".join(params.get("q", "").split()).lower())
        answer = [] if place is None else [{
            "place_id": 1, "lat": place[0], "lon": place[1], "display_name": place[2],
            "category": "place", "type": "house", "importance": 0.5,
        }]
        return self.reply(start_response, 200, json.dumps(answer).encode())

    @staticmethod
    def reply(start_response, status, body, content_type="application/json"):
        reasons = {200: "OK", 404: "Not Found"}
        start_response(f"{status} {reasons.get(status, 'Error')}",
                       [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def times(self):
        with self.lock:
            return sorted(seen.at for seen in self.seen)


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a handler told to sleep does not hold up shutdown


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def nominatim_server():
    """Yield ``(fake, url)`` with the fake served on a free loopback port,
    one thread per request (a slow answer does not delay the others)."""
    fake = FakeNominatim()
    server = make_server("127.0.0.1", 0, fake, server_class=ThreadingServer,
                         handler_class=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="fake-nominatim", daemon=True)
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
