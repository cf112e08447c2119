"""``booking-worker`` as real processes on PostgreSQL, draining into a real
SMTP server: several workers deliver each message exactly once; a worker
killed with SIGKILL loses nothing; SIGTERM stops cleanly. And the embedded
default: SQLite and the folder mailer."""

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import insert, select

from booking.models import OutboxMessage

from ..conftest import NOW
from ..smtp import smtp, smtp_server  # noqa: F401

MESSAGES = 2_000
#: Enough for a kill or a stop to land in the middle of a pass.
INTERRUPTED = 600


@pytest.fixture
def pg(postgresql_db):
    yield postgresql_db
    postgresql_db.clean()


def write_ini(directory, db, smtp_port, clock=NOW, batch=25):
    path = directory / f"worker-{clock:%H%M}.ini"
    path.write_text(f"""\
[app:main]
use = egg:booking
sqlalchemy.url = {db.url}
booking.secret = test-secret-{"x" * 40}
booking.clock = {clock.isoformat()}
booking.mail = smtp
booking.mail.host = 127.0.0.1
booking.mail.port = {smtp_port}
booking.mail.sender = Club <no-reply@club.test>
booking.mail.timeout = 10
booking.worker.batch = {batch}
booking.worker.interval = 1
""")
    return str(path)


def fill_outbox(db, count=MESSAGES):
    rows = [{
        "kind": "booking.confirmed", "dedupe_key": f"bulk:{n}", "recipient": f"r{n}@example.test",
        "locale": "en", "subject": f"Message {n}", "body_text": f"text {n}",
        "body_html": f"<p>html {n}</p>", "attachments": [], "created_at": NOW, "due_at": NOW,
        "next_attempt_at": NOW, "attempts": 0, "last_error": "",
    } for n in range(count)]
    with db.engine.begin() as connection:
        connection.execute(insert(OutboxMessage), rows)


def start_worker(ini, *options):
    return subprocess.Popen([sys.executable, "-m", "booking.scripts.worker", ini, *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def sent_ids(db):
    with db.engine.connect() as connection:
        return set(connection.scalars(
            select(OutboxMessage.id).where(OutboxMessage.sent_at.is_not(None))))


def wait_for(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_workers_deliver_each_message_exactly_once(pg, smtp, tmp_path, workers):
    fill_outbox(pg)
    ini = write_ini(tmp_path, pg, smtp.port)
    processes = [start_worker(ini, "--once") for _ in range(workers)]
    outputs = [process.communicate(timeout=50) for process in processes]
    assert [p.returncode for p in processes] == [0] * workers, [err for _, err in outputs]
    received = Counter(smtp.inbox.outbox_ids())
    assert len(received) == MESSAGES
    assert max(received.values()) == 1
    assert len(sent_ids(pg)) == MESSAGES
    reported = sum(int(out.split("sent ")[1].split(",")[0]) for out, _ in outputs)
    assert reported == MESSAGES


def test_killed_worker_loses_nothing_after_a_restart(pg, smtp, tmp_path):
    fill_outbox(pg, INTERRUPTED)
    worker = start_worker(write_ini(tmp_path, pg, smtp.port))
    wait_for(lambda: smtp.inbox.count() >= INTERRUPTED // 4)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    time.sleep(0.2)  # let the server drop the half-received message, if any
    accepted_before_kill = set(smtp.inbox.outbox_ids())
    marked_before_kill = sent_ids(pg)
    assert len(marked_before_kill) < INTERRUPTED

    # Restarted after the dead worker's lease has run out.
    later = write_ini(tmp_path, pg, smtp.port, clock=NOW + timedelta(hours=1))
    restarted = start_worker(later, "--once")
    out, err = restarted.communicate(timeout=50)
    assert restarted.returncode == 0, err

    received = Counter(smtp.inbox.outbox_ids())
    assert set(received) == set(range(1, INTERRUPTED + 1))
    assert len(sent_ids(pg)) == INTERRUPTED
    duplicates = {id for id, count in received.items() if count > 1}
    assert duplicates <= accepted_before_kill - marked_before_kill


def test_sigterm_finishes_the_current_message_and_exits_cleanly(pg, smtp, tmp_path):
    fill_outbox(pg, INTERRUPTED)
    worker = start_worker(write_ini(tmp_path, pg, smtp.port))
    wait_for(lambda: smtp.inbox.count() >= 100)
    worker.send_signal(signal.SIGTERM)
    out, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err
    assert out.startswith("sent ")
    received = smtp.inbox.outbox_ids()
    assert len(received) < INTERRUPTED
    # Every accepted message was recorded as sent; nothing is left leased.
    assert set(received) == sent_ids(pg)
    with pg.engine.connect() as connection:
        leased = connection.scalar(select(OutboxMessage.id).where(
            OutboxMessage.sent_at.is_(None), OutboxMessage.locked_until.is_not(None)))
    assert leased is None


def test_worker_once_on_sqlite_writes_eml_files_to_the_folder(sqlite_db, tmp_path):
    try:
        fill_outbox(sqlite_db, 3)
        ini = tmp_path / "embedded.ini"
        ini.write_text(f"""\
[app:main]
use = egg:booking
sqlalchemy.url = {sqlite_db.url}
booking.clock = {NOW.isoformat()}
booking.mail.folder = {tmp_path / "mail"}
""")
        worker = start_worker(str(ini), "--once")
        out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert out.startswith("sent 3, failed 0, pending 0")
        emails = [message_from_bytes(path.read_bytes(), policy=policy.default)
                  for path in sorted((tmp_path / "mail").glob("*.eml"))]
        assert [e["Subject"] for e in emails] == ["Message 0", "Message 1", "Message 2"]
    finally:
        sqlite_db.clean()


def test_worker_output_names_no_recipient(sqlite_db, tmp_path):
    """Its progress lines and its log (at INFO, as production.ini has it)
    say what happened to which message, never to which address."""
    try:
        fill_outbox(sqlite_db, 3)
        with smtp_server(refuse={"r1@example.test"},
                         refusal="550 5.1.1 <{address}>: Recipient address rejected") as server:
            ini = tmp_path / "logged.ini"
            ini.write_text(write_ini_text(sqlite_db, server.port) + LOGGING)
            worker = start_worker(str(ini), "--once")
            out, err = worker.communicate(timeout=30)
        assert worker.returncode == 0, err
        assert out.startswith("sent 2, failed 1")
        assert "given up" in err
        assert not re.search(r"r\d+@example\.test", out + err)
    finally:
        sqlite_db.clean()


def write_ini_text(db, smtp_port):
    return f"""\
[app:main]
use = egg:booking
sqlalchemy.url = {db.url}
booking.secret = test-secret-{"x" * 40}
booking.clock = {NOW.isoformat()}
booking.mail = smtp
booking.mail.host = 127.0.0.1
booking.mail.port = {smtp_port}
booking.mail.sender = Club <no-reply@club.test>
booking.mail.timeout = 10
"""


LOGGING = """
[loggers]
keys = root, booking

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[logger_booking]
level = INFO
handlers =
qualname = booking

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""
