"""Jinja2 templates (autoescaped) and static files."""

from zoneinfo import ZoneInfo

from jinja2 import pass_context

from .i18n import STATUS_LABELS
from .services.pricing import Quote
from .services.slots import valid_time_zone

#: The cookie in which the site's script keeps the visitor's own time zone.
ZONE_COOKIE = "booking_tz"


@pass_context
def translate(context, message):
    """``{{ message|t }}``: a message built in Python (a TranslationString
    with its values) in the request's language."""
    if message is None:
        return ""
    return context["request"].localizer.translate(message)


@pass_context
def status_label(context, status):
    """``{{ status|status_label }}``: a booking status in words."""
    return context["request"].localizer.translate(STATUS_LABELS.get(status, status))


def price_breakdown(booking):
    """``{% set quote = booking|price_breakdown %}``: the breakdown stored
    on a booking (its price alone for an old one), see ``macros/price.jinja2``."""
    return Quote.of_booking(booking)


def here(request):
    """The current path and query, for "come back here" links; "/" when
    the address is not valid UTF-8 (the page is then an error page)."""
    try:
        return request.path_qs
    except UnicodeDecodeError:
        return "/"


def viewer_zone(request):
    """The visitor's own time zone: ``?tz=``, else the cookie the site's
    script sets (from the browser's zone); ``None`` when unknown."""
    for value in (request.GET.get("tz"), request.cookies.get(ZONE_COOKIE)):
        if isinstance(value, str) and valid_time_zone(value):
            return ZoneInfo(value)
    return None


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("jinja2.autoescape", "true")
    settings.setdefault("jinja2.newstyle", "true")  # _("… %(name)s", name=…), escaped
    settings.setdefault(
        "jinja2.filters",
        {"t": "booking.templating:translate",
         "status_label": "booking.templating:status_label",
         "price_breakdown": "booking.templating:price_breakdown"},
    )
    config.include("pyramid_jinja2")
    config.add_jinja2_search_path("booking:templates", name=".jinja2")
    config.add_request_method(here, "here", reify=True)
    config.add_request_method(viewer_zone, "viewer_zone", reify=True)
    config.add_static_view(name="static", path="booking:static", cache_max_age=3600)
