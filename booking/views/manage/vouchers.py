"""``/t/{slug}/manage/vouchers/``: gift vouchers, for owners and managers:
the list, the issue form (the new code is shown on the answer page, once),
each voucher's ledger and its "void" button."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...resources.manage import ManagedVoucher, Vouchers
from ...security import Permission
from ...services.errors import DomainError
from ...services.vouchers import MAX_ISSUED, VoucherService, end_of_day
from ..forms import day, line, optional, parse_form
from . import ManageView
from .forms import parse_price


def issue_fields():
    return {"amount": optional(parse_price), "expires_on": optional(day),
            "label": optional(line(200), default="")}


class VoucherViews(ManageView):
    @property
    def service(self):
        return self.request.find_service(VoucherService)

    def list_page(self, status=200, errors=None, form=None, issued=None, code=None):
        response = self.page(
            "manage/vouchers.jinja2", status=status, listings=self.service.vouchers(self.tenant),
            errors=errors or {}, form=form or {}, issued=issued, code=code,
            zone=self.tenant.time_zone, max_amount=MAX_ISSUED)
        if code:
            response.cache_control = "no-store"  # the code is on this page only
        return response

    @view_config(context=Vouchers, request_method="GET", permission=Permission.ADMIN)
    def show(self):
        return self.list_page()

    @view_config(context=Vouchers, name="issue", request_method="POST",
                 permission=Permission.ADMIN)
    def issue(self):
        request = self.request
        form = {key: request.POST.get(key, "") for key in issue_fields()}
        clean, errors = parse_form(request.POST, issue_fields())
        if not errors and clean["amount"] is None:
            errors["amount"] = _("is required")
        if errors:
            request.tm.doom()
            return self.list_page(status=400, errors=errors, form=form)
        expires_at = (end_of_day(self.tenant, clean["expires_on"])
                      if clean["expires_on"] else None)
        try:
            voucher, code = self.service.issue(self.tenant, self.user.id, clean["amount"],
                                               expires_at=expires_at, label=clean["label"])
        except DomainError as exc:
            request.tm.doom()
            field = "expires_on" if exc.field == "expires_at" else exc.field or "amount"
            return self.list_page(status=exc.status, errors={field: exc.message}, form=form)
        return self.list_page(status=201, issued=voucher, code=code)

    @view_config(context=ManagedVoucher, request_method="GET", permission=Permission.ADMIN)
    def ledger(self):
        voucher = self.context.voucher
        return self.page("manage/voucher_ledger.jinja2", voucher=voucher,
                         listing=self.service.listing(voucher),
                         lines=self.service.ledger(self.tenant, voucher.id),
                         zone=self.tenant.time_zone)

    @view_config(context=ManagedVoucher, name="void", request_method="POST",
                 permission=Permission.ADMIN)
    def void(self):
        request = self.request
        voucher = self.context.voucher
        try:
            self.service.void(self.tenant, voucher.id, self.user.id)
        except DomainError as exc:
            request.tm.doom()
            request.session.flash(request.translate(exc.message))
        else:
            request.session.flash(request.translate(_(
                "The voucher ending in ${hint} is void: it can no longer be used.",
                mapping={"hint": voucher.hint})))
        return HTTPSeeOther(request.resource_url(self.context))
