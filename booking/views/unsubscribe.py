"""``/unsubscribe/{secret}``: the link in every offer email, which works
without signing in (the secret is the authorization; an unknown one is not
found).

- GET shows the business's name and a button: a mail scanner that opens
  the link unsubscribes nobody;
- POST from that button (with the page's CSRF token) unsubscribes;
- POST with the body ``List-Unsubscribe=One-Click`` is the mail provider's
  RFC 8058 one-click request: no browser session, so no CSRF token.

Both POSTs are idempotent and answer the same page."""

from pyramid.view import view_config, view_defaults

from ..resources import UnsubscribeContext
from ..security import Permission
from ..services.marketing import LINK, ONE_CLICK, ONE_CLICK_POST, MarketingService
from .password_reset import no_secret_leaks


@view_defaults(context=UnsubscribeContext, renderer="account/unsubscribe.jinja2",
               permission=Permission.VIEW)
class UnsubscribeViews:
    def __init__(self, context, request):
        self.context = context
        self.request = request
        no_secret_leaks(request.response)

    @view_config(request_method="GET")
    def show(self):
        tenant = self.request.find_service(MarketingService).business_of(self.context.recipient)
        return {"business": tenant.name, "done": False}

    @view_config(request_method="POST", request_param=ONE_CLICK, require_csrf=False)
    def one_click(self):
        return self.unsubscribe(ONE_CLICK_POST)

    @view_config(request_method="POST")
    def confirm(self):
        return self.unsubscribe(LINK)

    def unsubscribe(self, how):
        tenant = self.request.find_service(MarketingService).unsubscribe(
            self.context.recipient, how)
        return {"business": tenant.name, "done": True}
