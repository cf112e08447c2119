"""``/account/offers``: the businesses a customer booked with, and whether
each may send them its offers by email; one button each to agree or to
stop (agreeing stores the sentence shown, in the page's language)."""

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..i18n import _
from ..resources import AccountContext
from ..security import Permission
from ..services.errors import ValidationError
from ..services.marketing import MarketingService
from .forms import Field, integer, parse_form


@view_config(context=AccountContext, name="offers", request_method="GET",
             renderer="account/offers.jinja2", permission=Permission.VIEW)
def offers(context, request):
    marketing = request.find_service(MarketingService)
    return {"choices": marketing.consents_of(request.identity.user),
            "wording": lambda tenant: marketing.wording(tenant, request.locale_name)}


@view_config(context=AccountContext, name="offers", request_method="POST",
             permission=Permission.VIEW)
def choose(context, request):
    """``business`` (a tenant id) and ``agree`` (``yes`` or ``no``)."""
    clean, errors = parse_form(request.POST, {
        "business": Field(integer(minimum=1, from_text=True)),
        "agree": Field(str),
    })
    if not errors and clean["agree"] not in ("yes", "no"):
        errors["agree"] = _("must be yes or no")
    if errors:
        field, message = next(iter(errors.items()))
        raise ValidationError(message, field=field)
    agree = clean["agree"] == "yes"
    tenant = request.find_service(MarketingService).choose(
        request.identity.user, clean["business"], agree, request.locale_name)
    if tenant is None:
        raise HTTPNotFound()
    message = (_("${business} may send you its offers by email.", mapping={"business": tenant.name})
               if agree else
               _("${business} will send you no more offers.", mapping={"business": tenant.name}))
    request.session.flash(request.translate(message))
    return HTTPSeeOther(request.resource_url(context, "offers"))
