"""Staff see the emails that did not go out: the tenant's waiting and
given-up messages (owners and managers), "retry now" for a given-up one
(audited), and each booking's emails on its page. Bodies never show."""

import itertools
from datetime import timedelta

import pytest
import webtest
from sqlalchemy import select

from booking.models import AuditLog, OutboxMessage, Tenant
from booking.services.outbox import enqueue

from ..conftest import NOW
from .api import book
from .site import form_by_action, sign_in

ERROR = "550 5.1.1 mailbox unavailable"
SECRET_BODY = "secret-body-never-shown"
_keys = itertools.count(1)


def messages_url(world):
    return f"/t/{world.slug}/manage/messages/"


def message(world, status="failed", tenant_id=None, booking_id=None, kind="booking.confirmed",
            recipient="someone@example.test", created=NOW):
    """Queue a message straight into the outbox, in ``status``; its id."""
    with world.db.session() as s:
        message_id = enqueue(
            s, kind=kind, dedupe_key=f"test:{next(_keys)}", recipient=recipient,
            subject="Subject " + SECRET_BODY, body_text=SECRET_BODY, body_html=SECRET_BODY,
            now=created, tenant_id=tenant_id or world.tenant_id, booking_id=booking_id)
        row = s.get(OutboxMessage, message_id)
        if status == "failed":
            row.attempts, row.last_error, row.failed_at = 8, ERROR, NOW
            row.next_attempt_at = NOW - timedelta(hours=1)
        elif status == "sent":
            row.attempts, row.sent_at = 1, NOW
        else:
            row.attempts, row.last_error = 2, "421 try again later"
            row.next_attempt_at = NOW + timedelta(minutes=4)
        return message_id


def row(page, message_id):
    """The row of ``message_id`` in a page (or in a part of one), or ``None``."""
    soup = page.html if isinstance(page, webtest.TestResponse) else page
    return soup.select_one(f"tr[data-message='{message_id}']")


def stored(world, message_id):
    with world.db.session() as s:
        found = s.get(OutboxMessage, message_id)
        return found.failed_at, found.next_attempt_at, found.attempts, found.last_error


