"""A tenant's venues as staff add and change them, each change audited.

A venue's location comes from the geocoder, or from coordinates typed by
staff, which are kept as they are ("manual") and never geocoded. A venue
whose address changed (or whose typed coordinates were taken away) is
"pending": the caller has it geocoded once the transaction is committed,
and the worker retries a failure."""

from ..models import Venue
from . import audit
from .geocoding import clear_location, set_typed_location

#: The columns of a venue that its audit rows record.
AUDITED = ("name", "address", "time_zone", "latitude", "longitude", "location_status")


def snapshot(venue):
    return {field: getattr(venue, field) for field in AUDITED}


class VenueService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now

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
        return venue

    def update(self, venue, values, actor_id):
        """Apply the form's ``values`` to ``venue``; a change is audited
        with its old and new values."""
        before = snapshot(venue)
        self.apply(venue, values)
        after = snapshot(venue)
        changes = {field: [before[field], after[field]]
                   for field in AUDITED if before[field] != after[field]}
        if changes:
            audit.record(self.dbsession, venue.tenant_id, actor_id, "venue.updated", "venue",
                         venue.id, self.now, changes=changes)
        return changes

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
