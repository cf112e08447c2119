"""The customer's calendar page (a week of one resource, HTML) on the demo
data, rendered through the WSGI app; and the same page with automatic
offers live, in paired blocks (offers paused, then live, and again), so
that the ratio is of one sitting."""

import time
from datetime import date

from booking.scripts.load_demo import load_demo
from booking.services import Work

from sqlalchemy import text

from booking.models import Offer, OfferKind

from .common import NOW, database, median_ms, percentile_ms, wsgi_app

BLOCK = 10


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
        plain, offered = with_and_without_offers(app, db, url, repeats)
        app.app.app.registry["dbsession_factory"].kw["bind"].dispose()
        row = {"backend": backend, "page": "calendar week (HTML)", "repeats": repeats,
               "median_ms": round(median_ms(samples), 2),
               "p95_ms": round(percentile_ms(samples, 0.95), 2)}
        return [row, {
            "backend": backend, "page": "calendar week, offers paused / live (paired)",
            "repeats": len(offered), "median_ms": round(median_ms(offered), 2),
            "p95_ms": round(percentile_ms(offered, 0.95), 2),
            "paused_median_ms": round(median_ms(plain), 2),
            "ratio": round(median_ms(offered) / median_ms(plain), 3)}]


def set_offers(db, live):
    """Three offers of the demo tenant (off-peak mornings, last-minute,
    early-bird), made once, then paused or live."""
    with db.session() as s:
        offers = s.query(Offer).all()
        if not offers:
            tenant_id = s.execute(text("SELECT id FROM tenants WHERE slug = 'demo'")).scalar()
            offers = [
                Offer(tenant_id=tenant_id, name="Off-peak", kind=OfferKind.OFF_PEAK, percent=20,
                      weekdays=[0, 1, 2, 3], from_minute=8 * 60, to_minute=12 * 60,
                      created_at=NOW),
                Offer(tenant_id=tenant_id, name="Last minute", kind=OfferKind.LAST_MINUTE,
                      amount=300, hours_before=6, created_at=NOW),
                Offer(tenant_id=tenant_id, name="Early bird", kind=OfferKind.EARLY_BIRD,
                      percent=10, days_ahead=5, valid_until=date(2099, 1, 1), created_at=NOW)]
            s.add_all(offers)
        for offer in offers:
            offer.paused = not live


def with_and_without_offers(app, db, url, repeats):
    """Per-request seconds with the offers paused and live, in alternating
    blocks of :data:`BLOCK` requests (after a warm-up of each)."""
    samples = {False: [], True: []}
    for live in (False, True):
        set_offers(db, live)
        app.get(url)
    for _ in range(max(repeats // BLOCK, 1)):
        for live in (False, True):
            set_offers(db, live)
            for _ in range(BLOCK):
                started = time.perf_counter()
                app.get(url)
                samples[live].append(time.perf_counter() - started)
    set_offers(db, False)
    return samples[False], samples[True]
