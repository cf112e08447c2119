"""``/t/{slug}/manage/offer-emails/``: offer emails, for owners and managers.
Write a subject and a text, choose who gets it (everyone who asked for
offers, or those who booked at a venue or a resource), preview it as a
language gets it with the number of recipients, then send it; the past
mailings are listed below. The rules (who may receive it, the daily
limit) are :class:`~booking.services.marketing.MarketingService`'s."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...i18n import LANGUAGES, _
from ...resources.manage import OfferEmails
from ...security import Permission
from ...services.errors import DomainError
from ...services.marketing import MarketingService
from ..forms import Field, line, optional, parse_form, string
from . import ManageView

FIELDS = {
    "subject": Field(line(200, min_length=1)),
    "body": Field(string(10_000, min_length=1)),
    "audience": optional(string(40), default="all"),
    "language": optional(string(5), default=""),
}


@view_defaults(context=OfferEmails, permission=Permission.ADMIN)
class OfferViews(ManageView):
    @property
    def marketing(self):
        return self.request.find_service(MarketingService)

    def compose_page(self, values, errors=(), status=200, message=None, preview=None):
        return self.page(
            "manage/offers.jinja2", status=status, values=values, errors=dict(errors),
            message=message, preview=preview, languages=LANGUAGES,
            choices=self.marketing.audience_choices(self.tenant),
            mailings=self.marketing.mailings(self.tenant), zone=self.tenant.time_zone)

    def read_form(self):
        """``(clean, values, errors)`` of the posted form; the audience
        read as ``(venue, resource)`` in ``clean["target"]``."""
        post = self.request.POST
        values = {name: post.get(name, "") if isinstance(post.get(name, ""), str) else ""
                  for name in FIELDS}
        clean, errors = parse_form(post, FIELDS)
        if "audience" not in errors:
            try:
                clean["target"] = self.marketing.audience_target(self.tenant, clean["audience"])
            except DomainError as exc:
                errors["audience"] = exc.message
        if clean.get("language") not in LANGUAGES:
            clean["language"] = self.request.locale_name
        return clean, values, errors

    @view_config(request_method="GET")
    def show(self):
        values = {"subject": "", "body": "", "audience": "all",
                  "language": self.request.locale_name}
        return self.compose_page(values)

    @view_config(name="preview", request_method="POST")
    def preview(self):
        clean, values, errors = self.read_form()
        if errors:
            return self.compose_page(values, errors, status=400)
        venue, resource = clean["target"]
        preview = self.marketing.preview(self.tenant, clean["subject"], clean["body"],
                                         clean["language"], venue, resource)
        return self.compose_page(values, preview=preview)

    @view_config(name="send", request_method="POST")
    def send(self):
        request = self.request
        clean, values, errors = self.read_form()
        if errors:
            return self.compose_page(values, errors, status=400)
        venue, resource = clean["target"]
        try:
            mailing = self.marketing.send(self.tenant, self.user, clean["subject"],
                                          clean["body"], venue, resource)
        except DomainError as exc:
            request.tm.doom()  # nothing of this attempt is kept
            response = self.compose_page(values, status=exc.status, message=exc.message)
            if "retry_after" in exc.extra:
                response.headers["Retry-After"] = str(exc.extra["retry_after"])
            return response
        request.session.flash(request.translate(_(
            "Your offer is on its way to ${count} customer(s).",
            mapping={"count": mailing.recipients})))
        return HTTPSeeOther(request.resource_url(self.context))
