"""Gift vouchers, for owners and managers: list and issue
(``/api/v1/t/{slug}/vouchers``: the answer to an issue carries the code,
this once), read one with its ledger, void one."""

from pyramid.view import view_config, view_defaults

from ...i18n import as_zone
from ...resources.vouchers import VoucherCollection, VoucherContext
from ...security import Permission
from ...services.vouchers import MAX_ISSUED, VoucherService
from ..forms import Field, instant, integer, json_body, optional, parse, string


def _iso(instant_, zone):
    return instant_.astimezone(zone).isoformat() if instant_ is not None else None


def voucher_json(listing, tenant):
    voucher, zone = listing.voucher, as_zone(tenant.time_zone)
    return {
        "id": voucher.id,
        "hint": voucher.hint,
        "label": voucher.label,
        "currency": voucher.currency,
        "initial": voucher.initial,
        "balance": voucher.balance,
        "expires_at": _iso(voucher.expires_at, zone),
        "status": listing.status,
        "created_at": _iso(voucher.created_at, zone),
        "voided_at": _iso(voucher.voided_at, zone),
    }


def ledger_json(line, zone):
    return {"kind": line.entry.kind, "amount": line.entry.amount,
            "created_at": _iso(line.entry.created_at, zone),
            "booking_id": line.entry.booking_id, "booking_reference": line.reference}


@view_defaults(context=VoucherCollection, route_name="api", renderer="json")
class VoucherCollectionApi:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.service = request.find_service(VoucherService)

    @view_config(request_method="GET", permission=Permission.ADMIN)
    def list(self):
        tenant = self.context.tenant
        return {"vouchers": [voucher_json(listing, tenant)
                             for listing in self.service.vouchers(tenant)]}

    @view_config(request_method="POST", permission=Permission.ADMIN)
    def issue(self):
        request = self.request
        data = parse(json_body(request), {
            "amount": Field(integer(minimum=1, maximum=MAX_ISSUED)),
            "expires_at": optional(instant),
            "label": optional(string(200), default=""),
        })
        tenant = self.context.tenant
        voucher, code = self.service.issue(tenant, request.identity.user.id, data["amount"],
                                           expires_at=data["expires_at"], label=data["label"])
        request.response.status_int = 201
        request.response.cache_control = "no-store"  # the code is in this answer only
        return {**voucher_json(self.service.listing(voucher), tenant), "code": code}


@view_defaults(context=VoucherContext, route_name="api", renderer="json")
class VoucherApi:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.service = request.find_service(VoucherService)

    @view_config(request_method="GET", permission=Permission.VIEW)
    def show(self):
        tenant, voucher = self.context.tenant, self.context.voucher
        zone = as_zone(tenant.time_zone)
        return {**voucher_json(self.service.listing(voucher), tenant),
                "ledger": [ledger_json(line, zone)
                           for line in self.service.ledger(tenant, voucher.id)]}

    @view_config(name="void", request_method="POST", permission=Permission.ADMIN)
    def void(self):
        json_body(self.request, allow_empty=True)
        tenant = self.context.tenant
        voucher = self.service.void(tenant, self.context.voucher.id,
                                    self.request.identity.user.id)
        return voucher_json(self.service.listing(voucher), tenant)
