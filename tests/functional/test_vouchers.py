"""Gift vouchers through every surface, on both databases: the staff pages
(issue with the code shown once, list, ledger, void), the API, and the
public page — bought online through the fake provider's checkout, issued
only by the signed webhook (once, however often it comes), the code emailed
in the buyer's language and blanked from the outbox once sent."""

import re
from datetime import datetime

from sqlalchemy import select

from booking.models import Booking, OutboxMessage, Resource, Tenant, User, Voucher, VoucherOrder
from booking.services.booking import BookingRequest, BookingService
from booking.services.pricing import voucher_digest

from ..conftest import NOW
from ..db.test_outbox_redaction import deliver as deliver_mail
from ..smtp import smtp, smtp_server  # noqa: F401 (fixture)
from .api import IN_A_WEEK, at
from ..conftest import auth as bearer
from .payments import deliver, fake_stripe, payapp, rows, session_id, stripe, stripe_apps  # noqa: F401
from .site import form_by_action, sign_in

CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}(?:-[A-HJ-NP-Z2-9]{4}){3}\b")


def manage(world):
    return f"/t/{world.slug}/manage/vouchers/"


def issue_on_the_page(testapp, world, amount="50.00", **fields):
    page = testapp.get(manage(world))
    form = form_by_action(page, "/vouchers/issue")
    form["amount"] = amount
    for name, value in fields.items():
        form[name] = value
    return form.submit(status="*")


