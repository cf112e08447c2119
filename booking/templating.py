"""Jinja2 templates (autoescaped) and static files."""

from zoneinfo import ZoneInfo


def localtime(instant, zone_name, pattern="%a %d %b %Y, %H:%M"):
    """Format an aware instant in the wall time of ``zone_name``."""
    return instant.astimezone(ZoneInfo(zone_name)).strftime(pattern)


def money(minor_units, currency):
    return f"{minor_units / 100:,.2f} {currency}"


def here(request):
    """The current path and query, for "come back here" links; "/" when
    the address is not valid UTF-8 (the page is then an error page)."""
    try:
        return request.path_qs
    except UnicodeDecodeError:
        return "/"


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.newstyle", "true")  # _("… %(name)s", name=…), escaped
    settings.setdefault(
        "jinja2.filters",
        {"localtime": "booking.templating:localtime", "money": "booking.templating:money"},
    )
    config.include("pyramid_jinja2")
    config.add_jinja2_search_path("booking:templates", name=".jinja2")
    config.add_request_method(here, "here", reify=True)
    config.add_static_view(name="static", path="booking:static", cache_max_age=3600)
