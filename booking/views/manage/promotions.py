"""The staff area's promotions, for owners and managers: ``offers/`` and
``codes/`` (the list with each one's state, a form to create one, and
pause, resume and end buttons) and ``promotions/report`` (uses, discount
given and revenue per offer and per code over a period, by default the
last 30 days). Every change is one call of
:class:`~booking.services.promotions.PromotionService`, which the API
calls too."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...models import OfferKind
from ...resources.manage import ManageContext
from ...resources.promotions import (
    OfferCollection,
    OfferContext,
    PromoCodeCollection,
    PromoCodeContext,
    PromotionsContext,
)
from ...security import Permission
from ...services.errors import Conflict, InvalidFields, ValidationError
from ...services.promotions import PromotionService, status_of
from ..forms import day, optional, parse_form
from . import ManageView
from .promotion_forms import (
    discount_text,
    form_errors,
    parse_code,
    parse_offer,
    service_names,
    typed,
    window_text,
)

#: Pages of the staff area only: the same nodes below the tenant are the API's.
page = dict(containment=ManageContext, permission=Permission.ADMIN)

KIND_LABELS = {OfferKind.OFF_PEAK: _("Off-peak"), OfferKind.LAST_MINUTE: _("Last minute"),
               OfferKind.EARLY_BIRD: _("Early bird")}
STATUS_LABELS = {"live": _("Live"), "paused": _("Paused"), "ended": _("Ended")}
WEEKDAY_LABELS = (_("Mon"), _("Tue"), _("Wed"), _("Thu"), _("Fri"), _("Sat"), _("Sun"))
NEW_CODE = {"min_seats": "1", "min_amount": "0.00"}


class PromotionPages(ManageView):
    @property
    def service(self):
        return self.request.find_service(PromotionService)

    def collection(self):
        node = self.context
        return node if isinstance(node, (OfferCollection, PromoCodeCollection)) else \
            node.__parent__

    def list_url(self):
        return self.request.resource_url(self.collection())

    def shared(self):
        return {"places": self.service.places(self.tenant), "status_of": status_of,
                "list_url": self.list_url(),
                "status_labels": STATUS_LABELS, "weekday_labels": WEEKDAY_LABELS,
                "kind_labels": KIND_LABELS, "window_text": window_text,
                "discount": lambda row: discount_text(row, self.tenant.currency,
                                                      self.request.format.money)}

    def changed(self, message):
        request = self.request
        request.session.flash(request.translate(message))
        return HTTPSeeOther(self.list_url())


class OfferPages(PromotionPages):
    def list_page(self, values=None, errors=None, status=200, message=None):
        return self.page("manage/promotions/offers.jinja2", status=status,
                         offers=self.service.offers(self.tenant), values=values or {},
                         errors=errors or {}, message=message, **self.shared())

    @view_config(context=OfferCollection, request_method="GET", **page)
    def index(self):
        return self.list_page()

    @view_config(context=OfferCollection, request_method="POST", **page)
    def create(self):
        request = self.request
        values, unreadable = parse_offer(request.POST)
        try:
            offer = self.service.create_offer(self.tenant, self.user.id, **values,
                                              input_errors=service_names(unreadable))
        except InvalidFields as exc:
            return self.list_page(typed(request.POST), form_errors(exc.errors), status=400)
        return self.changed(_("The offer ${name} is live.", mapping={"name": offer.name}))

    def act(self, method, message):
        offer = self.context.offer
        try:
            getattr(self.service, method)(self.tenant, offer, self.user.id)
        except Conflict as exc:
            self.request.tm.doom()
            return self.list_page(status=409, message=exc.message)
        return self.changed(message(offer.name))

    @view_config(context=OfferContext, name="pause", request_method="POST", **page)
    def pause(self):
        return self.act("pause_offer", lambda name: _(
            "The offer ${name} is paused.", mapping={"name": name}))

    @view_config(context=OfferContext, name="resume", request_method="POST", **page)
    def resume(self):
        return self.act("resume_offer", lambda name: _(
            "The offer ${name} is live again.", mapping={"name": name}))

    @view_config(context=OfferContext, name="end", request_method="POST", **page)
    def end(self):
        return self.act("end_offer", lambda name: _(
            "The offer ${name} has ended.", mapping={"name": name}))


class PromoCodePages(PromotionPages):
    def list_page(self, values=None, errors=None, status=200, message=None):
        return self.page("manage/promotions/codes.jinja2", status=status,
                         codes=self.service.codes(self.tenant), values=values or NEW_CODE,
                         errors=errors or {}, message=message, zone=self.tenant.time_zone,
                         **self.shared())

    @view_config(context=PromoCodeCollection, request_method="GET", **page)
    def index(self):
        return self.list_page()

    @view_config(context=PromoCodeCollection, request_method="POST", **page)
    def create(self):
        request = self.request
        values, unreadable = parse_code(request.POST, self.tenant.time_zone)
        try:
            code = self.service.create_code(self.tenant, self.user.id, **values,
                                            input_errors=service_names(unreadable))
        except InvalidFields as exc:
            return self.list_page(typed(request.POST), form_errors(exc.errors), status=400)
        except Conflict as exc:
            request.tm.doom()
            return self.list_page(typed(request.POST), {exc.field: exc.message}, status=409)
        return self.changed(_("The code ${name} is live.", mapping={"name": code.code}))

    def act(self, method, message):
        code = self.context.code
        try:
            getattr(self.service, method)(self.tenant, code, self.user.id)
        except Conflict as exc:
            self.request.tm.doom()
            return self.list_page(status=409, message=exc.message)
        return self.changed(message(code.code))

    @view_config(context=PromoCodeContext, name="pause", request_method="POST", **page)
    def pause(self):
        return self.act("pause_code", lambda name: _(
            "The code ${name} is paused.", mapping={"name": name}))

    @view_config(context=PromoCodeContext, name="resume", request_method="POST", **page)
    def resume(self):
        return self.act("resume_code", lambda name: _(
            "The code ${name} is live again.", mapping={"name": name}))

    @view_config(context=PromoCodeContext, name="end", request_method="POST", **page)
    def end(self):
        return self.act("end_code", lambda name: _(
            "The code ${name} has ended.", mapping={"name": name}))


@view_config(context=PromotionsContext, name="report", request_method="GET", **page)
class ReportPage(ManageView):
    def __call__(self):
        request = self.request
        asked, errors = parse_form(request.GET, {"from": optional(day), "to": optional(day)})
        service = request.find_service(PromotionService)
        try:
            first, last = service.report_period(self.tenant, asked.get("from"), asked.get("to"))
        except ValidationError as exc:
            errors[exc.field] = exc.message
        if errors:
            first, last = service.report_period(self.tenant)
        report = service.report(self.tenant, first, last)
        return self.page("manage/promotions/report.jinja2", status=400 if errors else 200,
                         report=report, errors=errors, status_labels=STATUS_LABELS,
                         values={"from": request.GET.get("from", first.isoformat()),
                                 "to": request.GET.get("to", last.isoformat())})
