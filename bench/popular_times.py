"""Popular times of one resource with 1,000,000 bookings across 1,000
resources (``common.seed``): the service, and the resource's page through
the WSGI app — first on the schema as migrated, then with the index the
query is written for, created here if the schema lacks it. On PostgreSQL
the query's plan (EXPLAIN ANALYZE) is printed for both.

``python -m bench.popular_times [--bookings N] [--repeats N] [--backend …]``
"""

import argparse
import json
import os
import time

from sqlalchemy import inspect

from booking.models import Resource
from booking.services.popularity import history_query, popular_times

from .common import NOW, database, median_ms, percentile_ms, seed, timed, wsgi_app

HERE = os.path.dirname(os.path.abspath(__file__))
INDEX = "ix_bookings_resource_starts_at"
INDEX_DDL = f"CREATE INDEX {INDEX} ON bookings (resource_id, starts_at)"
COLUMNS = ["backend", "bookings", "schema", "repeats", "rows_read", "service_median_ms",
           "service_p95_ms", "page_median_ms", "page_p95_ms"]


def explain(db, resource_id):
    """PostgreSQL's plan of the history query for one resource."""
    with db.session() as s:
        statement = history_query(s.get(Resource, resource_id), NOW)
        compiled = statement.compile(s.get_bind(),
                                     compile_kwargs={"render_postcompile": True})
        plan = s.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}",
                                              compiled.params)
        return "\n".join(row[0] for row in plan)


def measure_schema(db, world, label, repeats, app):
    resource_ids = world["resource_ids"]
    picks = [resource_ids[(i * 37) % len(resource_ids)] for i in range(repeats + 1)]
    samples, rows_read = [], 0
    with db.session() as s:
        resources = [s.get(Resource, rid) for rid in picks]
        popular_times(s, resources[0], NOW)
        for resource in resources[1:]:
            started = time.perf_counter()
            found = popular_times(s, resource, NOW)
            samples.append(time.perf_counter() - started)
            rows_read = max(rows_read, found.bookings)
    url = f"/t/bench/venues/{world['venue_id']}/resources/{picks[1]}/"
    page = timed(lambda: app.get(url), repeats)
    return {"backend": db.backend, "bookings": world["bookings"], "schema": label,
            "repeats": repeats, "rows_read": rows_read,
            "service_median_ms": round(median_ms(samples), 2),
            "service_p95_ms": round(percentile_ms(samples, 0.95), 2),
            "page_median_ms": round(median_ms(page), 2),
            "page_p95_ms": round(percentile_ms(page, 0.95), 2)}


def measure(backend, bookings=1_000_000, repeats=20):
    rows, plans = [], {}
    with database(backend) as db:
        app = wsgi_app(db)
        world = seed(db, resources=1000, bookings=bookings)
        has_index = INDEX in {ix["name"] for ix in inspect(db.engine).get_indexes("bookings")}
        schema = "as migrated" + (" (has the index)" if has_index else "")
        if backend == "postgresql":
            plans[schema] = explain(db, world["resource_ids"][500])
        rows.append(measure_schema(db, world, schema, repeats, app))
        if not has_index:
            with db.engine.begin() as connection:
                connection.exec_driver_sql(INDEX_DDL)
                if backend == "postgresql":
                    connection.exec_driver_sql("ANALYZE bookings")
            if backend == "postgresql":
                plans["with the index"] = explain(db, world["resource_ids"][500])
            rows.append(measure_schema(db, world, "with the index", repeats, app))
        app.app.app.registry["dbsession_factory"].kw["bind"].dispose()
    return rows, plans


def main_cli():
    from .run import table

    parser = argparse.ArgumentParser(prog="bench.popular_times")
    parser.add_argument("--bookings", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    rows, plans = [], {}
    for backend in args.backend or ["sqlite", "postgresql"]:
        measured, backend_plans = measure(backend, args.bookings, args.repeats)
        rows += measured
        plans.update({f"{backend}, {name}": plan for name, plan in backend_plans.items()})
    for name, plan in plans.items():
        print(f"\nEXPLAIN ANALYZE ({name}):\n{plan}")
    table(f"Popular times of one resource ({INDEX_DDL} where said)", rows, COLUMNS)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    name = f"popular_times-{time.strftime('%Y%m%d-%H%M%S')}.json"
    with open(os.path.join(HERE, "results", name), "w") as handle:
        json.dump({"popular_times": rows, "plans": plans, "index": INDEX_DDL}, handle, indent=2)


if __name__ == "__main__":
    main_cli()
