"""The throttle's counter on both databases: reserve, release, windows,
and the worker forgetting stale keys."""

from datetime import timedelta

from sqlalchemy import select

from booking.models import ThrottleCounter
from booking.services.delivery import Delivery, DeliveryPolicy
from booking.services.throttle import WindowCounter

from ..conftest import NOW
from ..registry import service_registry

WINDOW = timedelta(minutes=15)


def counter(session, now=NOW):
    return WindowCounter(session, now, WINDOW)


def keys(db):
    with db.session_factory() as s:
        return {row.key: row.count for row in s.scalars(select(ThrottleCounter))}


def test_reserve_allows_the_limit_then_gives_the_wait(db):
    with db.session() as s:
        assert [counter(s).reserve("k", 3) for _ in range(3)] == [None, None, None]
        assert counter(s).reserve("k", 3) == 15
    with db.session() as s:
        assert counter(s, NOW + timedelta(minutes=10)).reserve("k", 3) == 5


def test_refused_attempts_are_not_counted_past_the_limit(db):
    with db.session() as s:
        for _ in range(10):
            counter(s).reserve("k", 3)
    assert keys(db) == {"k": 4}


def test_window_ended_starts_a_new_count(db):
    with db.session() as s:
        for _ in range(4):
            counter(s).reserve("k", 3)
    with db.session() as s:
        assert counter(s, NOW + WINDOW).reserve("k", 3) is None
        assert counter(s, NOW + WINDOW).minutes_to_wait("k", 3) is None
    assert keys(db) == {"k": 1}


def test_release_gives_an_attempt_back(db):
    with db.session() as s:
        for _ in range(3):
            counter(s).reserve("k", 3)
        counter(s).release("k")
        assert counter(s).reserve("k", 3) is None


def test_record_and_minutes_to_wait_as_before(db):
    with db.session() as s:
        counter(s).record("a", "b")
        counter(s).record("a")
        assert counter(s).minutes_to_wait("a", 2) == 15
        assert counter(s).minutes_to_wait("b", 2) is None
        counter(s).clear("a")
        assert counter(s).minutes_to_wait("a", 2) is None


def test_clear_prefix_takes_keys_literally(db):
    with db.session() as s:
        counter(s).record("signin:pair:a_b@x.test|1", "signin:pair:aXb@x.test|1")
        counter(s).clear_prefix("signin:pair:a_b@x.test|")
    assert keys(db) == {"signin:pair:aXb@x.test|1": 1}


def test_worker_forgets_counters_older_than_a_day(db, clock):
    with db.session() as s:
        counter(s).record("old")
        counter(s, NOW + timedelta(hours=23)).record("recent")
    clock.advance(timedelta(days=1, minutes=1))
    Delivery(service_registry(db, clock), DeliveryPolicy(batch=3)).run_pass()
    assert keys(db) == {"recent": 1}
