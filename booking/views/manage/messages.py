"""``/t/{slug}/manage/messages/``: the tenant's emails waiting to be sent
or given up after their attempts, for owners and managers, with "retry
now" for a given-up one. Subjects and bodies are never shown: they may hold
secret links."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from ...i18n import _
from ...resources.manage import ManagedMessage, Messages
from ...security import Permission
from ...services.errors import Conflict
from ...services.messages import MessageService
from ..forms import integer, optional, parse_form
from . import ManageView

PAGE_SIZE = 50


class MessageViews(ManageView):
    def list_page(self, status=200, message=None):
        clean, errors = parse_form(self.request.GET, {
            "page": optional(integer(1, 100_000, from_text=True), default=1)})
        page = 1 if errors else clean["page"]
        listings, total = self.request.find_service(MessageService).unsent(
            self.tenant, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        return self.page(
            "manage/messages.jinja2", status=400 if errors and status == 200 else status,
            messages=listings, total=total, page_number=page,
            pages=max(1, -(-total // PAGE_SIZE)), errors=errors, message=message,
            zone=self.tenant.time_zone,
        )

    @view_config(context=Messages, request_method="GET", permission=Permission.ADMIN)
    def show(self):
        return self.list_page()

    @view_config(context=ManagedMessage, name="retry", request_method="POST",
                 permission=Permission.ADMIN)
    def retry(self):
        request = self.request
        message = self.context.message
        try:
            request.find_service(MessageService).retry(self.tenant, message, self.user.id)
        except Conflict as exc:
            request.tm.doom()
            return self.list_page(status=409, message=exc.message)
        request.session.flash(request.translate(_(
            "The message to ${recipient} will be sent again shortly.",
            mapping={"recipient": message.recipient})))
        return HTTPSeeOther(request.resource_url(self.context.__parent__))
