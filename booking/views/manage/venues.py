"""The tenant's venues in the staff area: the list with each venue's
location, a new venue, the edit form. Configuration: owners and managers.

Saving never waits on the geocoder's verdict to keep the venue: the venue
is committed first, then (still in the request, after commit: VenueService
sees to it) its address is geocoded once; a failure leaves it "not located"
for the worker to retry.
Coordinates typed by staff are kept as they are and never geocoded.
"""

import math

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...adapters.maps import Geocoder
from ...i18n import _
from ...resources.manage import ManagedVenue, ManagedVenues
from ...security import Permission
from ...services.schedule import ScheduleService
from ...services.slots import valid_time_zone
from ...services.venues import VenueService
from ..forms import line
from . import ManageView

FIELDS = ("name", "address", "time_zone", "latitude", "longitude")
RANGES = {"latitude": (-90, 90, "48.8566"), "longitude": (-180, 180, "2.3522")}
venue_name = line(200, min_length=1)
#: Typed in a text area: its line breaks (and tabs) become single spaces
#: before this check, which refuses the other control characters.
venue_address = line(500)


def parse_coordinate(raw, field):
    minimum, maximum, example = RANGES[field]
    try:
        value = float(raw.replace(",", ".", 1))
    except ValueError:
        raise ValueError(_("must be a number in decimal degrees, e.g. ${example}",
                           mapping={"example": example})) from None
    if not math.isfinite(value) or not minimum <= value <= maximum:
        raise ValueError(_("must be between ${minimum} and ${maximum}",
                           mapping={"minimum": minimum, "maximum": maximum}))
    return value


def parse_venue(form):
    """The venue form → ``(values, {field: message})``; ``latitude`` and
    ``longitude`` are both floats or both ``None``."""
    raw = {field: form.get(field) for field in FIELDS}
    if any(value is not None and not isinstance(value, str) for value in raw.values()):
        return {}, {"name": _("must be text")}
    raw = {field: (value or "").strip() for field, value in raw.items()}
    values, errors = {}, {}
    values["name"] = raw["name"]
    values["address"] = " ".join(raw["address"].split())
    for field, parse_field in (("name", venue_name), ("address", venue_address)):
        try:
            values[field] = parse_field(values[field])
        except ValueError as exc:
            errors[field] = exc.args[0]
    values["time_zone"] = raw["time_zone"] or None
    if raw["time_zone"] and not valid_time_zone(raw["time_zone"]):
        errors["time_zone"] = _("is not a known IANA time zone, e.g. Europe/Paris")
    for field in RANGES:
        values[field] = None
        if raw[field]:
            try:
                values[field] = parse_coordinate(raw[field], field)
            except ValueError as exc:
                errors[field] = exc.args[0]
    if raw["latitude"] and not raw["longitude"]:
        errors["longitude"] = _("is required with a latitude (type both, or neither)")
    if raw["longitude"] and not raw["latitude"]:
        errors["latitude"] = _("is required with a longitude (type both, or neither)")
    return values, errors


class VenueView(ManageView):
    def form_page(self, values, errors=None, status=200, venue=None):
        return self.page("manage/venues/form.jinja2", status=status, venue=venue,
                         values=values, errors=errors or {}, has_hours=self.has_hours(venue),
                         offline=self.request.find_service(Geocoder).offline)

    def has_hours(self, venue):
        return venue is not None and self.request.find_service(ScheduleService).has_hours(venue)

    def typed(self):
        return {field: self.request.POST.get(field, "") for field in FIELDS}

    @property
    def venues(self):
        return self.request.find_service(VenueService)

    def edit_url(self, venue):
        return self.url("venues", venue.id, "edit")


class VenueListPages(VenueView):
    @view_config(context=ManagedVenues, request_method="GET", permission=Permission.ADMIN)
    def index(self):
        venues = self.manage.all_venues()
        with_hours = self.request.find_service(ScheduleService).venues_with_hours(self.tenant)
        return self.page("manage/venues/index.jinja2", all_venues=venues,
                         with_hours=with_hours,
                         offline=self.request.find_service(Geocoder).offline)

    @view_config(context=ManagedVenues, name="new", request_method="GET",
                 permission=Permission.ADMIN)
    def new(self):
        return self.form_page(dict.fromkeys(FIELDS, ""))

    @view_config(context=ManagedVenues, name="new", request_method="POST",
                 permission=Permission.ADMIN)
    def create(self):
        request = self.request
        values, errors = parse_venue(request.POST)
        if errors:
            return self.form_page(self.typed(), errors, status=400)
        venue = self.venues.create(self.tenant, values, self.user.id)
        request.session.flash(request.translate(_(
            "${name} is created. It has no opening hours yet: set them so that customers "
            "can book.", mapping={"name": venue.name})))
        return HTTPSeeOther(self.edit_url(venue))


class VenueEditPages(VenueView):
    @property
    def venue(self):
        return self.context.venue

    @view_config(context=ManagedVenue, name="edit", request_method="GET",
                 permission=Permission.ADMIN)
    def edit(self):
        venue = self.venue
        values = {"name": venue.name, "address": venue.address,
                  "time_zone": venue.time_zone or "", "latitude": "", "longitude": ""}
        if venue.location_status == "manual":
            values["latitude"], values["longitude"] = venue.latitude, venue.longitude
        return self.form_page(values, venue=venue)

    @view_config(context=ManagedVenue, name="edit", request_method="POST",
                 permission=Permission.ADMIN)
    def update(self):
        request, venue = self.request, self.venue
        values, errors = parse_venue(request.POST)
        if errors:
            return self.form_page(self.typed(), errors, status=400, venue=venue)
        self.venues.update(venue, values, self.user.id)
        request.session.flash(request.translate(_("${name} is saved.",
                                                  mapping={"name": venue.name})))
        return HTTPSeeOther(self.edit_url(venue))
