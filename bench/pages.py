"""The customer's calendar page (a week of one resource, HTML) on the demo
data, rendered through the WSGI app."""

import time

from booking.scripts.load_demo import load_demo
from booking.services import Work

from .common import NOW, database, median_ms, percentile_ms, wsgi_app


def measure(backend, repeats):
    with database(backend) as db:
        app = wsgi_app(db)
        with db.session() as s:
            load_demo(Work(app.app.app.registry, s, NOW))
        url = "/t/demo/venues/1/resources/1/"
        app.get(url)
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            app.get(url)
            samples.append(time.perf_counter() - started)
        app.app.app.registry["dbsession_factory"].kw["bind"].dispose()
        return {"backend": backend, "page": "calendar week (HTML)", "repeats": repeats,
                "median_ms": round(median_ms(samples), 2),
                "p95_ms": round(percentile_ms(samples, 0.95), 2)}
