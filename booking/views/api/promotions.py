"""Offers, promo codes and the promotions report, for owners and managers:
``/api/v1/t/{slug}/offers``, ``…/codes`` (list, create; ``{id}/pause``,
``resume``, ``end``) and ``…/promotions/report?from=&to=``. The rules are
:class:`~booking.services.promotions.PromotionService`'s, as on the staff
pages."""

from datetime import UTC, datetime

from pyramid.config import not_
from pyramid.view import view_config, view_defaults

from ...i18n import _
from ...resources.manage import ManageContext
from ...resources.promotions import (
    OfferCollection,
    OfferContext,
    PromoCodeCollection,
    PromoCodeContext,
    PromotionsContext,
)
from ...security import Permission
from ...services.promotions import PromotionService, status_of
from ..forms import Field, day, instant, integer, json_body, optional, parse, query, string

MAX_LIST = 200

#: Below the tenant only: the staff area's copies of these nodes are pages.
api = dict(route_name="api", renderer="json", containment=not_(ManageContext),
           permission=Permission.ADMIN)


def boolean(value):
    if not isinstance(value, bool):
        raise ValueError(_("must be true or false"))
    return value


def integers(maximum_items):
    """A JSON array of integers (ids, weekdays)."""
    def parse_integers(value):
        if not isinstance(value, list) or len(value) > maximum_items:
            raise ValueError(_("must be a list of at most ${count} integers",
                               mapping={"count": maximum_items}))
        if any(isinstance(item, bool) or not isinstance(item, int) for item in value):
            raise ValueError(_("must be a list of at most ${count} integers",
                               mapping={"count": maximum_items}))
        return value
    return parse_integers


WINDOW = {
    "weekdays": optional(integers(7), default=[]),
    "from_minute": optional(integer()),
    "to_minute": optional(integer()),
}
DISCOUNT = {"percent": optional(integer()), "amount": optional(integer())}
OFFER_FIELDS = {
    "name": Field(string(500)),
    "kind": Field(string(32)),
    **DISCOUNT,
    "venue_id": optional(integer()),
    "resource_id": optional(integer()),
    "hours_before": optional(integer()),
    "days_ahead": optional(integer()),
    **WINDOW,
    "valid_from": optional(day),
    "valid_until": optional(day),
    "stacks": optional(boolean, default=False),
}
CODE_FIELDS = {
    "code": Field(string(100)),
    **DISCOUNT,
    "valid_from": optional(instant),
    "valid_until": optional(instant),
    "max_uses": optional(integer()),
    "max_uses_per_customer": optional(integer()),
    "min_seats": optional(integer(), default=1),
    "min_amount": optional(integer(), default=0),
    "venue_ids": optional(integers(MAX_LIST), default=[]),
    "resource_ids": optional(integers(MAX_LIST), default=[]),
    **WINDOW,
    "first_booking_only": optional(boolean, default=False),
}


def _iso(value):
    """A date as ``YYYY-MM-DD``, an instant in UTC, None as null."""
    if isinstance(value, datetime):
        value = value.astimezone(UTC)
    return value.isoformat() if value is not None else None


def offer_json(offer, currency):
    return {
        "id": offer.id, "name": offer.name, "kind": offer.kind, "status": status_of(offer),
        "percent": offer.percent, "amount": offer.amount, "currency": currency,
        "venue_id": offer.venue_id, "resource_id": offer.resource_id,
        "hours_before": offer.hours_before, "days_ahead": offer.days_ahead,
        "weekdays": list(offer.weekdays or ()), "from_minute": offer.from_minute,
        "to_minute": offer.to_minute, "valid_from": _iso(offer.valid_from),
        "valid_until": _iso(offer.valid_until), "stacks": offer.stacks,
        "created_at": _iso(offer.created_at), "ended_at": _iso(offer.ended_at),
    }


