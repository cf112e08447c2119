"""A tenant's venues as staff add and change them, each change audited.

A venue's location comes from the geocoder, or from coordinates typed by
staff, which are kept as they are ("manual") and never geocoded. A venue
whose address changed (or whose typed coordinates were taken away) is
"pending": the service has it geocoded once the transaction is committed
(so the venue is saved whatever the geocoder says, and no write lock is
held while it answers), and the worker retries a failure."""

from ..models import TRANSACTION_MANAGER, Venue
from . import audit
from .geocoding import (DEFAULT_MAX_AGE, LOCATABLE, clear_location, locate_venue,
                        set_typed_location)

#: The columns of a venue that its audit rows record.
AUDITED = ("name", "address", "time_zone", "latitude", "longitude", "location_status")


def snapshot(venue):
    return {field: getattr(venue, field) for field in AUDITED}


class VenueService:
    """``session_factory``, ``geocoder`` and ``max_age`` (of the geocoder's
    cached answers) locate a venue after the commit, in short transactions
    of their own, as :func:`~booking.services.geocoding.locate_venue` does."""

    def __init__(self, dbsession, now, session_factory, geocoder, max_age=DEFAULT_MAX_AGE):
        self.dbsession = dbsession
        self.now = now
        self.session_factory = session_factory
        self.geocoder = geocoder
        self.max_age = max_age

    def create(self, tenant, values, actor_id):
        """A new venue of ``tenant`` from the form's ``values`` (``name``,
        ``address``, ``time_zone``, ``latitude``, ``longitude``), audited."""
        venue = Venue(tenant_id=tenant.id, address="", created_at=self.now,
                      location_status="pending", locate_attempts=0)
        self.apply(venue, values)
        if venue.location_status != "manual":
            clear_location(venue)
        self.dbsession.add(venue)
        self.dbsession.flush()
        audit.record(self.dbsession, tenant.id, actor_id, "venue.created", "venue", venue.id,
                     self.now, **snapshot(venue))
        self.locate_after_commit(venue)
        return venue

    def update(self, venue, values, actor_id):
        """Apply the form's ``values`` to ``venue``; a change is audited
        with its old and new values. A venue left pending is located after
        the commit."""
        before = snapshot(venue)
        self.apply(venue, values)
        after = snapshot(venue)
        changes = {field: [before[field], after[field]]
                   for field in AUDITED if before[field] != after[field]}
        if changes:
            audit.record(self.dbsession, venue.tenant_id, actor_id, "venue.updated", "venue",
                         venue.id, self.now, changes=changes)
        self.locate_after_commit(venue)
        return changes

    def locate_after_commit(self, venue):
        """Geocode ``venue`` once the session's transaction is committed
        (nothing if it is aborted), if it waits for a location. The
        transaction is the one of the manager the session is joined to
        (the request's under ``pyramid_tm``), not ``transaction.get()``."""
        if venue.location_status not in LOCATABLE or not venue.address:
            return
        manager = self.dbsession.info[TRANSACTION_MANAGER]
        manager.get().addAfterCommitHook(self._locate_when_committed, args=(venue.id,))

    def _locate_when_committed(self, committed, venue_id):
        if committed:
            locate_venue(self.session_factory, venue_id, self.geocoder, self.now, self.max_age)

    def apply(self, venue, values):
        """Copy the form onto ``venue``; typed coordinates make it "manual",
        a new address (or typed coordinates taken away) asks the geocoder."""
        address_changed = venue.address != values["address"]
        venue.name, venue.address = values["name"], values["address"]
        venue.time_zone = values["time_zone"]
        latitude, longitude = values["latitude"], values["longitude"]
        if latitude is not None:
            if (venue.location_status != "manual"
                    or (venue.latitude, venue.longitude) != (latitude, longitude)):
                set_typed_location(venue, latitude, longitude, self.now)
        elif address_changed or venue.location_status == "manual":
            clear_location(venue)
