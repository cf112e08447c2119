"""The outbox worker's pass: housekeeping, then claim and send due messages.

One pass (:meth:`Delivery.run_pass`):

1. expire stale holds, then queue the reminders whose moment has come, then
   purge the tenants whose deletion grace period is over
   (``BusinessService.purge_due``), blank the bodies of emails sent more
   than ``booking.outbox_retention_days`` ago, and anonymise the bookings
   past their tenant's retention (``PrivacyService.apply_retention``), each
   in its own short transaction;
2. claim due messages in small batches: ``SELECT … FOR UPDATE SKIP LOCKED``
   on PostgreSQL (inside ``BEGIN IMMEDIATE`` on SQLite), set a lease
   (``locked_until``) and commit, so no row stays locked while we talk to
   the mail server and other workers skip the leased rows;
3. send each over one connection, and record the outcome of each message in
   its own short transaction: ``sent_at``; or, on failure, ``attempts``,
   ``last_error`` and ``next_attempt_at`` pushed back exponentially
   (``base * 2 ** (attempts - 1)``, capped), given up (``failed_at``) after
   ``max_attempts`` or at once when the server refuses it for good (5xx).

A message that no longer applies (``notifications.still_relevant`` is false:
a reminder for a cancelled booking) is not sent: it gets ``failed_at`` and
``last_error = SKIPPED`` with ``attempts`` untouched, and counts as skipped.

A message that ``carries_secret`` (a link with a token) has its body blanked
in the statement that records it sent or given up: the mail server has the
link, the outbox no longer.

Guarantee: at-least-once delivery to the SMTP server. A duplicate is
possible only if the process dies between the server's accept and our
commit of ``sent_at``. Nothing is lost: a crashed worker's lease expires and
a later pass (of any worker) takes the row again. A worker stops sending
from a batch before its own lease could run out, so two live workers never
hold one message.
"""

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import bindparam, case, func, literal, or_, select, update

from ..adapters.mail import Mailer, MailError, PermanentMailError
from ..adapters.maps import BACKGROUND, Geocoder
from ..models import OutboxMessage
from . import geocoding, reminders, throttle, unit_of_work
from .booking import BookingService
from .business import BusinessService
from .notifications import Notifier, still_relevant
from .text import without_addresses
from .privacy import PrivacyService

log = logging.getLogger(__name__)

#: ``last_error`` of a message skipped because it no longer applies.
SKIPPED = "skipped: no longer relevant"



def _blanked_if_secret(now):
    """The values that blank a message's body if it carries a secret (a
    link with a token): applied as it is sent or given up, in the same
    statement, so the outbox never keeps a usable link once it is done."""
    secret = OutboxMessage.carries_secret
    return {
        "body_text": case((secret, ""), else_=OutboxMessage.body_text),
        "body_html": case((secret, ""), else_=OutboxMessage.body_html),
        "redacted_at": case((secret, now), else_=OutboxMessage.redacted_at),
        "headers": case((secret, literal({}, OutboxMessage.headers.type)),
                        else_=OutboxMessage.headers),
    }


#: Built once: it runs after every message sent.
MARK_SENT = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("message_id"))
    .values(sent_at=bindparam("now"), locked_until=None,
            attempts=OutboxMessage.attempts + 1, last_error="",
            **_blanked_if_secret(bindparam("now")))
)


