"""English and French: every message translated, chosen by the browser or
the switcher, dates and prices formatted for the language."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from .api import TOMORROW, at, bearer
from .site import form_by_action, resource_url

ROOT = Path(__file__).resolve().parents[2]


def extracted_messages():
    method_map = [("booking/**.py", "python"), ("booking/templates/**.jinja2", "jinja2")]
    options = {"booking/templates/**.jinja2": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options, keywords={"_": None, "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_french_translation():
    with (ROOT / "booking/locale/fr/LC_MESSAGES/booking.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog if m.id and m.string and all(m.string) and not m.fuzzy
    }
    missing = sorted(extracted_messages() - translated)
    assert missing == [], f"untranslated: {missing}"


def test_french_from_accept_language(testapp, world):
    page = testapp.get(f"/t/{world.slug}/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert page.html.html["lang"] == "fr"
    text = page.html.select_one("main").get_text(" ", strip=True)
    assert "Mes réservations" in text and "Horaires d'ouverture" in text
    assert "20,00\u00a0€" in text


def test_french_dates_in_the_calendar(testapp, world):
    page = testapp.get(resource_url(world), {"from": TOMORROW.isoformat()},
                       headers={"Accept-Language": "fr"})
    assert page.html.select("section.day h3")[0].get_text() == "mar. 3 mars"
    assert page.html.select("a.slot")[0].get_text(strip=True).startswith("08:00")


def test_english_is_the_default(testapp, world):
    page = testapp.get(f"/t/{world.slug}/", headers={"Accept-Language": "de-DE"})
    assert page.html.html["lang"] == "en" and "My bookings" in page.text


def test_switcher_sets_the_language(testapp, world):
    page = testapp.get(f"/t/{world.slug}/")
    form = form_by_action(page, "/language")
    form["language"] = "fr"
    response = form.submit(status=303)
    assert response.location.endswith(f"/t/{world.slug}/")
    assert "Mes réservations" in response.follow().text


def test_api_errors_follow_accept_language(testapp, world):
    url = f"/api/v1/t/{world.slug}/venues/{world.venue_id}/resources/{world.court_id}/availability"
    error = testapp.get(url, {"from": "x"}, headers={"Accept-Language": "fr"}, status=400).json["error"]
    assert error["message"] == "doit être une date, AAAA-MM-JJ"


def test_interpolated_message_in_french(testapp, world):
    response = testapp.post_json(f"/api/v1/t/{world.slug}/bookings",
                                 {"resource_id": world.yoga_id, "start": at(TOMORROW, 10), "seats": 11},
                                 headers={"Accept-Language": "fr", **bearer(world, "customer")}, status=400)
    assert response.json["error"]["message"] == "doit être entre 1 et 10 (la capacité de la ressource)"
