"""``/t/{slug}/vouchers/``: gift vouchers on the business's site. Anyone
checks what is left on a code (wrong codes are throttled like promo
codes); when the site takes payments online a signed-in customer buys one
through the provider's hosted checkout, and the code is emailed once the
provider's signed webhook says it is paid. Otherwise the page says they
are sold at the venue."""

import uuid

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config, view_defaults

from ..adapters.payments import NotCollectingOnline, ProviderRefused, ProviderUnavailable
from ..i18n import _
from ..resources.vouchers import VoucherCollection
from ..security import Permission
from ..services.errors import DomainError
from ..services.vouchers import (
    MAX_PURCHASE,
    MIN_PURCHASE,
    SUGGESTED_PURCHASES,
    VoucherService,
)
from .checkout import allow_checkout_forms
from .forms import Field, line, optional, parse_form, string
from .manage.forms import parse_price


@view_defaults(context=VoucherCollection)
class VoucherPages:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        self.tenant = context.tenant
        self.service = request.find_service(VoucherService)

    def page(self, status=200, **data):
        request = self.request
        values = {
            "tenant": self.tenant, "sells_online": self.service.sells_online,
            "may_buy": bool(request.has_permission(Permission.BOOK, self.context)),
            "suggested": SUGGESTED_PURCHASES, "min_amount": MIN_PURCHASE,
            "max_amount": MAX_PURCHASE, "key": uuid.uuid4().hex, "errors": {}, "form": {},
            "paid": request.GET.get("paid") == "1",
            "cancelled": request.GET.get("cancelled") == "1",
            "check": None, "problem": None, **data,
        }
        response = render_to_response("public/vouchers.jinja2", values, request=request)
        response.status_int = status
        if values["may_buy"] and values["sells_online"]:
            allow_checkout_forms(request, response)
        return response

    @view_config(request_method="GET", permission=Permission.VIEW)
    def show(self):
        return self.page()

    @view_config(name="balance", request_method="POST", permission=Permission.VIEW)
    def balance(self):
        clean, errors = parse_form(self.request.POST, {"code": Field(string(40, min_length=1))})
        if errors:
            return self.page(status=400, errors=errors)
        check = self.service.balance_of(self.tenant, clean["code"], self.request.client_addr)
        response = self.page(status=200 if check.voucher else 404, check=check)
        response.cache_control = "no-store"
        return response

    @view_config(name="buy", request_method="POST", permission=Permission.BOOK)
    def buy(self):
        request = self.request
        fields = {"amount": Field(parse_price), "label": optional(line(200), default=""),
                  "key": Field(string(64, min_length=8))}
        form = {name: request.POST.get(name, "") for name in ("amount", "label")}
        clean, errors = parse_form(request.POST, fields)
        if not errors and not MIN_PURCHASE <= clean["amount"] <= MAX_PURCHASE:
            money = request.format.money
            errors["amount"] = _("must be between ${minimum} and ${maximum}", mapping={
                "minimum": money(MIN_PURCHASE, self.tenant.currency),
                "maximum": money(MAX_PURCHASE, self.tenant.currency)})
        if errors:
            request.tm.doom()
            return self.page(status=400, errors=errors, form=form)
        here = request.resource_url(self.context)
        try:
            order = self.service.start_purchase(
                self.tenant, request.identity.user, clean["amount"], label=clean["label"],
                key=clean["key"], success_url=here + "?paid=1",
                cancel_url=here + "?cancelled=1")
        except DomainError as exc:
            request.tm.doom()
            return self.page(status=exc.status, errors={exc.field or "amount": exc.message},
                             form=form)
        except NotCollectingOnline:
            request.tm.doom()
            return self.page(status=409, form=form)
        except (ProviderUnavailable, ProviderRefused):
            # The pending order keeps its key: sending the form again retries it.
            return self.page(status=503, form=form, key=clean["key"], problem=_(
                "The payment service could not be reached and nothing was charged: please "
                "try again in a moment."))
        return HTTPSeeOther(order.checkout_url)
