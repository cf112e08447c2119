"""Private calendar feeds of a venue (``/manage/venues/{id}/feeds``): list
the active ones, create one for the venue or one resource (its address is
shown once, on the page that answers the creation), revoke one."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...resources.manage import ManagedVenue
from ...security import Permission
from ...services.errors import ValidationError
from ...services.feeds import FeedService
from ...services.staff_calendar import venue_zone
from ..forms import Field, integer, optional, parse_form, string
from . import ManageView

WHOLE_VENUE = "venue"


class VenueFeeds(ManageView):
    @property
    def venue(self):
        return self.context.venue

    @property
    def service(self):
        return self.request.find_service(FeedService)

    def resources(self):
        """The venue's active resources, which a new feed may cover."""
        return self.service.bookable_resources(self.venue)

    def feeds_page(self, status=200, errors=None, form=None, created_url=None, message=None):
        response = self.page(
            "manage/calendar/feeds.jinja2", status=status, venue=self.venue,
            zone=venue_zone(self.venue), feeds=self.service.active(self.venue),
            resources=self.resources(), errors=errors or {}, form=form or {},
            created_url=created_url, message=message,
            calendar_url=self.request.resource_url(self.context),
        )
        if created_url:
            response.cache_control = "no-store"  # the secret is on this page only
        return response

    @view_config(context=ManagedVenue, name="feeds", request_method="GET",
                 permission=Permission.MANAGE)
    def show(self):
        return self.feeds_page()

    @view_config(context=ManagedVenue, name="feeds", request_method="POST",
                 permission=Permission.MANAGE)
    def create(self):
        request = self.request
        clean, errors = parse_form(request.POST, {
            "scope": Field(string(20)), "replace": optional(string(10), default=""),
        })
        resource = None
        if not errors and clean["scope"] != WHOLE_VENUE:
            resource = next((r for r in self.resources() if str(r.id) == clean["scope"]), None)
            if resource is None:
                errors["scope"] = _("is not this venue or one of its active resources")
        if errors:
            return self.feeds_page(400, errors=errors, form=dict(request.POST))
        _feed, secret = self.service.create(self.venue, resource, self.user.id,
                                            replace=bool(clean["replace"]))
        url = request.resource_url(request.root, "feeds", secret + ".ics")
        return self.feeds_page(created_url=url)

    @view_config(context=ManagedVenue, name="revoke-feed", request_method="POST",
                 permission=Permission.MANAGE)
    def revoke(self):
        request = self.request
        clean, errors = parse_form(request.POST, {"feed": Field(integer(1, from_text=True))})
        if errors:
            raise ValidationError(errors["feed"], field="feed")
        feed = self.service.find(self.venue, clean["feed"])
        if feed is None:
            raise HTTPNotFound()
        if not feed.active:
            return self.feeds_page(409, message=_("This feed was already revoked."))
        self.service.revoke(feed, self.user.id)
        request.session.flash(request.translate(
            _("The feed is revoked: its address no longer works.")))
        return HTTPSeeOther(request.resource_url(self.context, "feeds"))
