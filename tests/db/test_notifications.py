"""Emails queued in the outbox by the booking service and the Notifier, on
both databases: every kind rendered in both parts, in the customer's
language, in the venue's time; written in the transaction of the change."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select

from booking import ics
from booking.models import AuditLog, Booking, BookingStatus, OutboxMessage, Resource, Tenant, User
from booking.services.booking import BookingRequest, BookingService
from booking.services.notifications import Notifier

from .. import builders as b
from ..conftest import NOW
from ..functional.site import form_by_action, sign_in

PARIS = ZoneInfo("Europe/Paris")
TOMORROW = date(2026, 3, 3)
BOOKING_KINDS = ["booking.confirmed", "booking.cancelled", "booking.rescheduled",
                 "hold.expired", "payment.refunded", "reminder"]


def paris(day, hour):
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s, slug="club", name="Club Rive Gauche", hold_minutes=15)
        venue = b.venue(s, tenant, name="Centre", address="1 rue de Rivoli, Paris")
        court = b.resource(s, venue, name="Court", capacity=1, price=2000)
        yoga = b.resource(s, venue, name="Yoga", capacity=10, price=1000)
        return dict(tenant=tenant.id, court=court.id, yoga=yoga.id,
                    en=b.user(s, name="Ann", locale="en").id,
                    fr=b.user(s, name="Zoé", locale="fr").id)


def book(db, ids, customer="en", resource="court", hour=10, now=NOW, **kw):
    with db.session() as s:
        booking, _ = BookingService(s, now).book(BookingRequest(
            s.get(Tenant, ids["tenant"]), s.get(Resource, ids[resource]),
            s.get(User, ids[customer]), paris(TOMORROW, hour), **kw))
        return booking.id


def messages(db, kind=None):
    with db.session() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        rows = s.scalars(query).all()
        s.expunge_all()
        return rows


def with_booking(db, booking_id, action, now=NOW):
    """Run ``action(service, tenant, booking)`` in one committed transaction."""
    with db.session() as s:
        booking = s.get(Booking, booking_id)
        return action(BookingService(s, now), s.get(Tenant, booking.tenant_id), booking)


def notify(db, booking_id, kind, **kw):
    """Queue ``kind`` about a booking through the Notifier directly."""
    method = {"booking.confirmed": "booking_confirmed", "booking.cancelled": "booking_cancelled",
              "booking.rescheduled": "booking_rescheduled", "hold.expired": "hold_expired",
              "payment.refunded": "payment_refunded", "reminder": "reminder"}[kind]
    args = {"payment.refunded": (1500,), "reminder": (1440,)}.get(kind, ())
    with db.session() as s:
        return getattr(Notifier(s, NOW, kw), method)(s.get(Booking, booking_id), *args)


def calendar_of(message):
    (attachment,) = message.attachments
    assert attachment["content_type"] == "text/calendar"
    return icalendar.Calendar.from_ical(attachment["content"])


def event_of(calendar):
    (event,) = calendar.walk("VEVENT")
    return event


class TestHooks:
    def test_confirmed_booking_queues_confirmation(self, db, ids):
        booking_id = book(db, ids)
        (message,) = messages(db)
        assert (message.kind, message.booking_id, message.tenant_id) == (
            "booking.confirmed", booking_id, ids["tenant"])
        assert message.recipient.endswith("@example.test")
        assert message.due_at == NOW and message.status == "pending"

    def test_held_booking_queues_nothing(self, db, ids):
        book(db, ids, hold_for_payment=True)
        assert messages(db) == []

    def test_confirming_a_hold_queues_confirmation(self, db, ids):
        booking_id = book(db, ids, hold_for_payment=True)
        with_booking(db, booking_id, lambda svc, t, bk: svc.confirm(t, bk, actor_id=None))
        assert [m.kind for m in messages(db)] == ["booking.confirmed"]

    def test_confirming_a_stale_hold_queues_no_hold_expired(self, db, ids):
        booking_id = book(db, ids, hold_for_payment=True)
        with_booking(db, booking_id, lambda svc, t, bk: svc.confirm(t, bk, actor_id=None),
                     now=NOW + timedelta(minutes=30))
        assert [m.kind for m in messages(db)] == ["booking.confirmed"]

    def test_cancel_queues_cancellation(self, db, ids):
        booking_id = book(db, ids)
        with_booking(db, booking_id, lambda svc, t, bk: svc.cancel(t, bk, by_staff=True,
                                                                   reason="Court flooded"))
        (message,) = messages(db, "booking.cancelled")
        assert "Court flooded" in message.body_text and "Court flooded" in message.body_html

    def test_reschedule_queues_update(self, db, ids):
        booking_id = book(db, ids)
        with_booking(db, booking_id, lambda svc, t, bk: svc.reschedule(
            t, bk, bk.resource, paris(TOMORROW, 15), by_staff=True))
        (message,) = messages(db, "booking.rescheduled")
        assert "3:00\u202fPM" in message.body_text

    def test_expire_holds_queues_hold_expired(self, db, ids):
        held = book(db, ids, resource="yoga", hold_for_payment=True)
        book(db, ids, resource="yoga", now=NOW + timedelta(minutes=20))
        (message,) = messages(db, "hold.expired")
        assert message.booking_id == held
        assert "/t/club/venues/" in message.body_text and "/resources/" in message.body_text

    def test_rolled_back_booking_leaves_no_outbox_row(self, db, ids):
        with pytest.raises(RuntimeError, match="abort"):
            with db.session() as s:
                BookingService(s, NOW).book(BookingRequest(
                    s.get(Tenant, ids["tenant"]), s.get(Resource, ids["court"]),
                    s.get(User, ids["en"]), paris(TOMORROW, 10)))
                assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
                raise RuntimeError("abort the transaction")
        assert messages(db) == []
        with db.session() as s:
            assert s.scalar(select(func.count()).select_from(Booking)) == 0


class TestExpireStaleHolds:
    def test_expires_holds_of_every_resource(self, db, ids):
        court = book(db, ids, hold_for_payment=True)
        yoga = book(db, ids, resource="yoga", customer="fr", hold_for_payment=True)
        with db.session() as s:
            assert BookingService(s, NOW + timedelta(minutes=16)).expire_stale_holds() == 2
        with db.session() as s:
            assert {s.get(Booking, i).status for i in (court, yoga)} == {BookingStatus.EXPIRED}
            audited = s.scalars(select(AuditLog.target_id)
                                .where(AuditLog.action == "booking.expired")).all()
            assert sorted(audited) == sorted([court, yoga])
        assert sorted(m.booking_id for m in messages(db, "hold.expired")) == sorted([court, yoga])

    def test_leaves_holds_with_time_left(self, db, ids):
        held = book(db, ids, hold_for_payment=True)
        with db.session() as s:
            assert BookingService(s, NOW + timedelta(minutes=14)).expire_stale_holds() == 0
        with db.session() as s:
            assert s.get(Booking, held).status == BookingStatus.HELD
        assert messages(db) == []

    def test_second_sweep_expires_nothing(self, db, ids):
        book(db, ids, hold_for_payment=True)
        later = NOW + timedelta(minutes=16)
        for expected in (1, 0):
            with db.session() as s:
                assert BookingService(s, later).expire_stale_holds() == expected
        assert len(messages(db, "hold.expired")) == 1


class TestRendering:
    @pytest.mark.parametrize("kind", BOOKING_KINDS)
    def test_each_kind_has_both_parts_in_venue_time(self, db, ids, kind):
        booking_id = book(db, ids, customer="fr")  # the confirmation is queued too
        notify(db, booking_id, kind)
        (message,) = messages(db, kind)
        assert message.subject and message.locale == "fr"
        for body in (message.body_text, message.body_html):
            assert "10:00" in body and "mardi 3 mars 2026" in body
        assert message.body_html.lstrip().startswith("<!DOCTYPE html>")
        assert "<p>" not in message.body_text

    @pytest.mark.parametrize("kind", BOOKING_KINDS)
    def test_each_kind_in_english(self, db, ids, kind):
        booking_id = book(db, ids, customer="en")
        notify(db, booking_id, kind)
        (message,) = messages(db, kind)
        assert message.locale == "en"
        for body in (message.body_text, message.body_html):
            assert "Tuesday, March 3, 2026, 10:00\u202fAM" in body
            assert "When" in body and "€20.00" in body

    def test_french_customer_gets_french(self, db, ids):
        book(db, ids, customer="fr")
        (message,) = messages(db)
        assert "3 mars 2026, 10:00" in message.subject
        assert "Quand" in message.body_text and "20,00\u00a0€" in message.body_html
        assert "Référence de réservation" in calendar_of(message).to_ical().decode()

    def test_unknown_language_falls_back_to_english(self, db, ids):
        with db.session() as s:
            s.get(User, ids["en"]).locale = "de"
        book(db, ids, customer="en")
        (message,) = messages(db)
        assert message.locale == "en" and "When" in message.body_text

    def test_html_escapes_customer_data(self, db, ids):
        with db.session() as s:
            s.get(User, ids["en"]).name = "<script>x</script>"
        book(db, ids)
        (message,) = messages(db)
        assert "<script>" not in message.body_html
        assert "&lt;script&gt;" in message.body_html
        assert "<script>x</script>" in message.body_text

    def test_links_use_the_public_url(self, db, ids):
        booking_id = book(db, ids)
        notify(db, booking_id, "reminder", **{"booking.public_url": "https://book.example.com/"})
        (message,) = messages(db, "reminder")
        link = f"https://book.example.com/t/club/bookings/{booking_id}/"
        assert link in message.body_text and f'href="{link}"' in message.body_html

    def test_default_links_point_at_the_local_site(self, db, ids):
        booking_id = book(db, ids)
        (message,) = messages(db)
        assert f"http://127.0.0.1:6543/t/club/bookings/{booking_id}/" in message.body_text

    def test_refund_states_the_amount(self, db, ids):
        booking_id = book(db, ids)
        notify(db, booking_id, "payment.refunded")
        (message,) = messages(db, "payment.refunded")
        assert "€15.00" in message.subject and "€15.00" in message.body_html


class TestCalendarAttachment:
    def test_confirmation_is_a_request_with_the_booking_uid(self, db, ids):
        booking_id = book(db, ids)
        (message,) = messages(db)
        calendar = calendar_of(message)
        event = event_of(calendar)
        assert str(calendar["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == f"booking-club-{booking_id}@booking"
        assert int(event["SEQUENCE"]) == 0
        assert event.decoded("DTSTART") == paris(TOMORROW, 10)

    def test_uid_is_the_one_of_the_customers_calendar_file(self, db, ids):
        booking_id = book(db, ids)
        (message,) = messages(db)
        with db.session() as s:
            booking = s.get(Booking, booking_id)
            expected = ics.booking_uid(booking, s.get(Tenant, ids["tenant"]))
        assert str(event_of(calendar_of(message))["UID"]) == expected

    def test_cancellation_is_a_cancel_of_the_same_uid(self, db, ids):
        booking_id = book(db, ids)
        with_booking(db, booking_id, lambda svc, t, bk: svc.cancel(t, bk, by_staff=True))
        confirmed, cancelled = messages(db)
        calendar = calendar_of(cancelled)
        assert str(calendar["METHOD"]) == "CANCEL"
        assert str(event_of(calendar)["STATUS"]) == "CANCELLED"
        assert event_of(calendar)["UID"] == event_of(calendar_of(confirmed))["UID"]

    def test_reschedule_updates_the_same_uid_with_higher_sequence(self, db, ids):
        booking_id = book(db, ids)
        with_booking(db, booking_id, lambda svc, t, bk: svc.reschedule(
            t, bk, bk.resource, paris(TOMORROW, 15), by_staff=True))
        confirmed, moved = messages(db)
        calendar = calendar_of(moved)
        event = event_of(calendar)
        assert str(calendar["METHOD"]) == "REQUEST"
        assert event["UID"] == event_of(calendar_of(confirmed))["UID"]
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == paris(TOMORROW, 15)

    def test_attendee_is_the_customer(self, db, ids):
        book(db, ids)
        (message,) = messages(db)
        assert str(event_of(calendar_of(message))["ATTENDEE"]) == f"mailto:{message.recipient}"

    def test_organizer_is_the_sender(self, db, ids):
        booking_id = book(db, ids)
        with db.session() as s:
            notifier = Notifier(s, NOW, {"booking.mail.sender": "Club <desk@club.example>"})
            notifier.booking_cancelled(s.get(Booking, booking_id))
        calendar = calendar_of(messages(db, "booking.cancelled")[0])
        assert str(event_of(calendar)["ORGANIZER"]) == "mailto:desk@club.example"


class TestDedupe:
    def test_same_cause_twice_queues_one_message(self, db, ids):
        booking_id = book(db, ids)
        assert notify(db, booking_id, "booking.confirmed") is None
        assert len(messages(db)) == 1

    def test_reminders_of_two_offsets_are_two_messages(self, db, ids):
        booking_id = book(db, ids)
        with db.session() as s:
            notifier, booking = Notifier(s, NOW), s.get(Booking, booking_id)
            assert notifier.reminder(booking, 1440) is not None
            assert notifier.reminder(booking, 120) is not None
            assert notifier.reminder(booking, 1440) is None

    def test_two_refunds_with_references_are_two_messages(self, db, ids):
        booking_id = book(db, ids)
        with db.session() as s:
            notifier, booking = Notifier(s, NOW), s.get(Booking, booking_id)
            assert notifier.payment_refunded(booking, 500, reference="re_1") is not None
            assert notifier.payment_refunded(booking, 500, reference="re_2") is not None
            assert notifier.payment_refunded(booking, 500, reference="re_1") is None


class TestAccountEmails:
    LINK = "http://127.0.0.1:6543/password-reset/SECRET-TOKEN-123"

    def test_password_reset_carries_the_link(self, db, ids):
        with db.session() as s:
            Notifier(s, NOW).password_reset(s.get(User, ids["fr"]), self.LINK)
        (message,) = messages(db)
        assert message.kind == "password.reset" and message.tenant_id is None
        assert self.LINK in message.body_text and f'href="{self.LINK}"' in message.body_html
        assert message.locale == "fr"

    def test_password_reset_key_never_holds_the_secret(self, db, ids):
        with db.session() as s:
            Notifier(s, NOW).password_reset(s.get(User, ids["en"]), self.LINK)
        (message,) = messages(db)
        assert "SECRET-TOKEN-123" not in message.dedupe_key

    def test_password_reset_dedupes_per_link(self, db, ids):
        with db.session() as s:
            notifier, user = Notifier(s, NOW), s.get(User, ids["en"])
            assert notifier.password_reset(user, self.LINK) is not None
            assert notifier.password_reset(user, self.LINK) is None
            assert notifier.password_reset(user, self.LINK + "-other") is not None

    def test_staff_invitation_names_inviter_and_business(self, db, ids):
        with db.session() as s:
            Notifier(s, NOW).staff_invitation(
                s.get(User, ids["en"]), s.get(Tenant, ids["tenant"]),
                "http://127.0.0.1:6543/invitations/TOKEN", s.get(User, ids["fr"]), 1, True)
        (message,) = messages(db)
        assert message.kind == "staff.invitation" and message.tenant_id == ids["tenant"]
        assert "Zoé" in message.subject and "Club Rive Gauche" in message.subject
        assert "http://127.0.0.1:6543/invitations/TOKEN" in message.body_text
        assert "TOKEN" not in message.dedupe_key

    def test_staff_invitation_dedupes_per_token(self, db, ids):
        with db.session() as s:
            args = (s.get(User, ids["en"]), s.get(Tenant, ids["tenant"]))
            notifier, inviter = Notifier(s, NOW), s.get(User, ids["fr"])
            assert notifier.staff_invitation(*args, "http://x/invitations/A", inviter, 1, True)
            assert notifier.staff_invitation(*args, "http://x/invitations/A", inviter, 1,
                                             True) is None
            assert notifier.staff_invitation(*args, "http://x/invitations/B", inviter, 1, True)
            # A new invitation (after a decline) to My account is sent again.
            assert notifier.staff_invitation(*args, "http://x/account/", inviter, 1, False)
            assert notifier.staff_invitation(*args, "http://x/account/", inviter, 2, False)


class TestLanguageOfEmails:
    """The site records the language a customer's emails are written in."""

    def user_locale(self, world, email):
        with world.db.session() as s:
            return s.scalar(select(User.locale).where(User.email == email))

    def test_registration_records_the_site_language(self, testapp, world):
        page = testapp.get("/register", headers={"Accept-Language": "fr"})
        form = form_by_action(page, "/register")
        form["name"], form["email"] = "Zoé", "zoe@example.test"
        form["password"] = "compilers-are-great"
        form.submit(headers={"Accept-Language": "fr"}, status=200)
        assert self.user_locale(world, "zoe@example.test") == "fr"

    def test_switching_language_signed_in_changes_the_email_language(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        form = form_by_action(testapp.get(f"/t/{world.slug}/"), "/language")
        form["language"] = "fr"
        form.submit(status=303)
        assert self.user_locale(world, world.emails["customer"]) == "fr"

    def test_switching_language_signed_out_changes_no_account(self, testapp, world):
        form = form_by_action(testapp.get(f"/t/{world.slug}/"), "/language")
        form["language"] = "fr"
        form.submit(status=303)
        with world.db.session() as s:
            assert set(s.scalars(select(User.locale))) == {"en"}
