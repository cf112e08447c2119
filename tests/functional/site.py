"""Helpers for driving the HTML site through WebTest."""

from datetime import datetime

from .. import builders as b


def sign_in(testapp, email, password=b.PASSWORD):
    form = testapp.get("/login").forms["login-form"]
    form["email"], form["password"] = email, password
    return form.submit(status=303)


def form_by_action(page, ending):
    for form in page.forms.values():
        if form.action.endswith(ending):
            return form
    raise AssertionError(f"no form posting to …{ending} on {page.request.url}")


def resource_url(world, resource="court"):
    return f"/t/{world.slug}/venues/{world.venue_id}/resources/{getattr(world, resource + '_id')}/"


def slot_links(page):
    return [a["href"] for a in page.html.select("a.slot")]


def start_of(link):
    from urllib.parse import parse_qs, urlparse

    return datetime.fromisoformat(parse_qs(urlparse(link).query)["start"][0])
