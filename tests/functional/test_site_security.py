"""Headers, escaping and assets of the site."""

import re

from booking.models import Tenant

from .site import resource_url


def test_security_headers_on_pages(testapp, world):
    response = testapp.get(f"/t/{world.slug}/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_security_headers_on_errors_and_api(testapp, world):
    assert "Content-Security-Policy" in testapp.get("/t/nobody/", status=404).headers
    assert testapp.get(f"/api/v1/t/{world.slug}").headers["X-Content-Type-Options"] == "nosniff"


def test_names_are_escaped(testapp, world):
    with world.db.session() as s:
        s.get(Tenant, world.tenant_id).name = '<script>alert("x")</script>'
    page = testapp.get(f"/t/{world.slug}/")
    assert '<script>alert("x")</script>' not in page.text
    assert "&lt;script&gt;" in page.text


def test_no_inline_script_or_style(testapp, world):
    for url in ("/", f"/t/{world.slug}/", resource_url(world), "/login", "/register"):
        html = testapp.get(url).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), url
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url


def test_every_asset_is_served_by_the_app(testapp, world):
    page = testapp.get(resource_url(world))
    assets = [tag.get("src") or tag.get("href") for tag in page.html.select("script[src], link[href]")]
    assert assets
    for url in assets:
        assert url.startswith("http://booking.test/static/"), url
        testapp.get(url.replace("http://booking.test", ""), status=200)


def test_pages_declare_language_and_landmarks(testapp, world):
    page = testapp.get(resource_url(world))
    assert page.html.html["lang"] == "en"
    assert page.html.select_one("main#main") and page.html.select_one("header") and page.html.select_one("nav")
    assert page.html.select_one("a.skip-link")["href"] == "#main"


def test_every_input_has_a_label(testapp, world):
    for url in ("/login", "/register", resource_url(world)):
        page = testapp.get(url)
        for field in page.html.select("input:not([type=hidden]), select, textarea"):
            assert page.html.select_one(f"label[for={field['id']}]"), (url, field)
