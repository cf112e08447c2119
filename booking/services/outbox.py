"""The transactional outbox: emails are written here, in the transaction of
the change that causes them, and sent later by the worker
(``booking.scripts.worker``). A rolled-back change leaves no message."""

from zope.sqlalchemy import mark_changed

from ..models import DIALECT_INSERTS, OutboxMessage

#: Built once per dialect (every booking queues an email), values bound per call.
ENQUEUE = {
    name: insert(OutboxMessage.__table__)
    .on_conflict_do_nothing(index_elements=["dedupe_key"])
    .returning(OutboxMessage.__table__.c.id)
    for name, insert in DIALECT_INSERTS.items()
}


def enqueue(dbsession, *, kind, dedupe_key, recipient, subject, body_text, body_html, now,
            due_at=None, tenant_id=None, booking_id=None, locale="en", attachments=(),
            carries_secret=False, headers=None):
    """Queue one rendered email. Returns its id, or ``None`` when a message
    with ``dedupe_key`` already exists (the same cause, seen again).

    ``carries_secret``: the body holds a secret (a link with a token); the
    worker blanks it as soon as the message is sent or given up, so the
    outbox keeps no usable link (nor its ``headers``). Other bodies are blanked
    ``booking.outbox_retention_days`` after sending
    (:func:`booking.services.delivery.redact_old_bodies`).

    ``headers``: extra headers of the email, ``{name: value}`` (an offer's
    ``List-Unsubscribe``).

    The row goes in at once through a Core ``INSERT`` of the table, its
    values bound at execution, on the session's connection: nothing reads
    it back as an object, so the session has nothing to flush first and
    the statement is the same for every message."""
    due_at = due_at or now
    statement = ENQUEUE[dbsession.get_bind().dialect.name]
    message_id = dbsession.connection().execute(statement, {
        "tenant_id": tenant_id, "booking_id": booking_id, "kind": kind,
        "dedupe_key": dedupe_key, "recipient": recipient, "locale": locale,
        "subject": subject, "body_text": body_text, "body_html": body_html,
        "attachments": list(attachments), "created_at": now, "due_at": due_at,
        "next_attempt_at": due_at, "attempts": 0, "last_error": "",
        "carries_secret": carries_secret, "headers": dict(headers or {}),
    }).scalar()
    mark_changed(dbsession)  # a Core statement: the transaction must commit it
    return message_id
