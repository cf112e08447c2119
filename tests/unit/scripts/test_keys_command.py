"""``booking-keys``, run in-process through ``main(argv)`` against the test
databases, with an INI file holding the new key first and the old one."""

import base64

import pytest

from booking.crypto import generate_key
from booking.scripts import keys

from ... import builders as b
from ...database import TEST_DATA_KEYS

NEW_KEY = generate_key("k2")
INI = """\
[app:main]
use = call:booking:main
sqlalchemy.url = {url}
booking.secret = test-secret-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
booking.data_keys = {keys}
"""


@pytest.fixture
def ini(db, tmp_path):
    path = tmp_path / "test.ini"
    path.write_text(INI.format(url=db.url.replace("%", "%%"), keys=f"{NEW_KEY},{TEST_DATA_KEYS}"))
    return str(path)


def test_generate_prints_a_new_key(capsys):
    assert keys.main(["booking-keys", "generate", "--id", "k9"]) == 0
    key_id, _, encoded = capsys.readouterr().out.strip().partition(":")
    assert key_id == "k9" and len(base64.urlsafe_b64decode(encoded)) == 32


def test_generate_refuses_a_bad_key_id(capsys):
    assert keys.main(["booking-keys", "generate", "--id", "no spaces"]) == 2


def test_rotate_then_status_shows_every_value_under_the_new_key(db, ini, capsys):
    with db.session() as s:
        for n in range(3):
            b.user(s, phone=f"+1 555 010{n}")
    assert keys.main(["booking-keys", "status", ini]) == 0
    assert "users.phone: test 3" in capsys.readouterr().out
    assert keys.main(["booking-keys", "rotate", ini, "--batch-size", "2"]) == 0
    out = capsys.readouterr().out
    assert "users.phone: 2 re-encrypted" in out and "users.phone: 3 re-encrypted" in out
    assert "done: 3 value(s) re-encrypted" in out
    assert keys.main(["booking-keys", "status", ini]) == 0
    assert "users.phone: k2 3" in capsys.readouterr().out


def test_rotate_refuses_a_batch_size_of_zero(ini):
    with pytest.raises(SystemExit):
        keys.main(["booking-keys", "rotate", ini, "--batch-size", "0"])
