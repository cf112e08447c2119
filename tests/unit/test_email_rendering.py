"""The email templates and the pure helpers of notifications and reminders,
without a database."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from booking.i18n import LANGUAGES
from booking.services.notifications import TEMPLATES, environment, link_digest, parameter
from booking.services.reminders import due_offset

KINDS = ["booking_confirmed", "booking_cancelled", "booking_rescheduled", "hold_expired",
         "payment_refunded", "reminder", "password_reset", "staff_invitation",
         "account_confirm", "account_exists"]
ACCOUNT_KINDS = ("password_reset", "staff_invitation", "account_confirm", "account_exists")
PARIS = ZoneInfo("Europe/Paris")

BOOKING_VALUES = {
    "tenant_name": "Club <Rive> Gauche", "reference": "ABCD2345", "resource_name": "Court",
    "venue_name": "Centre", "address": "1 rue de Rivoli", "when": "Tuesday, 10:00 AM",
    "zone": "Europe/Paris", "seats": 2, "price": "€20.00", "reason": "", "amount": "€5.00",
    "booking_url": "http://127.0.0.1:6543/t/club/bookings/7/",
    "book_again_url": "http://127.0.0.1:6543/t/club/venues/1/resources/2/",
    "confirm_link": "", "breakdown": None,
}
ACCOUNT_VALUES = {"email": "ann@example.test", "link": "http://127.0.0.1:6543/reset/SECRET",
                  "tenant_name": "Club", "inviter": "Zoé", "one_time": True,
                  "login_link": "http://127.0.0.1:6543/login",
                  "forgot_link": "http://127.0.0.1:6543/account/forgot"}


def render(kind, part, locale="en", translate_constants=True, **extra):
    values = {"subject": "Subject line", "lang": locale, "name": "Ann",
              "site": "http://127.0.0.1:6543",
              **(ACCOUNT_VALUES if kind in ACCOUNT_KINDS else BOOKING_VALUES), **extra}
    env = environment(locale, translate_constants=translate_constants)
    return env.get_template(f"{kind}.{part}.jinja2").render(values)


@pytest.mark.parametrize("locale", sorted(LANGUAGES))
@pytest.mark.parametrize("part", ["txt", "html"])
@pytest.mark.parametrize("kind", KINDS)
def test_literals_translated_at_compile_time_render_as_at_render_time(kind, part, locale):
    for extra in ({}, {"name": "", "seats": 1, "price": "", "address": ""}):
        compiled_in = render(kind, part, locale, **extra)
        assert compiled_in == render(kind, part, locale, translate_constants=False, **extra)
    if locale != "en":  # the translation is really there
        assert compiled_in != render(kind, part, "en", **extra)


@pytest.mark.parametrize("name", ["check.html.jinja2", "check.txt.jinja2"])
def test_a_translated_literal_can_be_used_like_a_call(name):
    env = environment("fr")
    code = env.compile('{{ _("Reference").upper() }}|{{ _("Reference")[0] }}', name)
    template = env.template_class.from_code(env, code, env.make_globals(None))
    assert template.render() == "RÉFÉRENCE|R"


def test_a_translated_literal_is_a_constant_of_the_compiled_template():
    source = environment("fr").loader.get_source(environment("fr"), "layout.html.jinja2")[0]
    code = environment("fr").compile(source, "layout.html.jinja2", raw=True)
    assert "Bonjour" in code and "'Hello,'" not in code


#: ``_("a literal")`` left as a call in compiled code: ``_`` applied to one string.
CONSTANT_CALL = re.compile(
    r"""else l_\d+__\), ('[^']*'|"[^"]*")(?:, _(block|loop)_vars=_\2_vars)?\)""")


@pytest.mark.parametrize("name", sorted(path.name for path in TEMPLATES.glob("*.jinja2")))
def test_every_translated_literal_of_a_template_is_compiled_in(name):
    env = environment("fr")
    source = env.loader.get_source(env, name)[0]
    code = env.compile(source, name, raw=True)
    assert CONSTANT_CALL.findall(code) == []


