"""A provider checkout opened for a row that waits for it (a booking's
payment, a voucher order): one way to record how it went."""


def open_checkout(dbsession, now, row, create, keeps=Exception):
    """Start the provider checkout ``create()`` for ``row`` (a payment, a
    voucher order): its reference and URL on success; a failure of the
    kind ``keeps`` is written on the row (``last_error``) and raised."""
    try:
        checkout = create()
    except keeps as exc:
        row.last_error = str(exc)[:1000]
        row.updated_at = now
        dbsession.flush()
        raise
    row.provider_ref = checkout.provider_ref
    row.checkout_url = checkout.url
    row.last_error = ""
    row.updated_at = now
    dbsession.flush()
    return checkout
