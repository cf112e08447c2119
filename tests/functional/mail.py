"""Reading the emails a test caused from the outbox."""

import re
from urllib.parse import urlparse

from sqlalchemy import select

from booking.models import OutboxMessage


def messages(db, kind=None, email=None):
    """``[OutboxMessage]`` queued (oldest first), of ``kind`` and to ``email``."""
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    if email is not None:
        query = query.where(OutboxMessage.recipient == email)
    with db.session() as s:
        rows = s.scalars(query).all()
        s.expunge_all()
        return rows


def link_path(db, kind, email, prefix):
    """The path of the last ``prefix`` link (e.g. ``/confirm/``) emailed as
    ``kind`` to ``email``."""
    rows = messages(db, kind, email)
    assert rows, f"no {kind} email to {email}"
    for url in re.findall(r"https?://\S+", rows[-1].body_text):
        path = urlparse(url).path
        if path.startswith(prefix):
            return path
    raise AssertionError(f"no {prefix} link in the {kind} email to {email}")


def confirm_address(testapp, db, email):
    """Follow the last confirmation link emailed to ``email``: signed in."""
    page = testapp.get(link_path(db, "account.confirm", email, "/confirm/"))
    return page.forms["confirm-form"].submit(status=303)