def test_the_constant_call_pattern_finds_a_literal_left_as_a_call():
    env = environment("fr", translate_constants=False)
    source = ('{{ _("Reference") }}{% block b %}{{ _("What") }}{% endblock %}'
              '{% for x in [1] %}{{ _("When") }}{% endfor %}')
    code = env.compile(source, "check.html.jinja2", raw=True)
    assert sorted(literal for literal, _ in CONSTANT_CALL.findall(code)) == [
        "'Reference'", "'What'", "'When'"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_text_and_an_html_template(kind):
    assert (TEMPLATES / f"{kind}.txt.jinja2").is_file()
    assert (TEMPLATES / f"{kind}.html.jinja2").is_file()


@pytest.mark.parametrize("kind", KINDS)
def test_html_part_uses_the_shared_layout(kind):
    html = render(kind, "html")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    assert "<title>Subject line</title>" in html and "Hello Ann," in html


@pytest.mark.parametrize("kind", KINDS)
def test_text_part_is_plain_text(kind):
    text = render(kind, "txt")
    assert text.startswith("Hello Ann,\n\n") and "<" not in text.replace("<Rive>", "")


@pytest.mark.parametrize("kind", KINDS)
def test_html_is_escaped(kind):
    html = render(kind, "html", name="<b>Ann</b>")
    assert "<b>Ann</b>" not in html and "&lt;b&gt;Ann&lt;/b&gt;" in html


@pytest.mark.parametrize("kind", KINDS)
def test_text_is_not_escaped(kind):
    assert "Hello <b>Ann</b>," in render(kind, "txt", name="<b>Ann</b>")


@pytest.mark.parametrize("kind", ["booking_confirmed", "reminder"])
def test_booking_facts_are_in_both_parts(kind):
    for part in ("txt", "html"):
        body = render(kind, part)
        for fact in ("ABCD2345", "Court", "Tuesday, 10:00 AM", "Centre, 1 rue de Rivoli",
                     "€20.00", "2 places", "Europe/Paris", BOOKING_VALUES["booking_url"]):
            assert fact in body, (part, fact)


def test_free_booking_says_free():
    assert "Price: Free" in render("booking_confirmed", "txt", price="")


def test_greeting_without_a_name():
    assert render("reminder", "txt", name="").startswith("Hello,\n")


def test_cancellation_reason_is_shown_when_given():
    assert "Reason: Court flooded." in render("booking_cancelled", "txt", reason="Court flooded")
    assert "Reason" not in render("booking_cancelled", "txt", reason="")


def test_hold_expired_links_to_booking_again():
    assert BOOKING_VALUES["book_again_url"] in render("hold_expired", "html")


@pytest.mark.parametrize("kind", ["password_reset", "staff_invitation", "account_confirm"])
def test_account_emails_carry_the_link(kind):
    assert ACCOUNT_VALUES["link"] in render(kind, "txt")
    assert f'href="{ACCOUNT_VALUES["link"]}"' in render(kind, "html")


def test_french_environment_translates():
    text = render("booking_confirmed", "txt", locale="fr")
    assert "Quand: " in text and "Référence: " in text and "Prix: " in text


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        environment("en").get_template("reminder.txt.jinja2").render(
            {"subject": "s", "lang": "en", "name": "", "site": "x"})


def test_link_digest_hides_the_secret():
    digest = link_digest("http://x/reset/SECRET")
    assert "SECRET" not in digest and len(digest) == 16
    assert digest != link_digest("http://x/reset/OTHER")


def test_calendar_parameter_is_quoted_without_quotes_inside():
    assert parameter('Club "Rive"\r\nGauche') == '"Club RiveGauche"'


class TestDueOffset:
    OFFSETS = [1440, 120]
    MADE = datetime(2026, 3, 1, tzinfo=UTC)

    def test_nothing_before_the_first_moment(self):
        start = datetime(2026, 3, 30, 9, tzinfo=PARIS).astimezone(UTC)
        assert due_offset(start, self.MADE, self.OFFSETS, start - timedelta(hours=25)) is None

    def test_24_real_hours_before_across_dst(self):
        start = datetime(2026, 3, 29, 12, tzinfo=PARIS).astimezone(UTC)  # 10:00 UTC
        moment = datetime(2026, 3, 28, 10, tzinfo=UTC)  # Saturday 11:00 in Paris
        assert due_offset(start, self.MADE, self.OFFSETS, moment - timedelta(seconds=1)) is None
        assert due_offset(start, self.MADE, self.OFFSETS, moment) == 1440

    def test_latest_passed_moment_wins(self):
        start = datetime(2026, 3, 30, 7, tzinfo=UTC)
        assert due_offset(start, self.MADE, self.OFFSETS, start - timedelta(hours=1)) == 120

    def test_none_when_the_moment_passed_before_booking(self):
        start = datetime(2026, 3, 30, 7, tzinfo=UTC)
        made = start - timedelta(hours=5)
        assert due_offset(start, made, self.OFFSETS, start - timedelta(hours=4)) is None

    def test_moment_equal_to_creation_counts(self):
        start = datetime(2026, 3, 30, 7, tzinfo=UTC)
        made = start - timedelta(hours=2)
        assert due_offset(start, made, self.OFFSETS, made) == 120


def test_booking_confirmation_carries_the_link_that_confirms_a_new_account():
    link = "http://127.0.0.1:6543/confirm/SECRET"
    assert link in render("booking_confirmed", "txt", confirm_link=link)
    assert f'href="{link}"' in render("booking_confirmed", "html", confirm_link=link)


def test_booking_without_an_account_has_no_link_to_a_booking_page():
    text = render("booking_confirmed", "txt", booking_url="")
    assert "View your booking" not in text
    assert "not linked to an account" in text


BREAKDOWN = {"base": "€20.00", "total": "€11.00", "lines": [
    {"kind": "offer", "label": "Off-peak", "amount": "€4.00"},
    {"kind": "voucher", "label": "1234", "amount": "€5.00"}]}


@pytest.mark.parametrize("kind", ["booking_confirmed", "booking_cancelled", "reminder"])
def test_price_breakdown_in_the_text_part(kind):
    text = render(kind, "txt", breakdown=BREAKDOWN)
    assert ("Price: €20.00\nOffer: Off-peak: −€4.00\nGift voucher ending 1234: −€5.00\n"
            "Total: €11.00\n") in text


def test_price_breakdown_in_the_html_part():
    html = render("booking_confirmed", "html", breakdown=BREAKDOWN)
    for text in ("Offer: Off-peak", "−€4.00", "Gift voucher ending 1234", "−€5.00",
                 "<strong>€11.00</strong>"):
        assert text in html, text


def test_price_breakdown_in_french():
    text = render("booking_confirmed", "txt", "fr", breakdown=BREAKDOWN)
    assert "Offre : Off-peak: −€4.00" in text and "Bon cadeau se terminant par 1234" in text


def test_breakdown_paid_in_full_by_a_voucher_says_free():
    breakdown = {**BREAKDOWN, "total": ""}
    assert "Total: Free" in render("booking_confirmed", "txt", breakdown=breakdown)
