"""Rows to the JSON shapes of the API contract (DESIGN.md)."""

from ...services.pricing import Quote
from ...services.slots import zone_of


def tenant_json(tenant):
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "time_zone": tenant.time_zone,
        "currency": tenant.currency,
    }


def venue_json(venue):
    return {
        "id": venue.id,
        "name": venue.name,
        "address": venue.address,
        "time_zone": venue.time_zone or venue.tenant.time_zone,
        "latitude": venue.latitude,
        "longitude": venue.longitude,
    }


def resource_json(resource):
    return {
        "id": resource.id,
        "venue_id": resource.venue_id,
        "name": resource.name,
        "kind": resource.kind,
        "capacity": resource.capacity,
        "slot_minutes": resource.slot_minutes,
        "price": resource.price,
        "currency": resource.venue.tenant.currency,
    }


def booking_json(booking):
    zone = zone_of(booking.resource)
    return {
        "id": booking.id,
        "reference": booking.reference,
        "status": booking.status,
        "resource_id": booking.resource_id,
        "venue_id": booking.resource.venue_id,
        "start": booking.starts_at.astimezone(zone).isoformat(),
        "end": booking.ends_at.astimezone(zone).isoformat(),
        "seats": booking.seats,
        "price": booking.price,
        "currency": booking.currency,
        "price_breakdown": quote_json(Quote.of_booking(booking)),
        "payment_status": booking.payment_status,
        "note": booking.note,
    }


def quote_json(quote):
    """A price breakdown: ``base`` − each line's ``amount`` = ``total``, in
    minor units of ``currency``; a line's ``kind`` is ``offer``, ``code`` or
    ``voucher`` and its ``label`` the offer's name, the code or the
    voucher's last characters."""
    return {"base": quote.base, "currency": quote.currency, "total": quote.total,
            "lines": [{"kind": line.kind, "label": line.label, "amount": line.amount}
                      for line in quote.lines]}