class TestList:
    def test_owner_sees_a_failed_message_with_its_error(self, testapp, world):
        failed = message(world, "failed", recipient="lost@example.test")
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(messages_url(world))
        found = row(page, failed)
        assert found.select_one(".kind").text == "Booking confirmed"
        assert found.select_one(".recipient").text == "lost@example.test"
        assert found.select_one(".status").text == "Given up"
        assert found.select_one(".attempts").text == "8"
        assert found.select_one(".last-error").text == ERROR
        assert SECRET_BODY not in page.text

    def test_pending_shown_with_next_attempt_sent_and_other_tenants_not(self, testapp, world):
        pending = message(world, "pending")
        sent = message(world, "sent")
        with world.db.session() as s:
            rival = s.scalar(select(Tenant.id).where(Tenant.slug == world.other_slug))
        elsewhere = message(world, "failed", tenant_id=rival)
        sign_in(testapp, world.emails["manager"])
        page = testapp.get(messages_url(world))
        found = row(page, pending)
        assert found.select_one(".status").text == "Waiting"
        assert found.select_one(".next-attempt").text != "—"
        assert not found.select("form")
        assert row(page, sent) is None and row(page, elsewhere) is None

    def test_newest_first_and_paginated(self, testapp, world):
        ids = [message(world, created=NOW - timedelta(minutes=n)) for n in range(55)]
        sign_in(testapp, world.emails["owner"])
        first = testapp.get(messages_url(world))
        listed = [int(tr["data-message"]) for tr in first.html.select("tr[data-message]")]
        assert listed == ids[:50]
        second = testapp.get(first.html.select_one("a[rel=next]")["href"])
        assert [int(tr["data-message"]) for tr in second.html.select("tr[data-message]")] == \
            ids[50:]

    def test_nav_links_to_messages_for_owners(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(f"/t/{world.slug}/manage/")
        assert page.html.select_one(f"nav a[href$='/t/{world.slug}/manage/messages/']")

    @pytest.mark.parametrize("who", ["staff", "other_venue_staff", "customer",
                                     "other_tenant_owner"])
    def test_others_get_not_found(self, testapp, world, who):
        sign_in(testapp, world.emails[who])
        testapp.get(messages_url(world), status=404)

    def test_anonymous_is_asked_to_sign_in(self, testapp, world):
        response = testapp.get(messages_url(world), status=303)
        assert "/login" in response.location


class TestRetry:
    def test_retry_puts_a_failed_message_back_in_the_queue(self, testapp, world):
        failed = message(world, "failed")
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(messages_url(world))
        response = form_by_action(page, f"/messages/{failed}/retry").submit(status=303)
        assert "will be sent again shortly" in response.follow().text
        assert stored(world, failed) == (None, NOW, 8, ERROR)

    def test_retry_is_audited(self, testapp, world):
        failed = message(world, "failed")
        sign_in(testapp, world.emails["manager"])
        form_by_action(testapp.get(messages_url(world)), f"/messages/{failed}/retry").submit(
            status=303)
        with world.db.session() as s:
            entry = s.scalar(select(AuditLog).where(AuditLog.action == "outbox.retried"))
            assert (entry.tenant_id, entry.actor_id, entry.target_type, entry.target_id) == (
                world.tenant_id, world.user_ids["manager"], "outbox_message", failed)
            assert entry.details["attempts"] == 8 and entry.details["last_error"] == ERROR

    def test_retry_of_a_waiting_message_is_409(self, testapp, world):
        failed = message(world, "failed")
        sign_in(testapp, world.emails["owner"])
        page = testapp.get(messages_url(world))
        form = form_by_action(page, f"/messages/{failed}/retry")
        form.submit(status=303)
        page = form.submit(status=409)
        assert "This message is not given up" in page.text
        with world.db.session() as s:
            assert s.scalar(select(AuditLog.id).where(
                AuditLog.action == "outbox.retried").offset(1)) is None

    def test_staff_cannot_retry(self, testapp, world):
        failed = message(world, "failed")
        sign_in(testapp, world.emails["staff"])
        token = testapp.get(f"/t/{world.slug}/manage/").html.select_one(
            "input[name=csrf_token]")["value"]
        testapp.post(messages_url(world) + f"{failed}/retry", {"csrf_token": token},
                     status=404)
        assert stored(world, failed)[0] is not None

    def test_another_tenants_message_is_not_found(self, testapp, world):
        with world.db.session() as s:
            rival = s.scalar(select(Tenant.id).where(Tenant.slug == world.other_slug))
        elsewhere = message(world, "failed", tenant_id=rival)
        sign_in(testapp, world.emails["owner"])
        token = testapp.get(messages_url(world)).html.select_one(
            "input[name=csrf_token]")["value"]
        testapp.post(messages_url(world) + f"{elsewhere}/retry", {"csrf_token": token},
                     status=404)
        assert stored(world, elsewhere)[0] is not None


class TestBookingDetail:
    def test_booking_page_lists_its_messages(self, testapp, world):
        booking_id = book(testapp, world).json["id"]
        failed = message(world, "failed", booking_id=booking_id, kind="booking.cancelled")
        sent = message(world, "sent", booking_id=booking_id)
        other = message(world, "sent")
        sign_in(testapp, world.emails["staff"])
        page = testapp.get(f"/t/{world.slug}/manage/bookings/{booking_id}/")
        section = page.html.select_one("table.booking-messages")
        found = row(section, failed)
        assert found.select_one(".kind").text == "Booking cancelled"
        assert found.select_one(".status").text == "Given up"
        assert found.select_one(".attempts").text == "8"
        assert found.select_one(".last-error").text == ERROR
        assert row(section, sent).select_one(".sent").text != "—"
        assert row(section, other) is None
        assert SECRET_BODY not in page.text
