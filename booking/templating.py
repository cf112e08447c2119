"""Jinja2 templates (autoescaped) and static files."""

from jinja2 import pass_context

from .i18n import STATUS_LABELS


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
        {"t": "booking.templating:translate",
         "status_label": "booking.templating:status_label"},
    )
    config.include("pyramid_jinja2")
    config.add_jinja2_search_path("booking:templates", name=".jinja2")
    config.add_request_method(here, "here", reify=True)
    config.add_static_view(name="static", path="booking:static", cache_max_age=3600)
