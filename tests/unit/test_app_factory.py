"""What the WSGI app factory does with the process (``booking.gc_freeze``)."""

import gc

import pytest

from booking import main


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def settings(tmp_path, **extra):
    return {"sqlalchemy.url": f"sqlite:///{tmp_path}/app.sqlite",
            "booking.secret": "s" * 40, **extra}


def test_gc_freeze_moves_start_up_objects_out_of_collections(tmp_path, unfrozen):
    main({}, **settings(tmp_path, **{"booking.gc_freeze": "true"}))
    assert gc.get_freeze_count() > 10_000


def test_without_gc_freeze_nothing_is_frozen(tmp_path, unfrozen):
    main({}, **settings(tmp_path))
    assert gc.get_freeze_count() == 0


def test_a_forked_worker_starts_with_an_empty_pool(tmp_path):
    """booking.serve forks after start-up: a worker must not share the
    parent's pooled connections (it opens its own)."""
    import os

    from sqlalchemy import text

    from booking.models import get_engine

    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/pool.sqlite"})
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    assert engine.pool.checkedin() == 1
    pid = os.fork()
    if pid == 0:
        os._exit(0 if engine.pool.checkedin() == 0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert engine.pool.checkedin() == 1  # the parent keeps its own
    engine.dispose()
