"""Key rotation of the columns encrypted at rest (``booking-keys``).

Every column typed :class:`~booking.models.types.EncryptedString` is found
in the metadata. :func:`rotate_batch` re-encrypts, under the keyring's
current key, up to ``size`` values of one column that are under an older
key or still legacy plaintext, in one committed transaction; a rerun
continues where the last stopped, since done values no longer match.
A value changed meanwhile by the application is left to it (the update
matches the stored text it read), so rotation never writes back an old value.
"""

from collections import Counter

from sqlalchemy import Text, select, type_coerce, update

from ..crypto import PREFIX, key_id_of, keyring_of
from ..models import write_session
from ..models.meta import Base
from ..models.types import EncryptedString

#: ``status`` counts empty values apart; legacy plaintext as this.
PLAINTEXT = "plaintext"
EMPTY = "empty"


def encrypted_columns(metadata=Base.metadata):
    """``[(table, column)]`` of every encrypted column, in a stable order."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedString):
                found.append((table, column))
    return found


def _raw(column):
    """The column as stored (the ciphertext), not through its type."""
    return type_coerce(column, Text())


def stale(column, keyring):
    """Values not under the current key: older keys and legacy plaintext."""
    raw = _raw(column)
    current = f"{PREFIX}{keyring.current}:".replace("_", "\\_")
    return raw.is_not(None), raw != "", raw.not_like(current + "%", escape="\\")


def rotate_batch(session_factory, table, column, size, after=None):
    """Re-encrypt up to ``size`` stale values of ``column`` whose primary
    key is above ``after``, committed. Returns ``(rotated, last_key)``;
    ``last_key`` is ``None`` when the column has no more."""
    (key,) = table.primary_key.columns
    with write_session(session_factory) as session:
        keyring = keyring_of(session.get_bind().dialect)
        if keyring is None:
            raise RuntimeError("no data keys are configured (booking.data_keys)")
        query = (select(key, _raw(column).label("stored"))
                 .where(*stale(column, keyring))
                 .order_by(key).limit(size))
        if after is not None:
            query = query.where(key > after)
        rows = session.execute(query).all()
        rotated = 0
        for row_key, stored in rows:
            plaintext = keyring.decrypt(stored, column.type.place)
            result = session.execute(
                update(table).where(key == row_key, _raw(column) == stored)
                .values({column.name: plaintext}))
            rotated += result.rowcount
        return rotated, (rows[-1][0] if len(rows) == size else None)


def rotate(session_factory, size=500, report=print):
    """Re-encrypt every encrypted column in batches of ``size``, reporting
    progress; returns how many values were re-encrypted."""
    total = 0
    for table, column in encrypted_columns():
        place, done, after = column.type.place, 0, None
        while True:
            rotated, after = rotate_batch(session_factory, table, column, size, after)
            done += rotated
            if rotated:
                report(f"{place}: {done} re-encrypted")
            if after is None:
                break
        total += done
    return total


def status(session_factory):
    """``{place: Counter({key id | "plaintext" | "empty": count})}``."""
    counts = {}
    with session_factory() as session:
        for table, column in encrypted_columns():
            counter = counts[column.type.place] = Counter()
            stored_values = session.execute(
                select(_raw(column)).execution_options(yield_per=1000)).scalars()
            for stored in stored_values:
                if not stored:
                    counter[EMPTY] += 1
                else:
                    counter[key_id_of(stored) or PLAINTEXT] += 1
    return counts