def redact_old_bodies(dbsession, now, retention_days):
    """Blank the bodies (and attachments) of messages sent or given up more
    than ``retention_days`` ago; their subject, recipient and outcome stay.
    Returns how many were blanked."""
    cutoff = now - timedelta(days=retention_days)
    result = dbsession.execute(
        update(OutboxMessage)
        .where(OutboxMessage.redacted_at.is_(None),
               or_(OutboxMessage.sent_at <= cutoff, OutboxMessage.failed_at <= cutoff))
        .values(body_text="", body_html="", attachments=[], headers={}, redacted_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount


@dataclass
class PassReport:
    sent: int = 0
    failed: int = 0  # given up during this pass
    retried: int = 0  # failed this time, will be tried again
    skipped: int = 0
    pending: int = 0  # not sent and not given up, due or not, after the pass
    expired_holds: int = 0
    reminders: int = 0
    purged_tenants: list = field(default_factory=list)
    located_venues: int = 0
    redacted: int = 0
    anonymised_bookings: int = 0
    stopped: bool = False
    errors: list = field(default_factory=list)

    def line(self):
        return (f"sent {self.sent}, failed {self.failed}, pending {self.pending} "
                f"(retried {self.retried}, skipped {self.skipped}, "
                f"holds expired {self.expired_holds}, reminders queued {self.reminders}, "
                f"bodies redacted {self.redacted}, bookings anonymised {self.anonymised_bookings})")


@dataclass(frozen=True)
class DeliveryPolicy:
    batch: int = 50
    lease: timedelta = timedelta(minutes=10)
    max_attempts: int = 8
    backoff_base: timedelta = timedelta(minutes=1)
    backoff_max: timedelta = timedelta(hours=6)
    #: Stop sending from a batch this long before its lease runs out.
    margin: timedelta = timedelta(minutes=1)

    @classmethod
    def from_settings(cls, settings, batch=None):
        return cls(
            batch=batch or settings["booking.worker.batch"],
            lease=timedelta(seconds=settings["booking.worker.lease_seconds"]),
            max_attempts=settings["booking.worker.max_attempts"],
            backoff_base=timedelta(seconds=settings["booking.worker.backoff_base_seconds"]),
            backoff_max=timedelta(seconds=settings["booking.worker.backoff_max_seconds"]),
            margin=timedelta(seconds=2 * settings["booking.mail.timeout"]),
        )

    def backoff(self, attempts):
        # The exponent is capped: 2 ** 40 minutes is beyond any maximum
        # and beyond what a timedelta holds.
        return min(self.backoff_base * 2 ** min(attempts - 1, 40), self.backoff_max)


class Delivery:
    """Runs passes with the app's ``registry`` (``bootstrap(ini)["registry"]``
    in the worker): its session factory, its clock, and services and
    adapters built by the registered factories, as a request would get them.
    ``should_stop()`` is asked between messages (SIGTERM in the worker)."""

    def __init__(self, registry, policy, should_stop=lambda: False):
        self.registry = registry
        self.session_factory = registry["dbsession_factory"]
        self.clock = registry["booking.clock"]
        self.settings = registry.settings
        self.policy = policy
        self.should_stop = should_stop
        # The adapters hold no session: built once, by their registered
        # factories, in a unit of work that writes nothing.
        with unit_of_work(registry, write=False) as work:
            #: One mailer for the worker's life, connected during each pass.
            self.mailer = work.find_service(Mailer)
            #: Locates venues whose address the geocoder could not place yet
            #: (with retries: nobody waits for it).
            self.geocoder = work.find_service(Geocoder, name=BACKGROUND)

    def transaction(self):
        """A short write transaction (``BEGIN IMMEDIATE`` on SQLite): a
        :class:`~booking.services.Work` whose services come from the
        registered factories."""
        return unit_of_work(self.registry)

    def write(self, statement, parameters=None):
        """One statement in its own transaction, on a bare connection: the
        per-message bookkeeping, kept as cheap as it can be (on PostgreSQL
        one round trip, autocommit; on SQLite ``BEGIN IMMEDIATE``)."""
        engine = self.session_factory.kw["bind"]
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execution_options(isolation_level="AUTOCOMMIT")
            else:
                connection.execution_options(sqlite_begin="immediate")
            with connection.begin():
                connection.execute(statement, parameters)

    def run_pass(self):
        report = PassReport()
        self.housekeeping(report)
        try:
            while not self.should_stop():
                found, batch = self.claim(report)
                if not found:
                    break
                self.send_batch(batch, report)
        finally:
            self.mailer.close()
        report.stopped = self.should_stop()
        report.pending = self.count_pending()
        return report

    def housekeeping(self, report):
        """Expire holds, queue reminders, purge, locate venues: each step on
        its own, so that one failing never stops the others nor the mail."""
        for step in (self.expire_holds, self.queue_reminders, self.purge, self.locate_venues,
                     self.forget_throttle_counts, self.redact, self.retain):
            if self.should_stop():
                return
            try:
                step(report)
            except Exception:
                log.exception("worker housekeeping step %s failed", step.__name__)
                report.errors.append(f"{step.__name__} failed")

    def expire_holds(self, report):
        with self.transaction() as work:
            report.expired_holds = work.find_service(BookingService).expire_stale_holds()

    def queue_reminders(self, report):
        with self.transaction() as work:
            report.reminders = reminders.schedule_due_reminders(
                work.dbsession, work.now, work.find_service(Notifier))

    def purge(self, report):
        with self.transaction() as work:
            report.purged_tenants = work.find_service(BusinessService).purge_due()

    def forget_throttle_counts(self, report):
        with self.transaction() as work:
            throttle.forget_stale_counters(work.dbsession, work.now)

    def redact(self, report):
        with self.transaction() as work:
            report.redacted = redact_old_bodies(
                work.dbsession, work.now, self.settings["booking.outbox_retention_days"])

    def retain(self, report):
        with self.transaction() as work:
            report.anonymised_bookings = work.find_service(PrivacyService).apply_retention()

    def locate_venues(self, report):
        if not self.geocoder.offline:
            # Its own short transactions: none may be open around the HTTP call.
            report.located_venues, _failed = geocoding.locate_pending_venues(
                self.session_factory, self.geocoder, self.clock.now(),
                max_age=geocoding.cache_age(self.settings))

    def claim(self, report):
        """Lease up to ``batch`` due messages; skip those no longer relevant.
        Returns how many were due and the leased ones, detached copies
        readable after the commit."""
        with self.transaction() as work:
            dbsession, now = work.dbsession, work.now
            rows = dbsession.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
                       OutboxMessage.next_attempt_at <= now,
                       or_(OutboxMessage.locked_until.is_(None),
                           OutboxMessage.locked_until <= now))
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.policy.batch)
                .with_for_update(skip_locked=True)
            ).all()
            batch = []
            for message in rows:
                if still_relevant(dbsession, message, now):
                    message.locked_until = now + self.policy.lease
                    batch.append(message)
                else:
                    message.failed_at, message.last_error = now, SKIPPED
                    if message.carries_secret:
                        message.body_text = message.body_html = ""
                        message.headers = {}
                        message.redacted_at = now
                    report.skipped += 1
            dbsession.flush()
            for message in batch:
                dbsession.expunge(message)
        return len(rows), batch

    def send_batch(self, batch, report):
        if not batch:
            return
        deadline = batch[0].locked_until - self.policy.margin
        for index, message in enumerate(batch):
            if self.should_stop() or self.clock.now() >= deadline:
                self.release(batch[index:])
                return
            try:
                self.mailer.send(message)
            except MailError as exc:
                self.record_failure(message, exc, report)
            except Exception as exc:  # a message that breaks the mailer must not block the rest
                log.exception("outbox %s could not be sent", message.id)
                self.record_failure(message, MailError(f"{type(exc).__name__}: {exc}"), report)
            else:
                self.record_sent(message, report)

    def record_sent(self, message, report):
        now = self.clock.now()
        self.write(MARK_SENT, {"message_id": message.id, "now": now})
        report.sent += 1

    def record_failure(self, message, error, report):
        now = self.clock.now()
        attempts = message.attempts + 1
        give_up = isinstance(error, PermanentMailError) or attempts >= self.policy.max_attempts
        values = {"attempts": attempts, "last_error": str(error)[:1000], "locked_until": None}
        if give_up:
            values["failed_at"] = now
            values.update(_blanked_if_secret(now))
        else:
            values["next_attempt_at"] = now + self.policy.backoff(attempts)
        self.write(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))
        if give_up:
            report.failed += 1
            log.warning("outbox %s given up after %s attempt(s): %s",
                        message.id, attempts, without_addresses(error))
        else:
            report.retried += 1
            log.info("outbox %s attempt %s failed, next at %s: %s",
                     message.id, attempts, values["next_attempt_at"].isoformat(),
                     without_addresses(error))
        report.errors.append(str(error))

    def release(self, messages):
        """Give back leased messages we will not send now (we are stopping)."""
        self.write(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_([m.id for m in messages]),
                   OutboxMessage.sent_at.is_(None))
            .values(locked_until=None))

    def count_pending(self):
        with self.session_factory() as dbsession:
            return dbsession.scalar(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)))