class TestStaffPages:
    def test_issue_shows_the_code_once(self, testapp, world):
        sign_in(testapp, world.emails["manager"])
        page = issue_on_the_page(testapp, world, "50.00", label="For Ann",
                                 expires_on="2026-12-31")
        assert page.status_int == 201
        assert page.headers["Cache-Control"] == "no-store"
        code = page.html.select_one("#voucher-code").get_text()
        assert CODE.fullmatch(code)
        with world.db.session() as s:
            voucher = s.scalar(select(Voucher))
            assert (voucher.digest, voucher.hint, voucher.balance, voucher.label) == (
                voucher_digest(code), code[-4:], 5000, "For Ann")
            assert voucher.expires_at.isoformat() == "2026-12-31T23:00:00+00:00"
        listing = testapp.get(manage(world))
        assert code not in listing.text and f"…{code[-4:]}" in listing.text
        assert listing.html.select_one("#voucher-code") is None

    def test_issue_refuses_a_bad_amount_and_writes_nothing(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        page = issue_on_the_page(testapp, world, "-3")
        assert page.status_int == 400 and page.html.select_one("#amount-error")
        assert rows(world, Voucher) == []

    def test_issue_refuses_a_past_expiry(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        page = issue_on_the_page(testapp, world, "10", expires_on="2026-03-01")
        assert page.status_int == 400 and page.html.select_one("#expires_on-error")
        assert rows(world, Voucher) == []

    def test_void_and_ledger(self, testapp, world):
        sign_in(testapp, world.emails["owner"])
        issue_on_the_page(testapp, world, "20")
        [voucher] = rows(world, Voucher)
        ledger = testapp.get(f"{manage(world)}{voucher.id}/")
        assert [td.get_text() for td in ledger.html.select("td.kind")] == ["issued"]
        form_by_action(ledger, f"/{voucher.id}/void").submit(status=303).follow()
        ledger = testapp.get(f"{manage(world)}{voucher.id}/")
        assert [td.get_text() for td in ledger.html.select("td.kind")] == ["issued", "voided"]
        assert ledger.html.select_one("#status").get_text() == "voided"
        assert rows(world, Voucher)[0].balance == 0

    def test_staff_member_cannot_see_vouchers(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        testapp.get(manage(world), status=404)


class TestApi:
    def url(self, world, *parts):
        return "/".join([f"/api/v1/t/{world.slug}/vouchers", *map(str, parts)])

    def test_issue_list_show_void(self, testapp, world):
        headers = bearer(world.tokens["owner"])
        created = testapp.post_json(self.url(world), {"amount": 3000, "label": "Raffle"},
                                    headers=headers, status=201)
        body = created.json
        assert created.headers["Cache-Control"] == "no-store"
        assert CODE.fullmatch(body["code"]) and body["hint"] == body["code"][-4:]
        assert (body["balance"], body["initial"], body["status"]) == (3000, 3000, "active")
        listed = testapp.get(self.url(world), headers=headers).json["vouchers"]
        assert [v["id"] for v in listed] == [body["id"]] and "code" not in listed[0]
        shown = testapp.get(self.url(world, body["id"]), headers=headers).json
        assert [(line["kind"], line["amount"]) for line in shown["ledger"]] == [("issued", 3000)]
        voided = testapp.post(self.url(world, body["id"], "void"), headers=headers).json
        assert (voided["status"], voided["balance"]) == ("voided", 0)
        testapp.post(self.url(world, body["id"], "void"), headers=headers, status=409)

    def test_bad_amount_names_the_field(self, testapp, world):
        answer = testapp.post_json(self.url(world), {"amount": 0},
                                   headers=bearer(world.tokens["manager"]), status=400)
        assert answer.json["error"]["field"] == "amount"

    def test_customers_and_staff_are_kept_out(self, testapp, world):
        testapp.get(self.url(world), headers=bearer(world.tokens["customer"]), status=403)
        testapp.post_json(self.url(world), {"amount": 100},
                          headers=bearer(world.tokens["staff"]), status=403)
        created = testapp.post_json(self.url(world), {"amount": 100},
                                    headers=bearer(world.tokens["owner"]), status=201).json
        testapp.get(self.url(world, created["id"]), headers=bearer(world.tokens["customer"]),
                    status=404)
        testapp.get(f"/api/v1/t/{world.other_slug}/vouchers/{created['id']}",
                    headers=bearer(world.tokens["other_tenant_owner"]), status=404)


class TestPublicPage:
    def test_sold_at_the_venue_when_payment_is_offline(self, testapp, world):
        sign_in(testapp, world.emails["customer"])
        page = testapp.get(f"/t/{world.slug}/vouchers/")
        assert page.html.select_one("#sold-at-venue")
        assert not any(f.action.endswith("/buy") for f in page.forms.values())

    def test_balance_check(self, testapp, world):
        created = testapp.post_json(f"/api/v1/t/{world.slug}/vouchers", {"amount": 4200},
                                    headers=bearer(world.tokens["owner"]), status=201).json
        page = testapp.get(f"/t/{world.slug}/vouchers/")
        form = form_by_action(page, "/balance")
        form["code"] = created["code"].lower()
        answer = form.submit()
        assert "42.00" in answer.html.select_one("#voucher-balance").get_text()
        form["code"] = "AAAA-BBBB-CCCC-DDDD"
        assert form.submit(status=404).html.select_one("#voucher-unknown")


def buy(app, world, amount="30.00", label="For Zoé"):
    """A signed-in customer buys a voucher: the 303 to the checkout."""
    sign_in(app, world.emails["customer"])
    page = app.get(f"/t/{world.slug}/vouchers/")
    form = form_by_action(page, "/buy")
    form["amount"], form["label"] = amount, label
    return form.submit(status=303)


class TestBoughtOnline:
    def test_only_the_webhook_issues_the_voucher_once(self, payapp, stripe, world):
        checkout = buy(payapp, world)
        session = stripe.sessions[session_id(checkout.location)]
        assert session["amount_total"] == 3000
        # Coming back to the success page proves nothing.
        back = payapp.get(session["success_url"])
        assert back.html.select_one("#voucher-paid") and rows(world, Voucher) == []
        event = stripe.pay(session["id"], deliver=False)
        assert deliver(payapp, stripe, event).json["result"] == "voucher_issued"
        assert deliver(payapp, stripe, event).json["result"] == "duplicate"
        again = stripe.event("checkout.session.completed", session)  # another event id
        assert deliver(payapp, stripe, again).json["result"] == "ignored"
        [voucher] = rows(world, Voucher)
        [order] = rows(world, VoucherOrder)
        assert (voucher.initial, voucher.balance, voucher.label) == (3000, 3000, "For Zoé")
        assert voucher.bought_by == world.user_ids["customer"] and voucher.issued_by is None
        assert (order.status, order.voucher_id) == ("paid", voucher.id)
        [mail] = rows(world, OutboxMessage)
        assert mail.kind == "voucher.purchased" and mail.carries_secret
        assert mail.recipient == world.emails["customer"]
        code = CODE.search(mail.body_text).group(0)
        assert code in mail.body_html and voucher_digest(code) == voucher.digest

    def test_an_expired_checkout_issues_nothing(self, payapp, stripe, world):
        checkout = buy(payapp, world)
        event = stripe.expire(session_id(checkout.location), deliver=False)
        assert deliver(payapp, stripe, event).json["result"] == "order_failed"
        assert rows(world, Voucher) == [] and rows(world, OutboxMessage) == []
        assert rows(world, VoucherOrder)[0].status == "failed"

    def test_a_bad_signature_issues_nothing(self, payapp, stripe, world):
        checkout = buy(payapp, world)
        event = stripe.pay(session_id(checkout.location), deliver=False)
        body, headers = stripe.signed(event, secret="whsec_wrong")
        payapp.post("/api/v1/payments/stripe/webhook", body, headers=headers, status=400)
        assert rows(world, Voucher) == []

    def test_amount_outside_the_range_is_refused(self, payapp, stripe, world):
        sign_in(payapp, world.emails["customer"])
        form = form_by_action(payapp.get(f"/t/{world.slug}/vouchers/"), "/buy")
        form["amount"] = "5000"
        page = form.submit(status=400)
        assert page.html.select_one("#amount-error") and stripe.sessions == {}
        assert rows(world, VoucherOrder) == []

    def test_email_in_the_buyers_language(self, payapp, stripe, world):
        with world.db.session() as s:
            s.get(User, world.user_ids["customer"]).locale = "fr"
        checkout = buy(payapp, world)
        deliver(payapp, stripe, stripe.pay(session_id(checkout.location), deliver=False))
        [mail] = rows(world, OutboxMessage)
        assert mail.locale == "fr" and "Code du bon" in mail.body_text
        assert mail.subject.startswith("Votre bon cadeau")

    def test_code_reaches_the_mailbox_and_leaves_the_outbox(self, payapp, stripe, world,
                                                           clock, smtp):
        checkout = buy(payapp, world)
        deliver(payapp, stripe, stripe.pay(session_id(checkout.location), deliver=False))
        code = CODE.search(rows(world, OutboxMessage)[0].body_text).group(0)
        assert deliver_mail(world.db, clock, smtp).sent == 1
        [mail] = smtp.messages
        assert code in mail.get_body(preferencelist=("plain",)).get_content()
        [row] = rows(world, OutboxMessage)
        assert row.redacted_at == NOW and row.body_text == row.body_html == ""
        assert code not in row.subject


def test_voucher_spent_then_given_back_is_in_the_ledger_api(testapp, world):
    """A booking paid by a voucher and cancelled: the API's ledger shows
    the spend and the refund with the booking's reference."""
    created = testapp.post_json(f"/api/v1/t/{world.slug}/vouchers", {"amount": 5000},
                                headers=bearer(world.tokens["owner"]), status=201).json
    with world.db.session() as s:
        booking, _ = BookingService(s, NOW).book(BookingRequest(
            s.get(Tenant, world.tenant_id), s.get(Resource, world.court_id),
            s.get(User, world.user_ids["customer"]),
            datetime.fromisoformat(at(IN_A_WEEK, 10)), voucher=created["code"]))
        booking_id, reference = booking.id, booking.reference
    with world.db.session() as s:  # cancelled later, as by another request
        BookingService(s, NOW).cancel(s.get(Tenant, world.tenant_id), s.get(Booking, booking_id),
                                      actor_id=world.user_ids["customer"])
    ledger = testapp.get(f"/api/v1/t/{world.slug}/vouchers/{created['id']}",
                         headers=bearer(world.tokens["owner"])).json
    assert [(line["kind"], line["amount"], line["booking_reference"])
            for line in ledger["ledger"]] == [("issued", 5000, None),
                                              ("spent", -2000, reference),
                                              ("refunded", 2000, reference)]
    assert ledger["balance"] == 5000