def code_json(code, currency):
    return {
        "id": code.id, "code": code.code, "status": status_of(code),
        "percent": code.percent, "amount": code.amount, "currency": currency,
        "valid_from": _iso(code.valid_from), "valid_until": _iso(code.valid_until),
        "uses": code.uses, "max_uses": code.max_uses,
        "max_uses_per_customer": code.max_uses_per_customer, "min_seats": code.min_seats,
        "min_amount": code.min_amount, "venue_ids": list(code.venue_ids or ()),
        "resource_ids": list(code.resource_ids or ()), "weekdays": list(code.weekdays or ()),
        "from_minute": code.from_minute, "to_minute": code.to_minute,
        "first_booking_only": code.first_booking_only,
        "created_at": _iso(code.created_at), "ended_at": _iso(code.ended_at),
    }


class PromotionsApi:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.tenant = context.tenant

    @property
    def service(self):
        return self.request.find_service(PromotionService)

    @property
    def actor_id(self):
        return self.request.identity.user.id

    def created(self, body):
        self.request.response.status_int = 201
        return body


@view_defaults(context=OfferCollection, **api)
class OfferCollectionApi(PromotionsApi):
    @view_config(request_method="GET")
    def list(self):
        return {"offers": [offer_json(offer, self.tenant.currency)
                           for offer in self.service.offers(self.tenant)]}

    @view_config(request_method="POST")
    def create(self):
        data = parse(json_body(self.request), OFFER_FIELDS)
        offer = self.service.create_offer(self.tenant, self.actor_id, **data)
        return self.created(offer_json(offer, self.tenant.currency))


@view_defaults(context=OfferContext, request_method="POST", **api)
class OfferApi(PromotionsApi):
    def done(self, offer):
        return offer_json(offer, self.tenant.currency)

    @view_config(name="pause")
    def pause(self):
        return self.done(self.service.pause_offer(self.tenant, self.context.offer, self.actor_id))

    @view_config(name="resume")
    def resume(self):
        return self.done(self.service.resume_offer(self.tenant, self.context.offer,
                                                   self.actor_id))

    @view_config(name="end")
    def end(self):
        return self.done(self.service.end_offer(self.tenant, self.context.offer, self.actor_id))


@view_defaults(context=PromoCodeCollection, **api)
class PromoCodeCollectionApi(PromotionsApi):
    @view_config(request_method="GET")
    def list(self):
        return {"codes": [code_json(code, self.tenant.currency)
                          for code in self.service.codes(self.tenant)]}

    @view_config(request_method="POST")
    def create(self):
        data = parse(json_body(self.request), CODE_FIELDS)
        code = self.service.create_code(self.tenant, self.actor_id, **data)
        return self.created(code_json(code, self.tenant.currency))


@view_defaults(context=PromoCodeContext, request_method="POST", **api)
class PromoCodeApi(PromotionsApi):
    def done(self, code):
        return code_json(code, self.tenant.currency)

    @view_config(name="pause")
    def pause(self):
        return self.done(self.service.pause_code(self.tenant, self.context.code, self.actor_id))

    @view_config(name="resume")
    def resume(self):
        return self.done(self.service.resume_code(self.tenant, self.context.code, self.actor_id))

    @view_config(name="end")
    def end(self):
        return self.done(self.service.end_code(self.tenant, self.context.code, self.actor_id))


def report_row(row):
    return {"id": row.id, "status": row.status, "uses": row.uses, "discount": row.discount,
            "revenue": row.revenue}


@view_config(context=PromotionsContext, name="report", request_method="GET", **api)
def report(context, request):
    params = query(request, {"from": optional(day), "to": optional(day)})
    tenant = context.tenant
    service = request.find_service(PromotionService)
    first, last = service.report_period(tenant, params["from"], params["to"])
    found = service.report(tenant, first, last)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "currency": found.currency,
        "offers": [{"name": row.label, **report_row(row)} for row in found.offers],
        "codes": [{"code": row.label, **report_row(row)} for row in found.codes],
    }
