"""Languages: English and French, through Pyramid's translation machinery.

The catalogs are ``booking/locale/<lang>/LC_MESSAGES/booking.po``; they are
compiled with Babel in memory when the app starts (no compiled file is kept
in the source tree, and none is written anywhere: nothing is left behind in
the temporary directory however the process ends). The language is the visitor's
choice (a cookie set by the switcher), else the best match of the
browser's ``Accept-Language``, else English. Dates and prices are
formatted for that language with Babel.
"""

import functools
import io
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_skeleton, format_time, get_day_names
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency
from pyramid.i18n import Localizer, TranslationStringFactory, Translations
from pyramid.interfaces import ILocalizer

DOMAIN = "booking"
LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
LOCALE_COOKIE = "booking_locale"
LOCALE_DIR = Path(__file__).parent / "locale"

_ = TranslationStringFactory(DOMAIN)


def negotiate_locale(request):
    """The switcher's cookie, else ``Accept-Language``, else English."""
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    match = request.accept_language.lookup(list(LANGUAGES), default=DEFAULT_LANGUAGE)
    return match if match in LANGUAGES else DEFAULT_LANGUAGE


def compile_catalogs(source=LOCALE_DIR):
    """Every ``.po`` under ``source`` compiled in memory: ``{language:
    Translations}``, each holding its domains as Pyramid's own loader would
    from ``<language>/LC_MESSAGES/<domain>.mo`` files."""
    compiled = {}
    for po_path in sorted(source.glob("*/LC_MESSAGES/*.po")):
        language = po_path.parent.parent.name
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        mo = io.BytesIO()
        write_mo(mo, catalog)
        mo.seek(0)
        if language not in compiled:
            compiled[language] = Translations()
            compiled[language]._catalog = {}  # as pyramid.i18n.make_localizer starts
        compiled[language].add(Translations(mo, domain=po_path.stem))
    return compiled


@functools.cache
def compiled_catalogs():
    """The catalogs compiled once per process (before any fork)."""
    return compile_catalogs()


def language_or_default(locale_name):
    """``locale_name`` when we speak it, else English."""
    return locale_name if locale_name in LANGUAGES else DEFAULT_LANGUAGE


@functools.cache
def localizer_for(locale_name):
    """A Pyramid localizer for one of :data:`LANGUAGES` (English for any
    other name) that needs no request: ``localizer_for("fr").translate(ts)``.
    Requests use the same ones (see :func:`includeme`)."""
    language = language_or_default(locale_name)
    translations = compiled_catalogs().get(language)
    if translations is None:
        translations = Translations()
        translations._catalog = {}
    return Localizer(locale_name=language, translations=translations)


def as_zone(zone):
    return ZoneInfo(zone) if isinstance(zone, str) else zone


@functools.lru_cache(maxsize=64)
def _locale(locale_name):
    """Babel's locale, parsed once per name (a Formatter is made per request)."""
    return Locale.parse(locale_name)


class Formatter:
    """Dates, times and money in the request's language; zones may be given
    as ``ZoneInfo`` or by name."""

    def __init__(self, locale_name):
        self.locale = _locale(locale_name)
        #: Pages like the staff calendar show the same times many times over.
        self._times, self._periods, self._days, self._money = {}, {}, {}, {}

    def date(self, value, format="full"):
        return format_date(value, format=format, locale=self.locale)

    def day(self, value):
        """Short day heading: "Tue, Mar 3" / "mar. 3 mars"."""
        if value not in self._days:
            self._days[value] = format_skeleton("MMMEd", value, locale=self.locale)
        return self._days[value]

    def weekday(self, number):
        """The name of weekday ``number`` (Monday is 0)."""
        return get_day_names("wide", locale=self.locale)[number]

    def time(self, instant, zone):
        """The local time of ``instant``, with the zone's abbreviation (or
        offset) when that wall time happens twice that day (the clocks go
        back), so that "2:30 AM" says which of the two it is."""
        zone = as_zone(zone)
        key = (instant, zone.key)
        if key not in self._times:
            text = format_time(instant, format="short", tzinfo=zone, locale=self.locale)
            local = instant.astimezone(zone)
            if local.utcoffset() != local.replace(fold=1 - local.fold).utcoffset():
                text = f"{text} {local.tzname()}"
            self._times[key] = text
        return self._times[key]

    def period(self, start, end, zone):
        """"09:00–10:00": the local times of a period, with their dates when
        it crosses midnight (one call for the staff calendar's thousands of
        bookings)."""
        key = (start, end, zone)
        if key not in self._periods:
            local = as_zone(zone)
            if start.astimezone(local).date() == end.astimezone(local).date():
                text = f"{self.time(start, zone)}–{self.time(end, zone)}"
            else:
                text = (f"{self.datetime(start, zone, 'short')}–"
                        f"{self.datetime(end, zone, 'short')}")
            self._periods[key] = text
        return self._periods[key]

    def datetime(self, instant, zone, format="medium"):
        """The local date (``format``: short, medium, long, full) and time,
        without seconds, in ``zone``."""
        local = instant.astimezone(as_zone(zone))
        return (f"{format_date(local.date(), format=format, locale=self.locale)}, "
                f"{self.time(instant, zone)}")

    def money(self, minor_units, currency):
        key = (minor_units, currency)  # a page shows few amounts, many times
        if key not in self._money:
            self._money[key] = format_currency(minor_units / 100, currency, locale=self.locale)
        return self._money[key]


def _formatter(request):
    return Formatter(request.locale_name)


def _translate(request):
    """``request.translate(ts)``: a TranslationString in the request's language."""
    return request.localizer.translate


def includeme(config):
    config.set_locale_negotiator(negotiate_locale)
    # Each language's localizer, the emails' own: Pyramid looks a request's
    # up by its locale name before it would read translation directories.
    for language in LANGUAGES:
        config.registry.registerUtility(localizer_for(language), ILocalizer, name=language)
    config.add_request_method(_formatter, "format", reify=True)
    config.add_request_method(_translate, "translate", reify=True)


#: Booking statuses as people read them.
STATUS_LABELS = {
    "held": _("held"), "confirmed": _("confirmed"), "cancelled": _("cancelled"),
    "completed": _("completed"), "no_show": _("no-show"), "expired": _("expired"),
}
