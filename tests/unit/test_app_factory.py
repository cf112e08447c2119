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
