"""The transactional outbox: emails are written here, in the transaction of
the change that causes them, and sent later by the worker
(``booking.scripts.worker``). A rolled-back change leaves no message."""

from ..models import OutboxMessage, insert_for


def enqueue(dbsession, *, kind, dedupe_key, recipient, subject, body_text, body_html, now,
            due_at=None, tenant_id=None, booking_id=None, locale="en", attachments=()):
    """Queue one rendered email. Returns its id, or ``None`` when a message
    with ``dedupe_key`` already exists (the same cause, seen again)."""
    due_at = due_at or now
    statement = (
        insert_for(dbsession, OutboxMessage)
        .values(
            tenant_id=tenant_id, booking_id=booking_id, kind=kind, dedupe_key=dedupe_key,
            recipient=recipient, locale=locale, subject=subject, body_text=body_text,
            body_html=body_html, attachments=list(attachments), created_at=now, due_at=due_at,
            next_attempt_at=due_at, attempts=0, last_error="",
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return dbsession.execute(statement).scalar()
