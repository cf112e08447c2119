"""A business's part of one customer's data, from one of their bookings:
export it (JSON), or erase it (their bookings with the business are
anonymised; their account is theirs and stays). Owners and managers only.
The rules are :class:`~booking.services.privacy.PrivacyService`'s."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from ...i18n import _
from ...resources.manage import ManagedBooking
from ...security import Permission
from ...services.privacy import PrivacyService
from . import ManageView


@view_defaults(context=ManagedBooking, permission=Permission.ADMIN)
class CustomerData(ManageView):
    @property
    def privacy(self):
        return self.request.find_service(PrivacyService)

    @view_config(name="customer-data", request_method="GET")
    def export(self):
        booking = self.context.booking
        data = self.privacy.export_customer(self.tenant, booking)
        return Response(
            json_body=data, charset="utf-8",
            content_disposition=f'attachment; filename="customer-{booking.reference}.json"')

    @view_config(name="erase-customer", request_method="POST")
    def erase(self):
        count = self.privacy.erase_customer(self.tenant, self.context.booking,
                                            actor_id=self.user.id)
        self.request.session.flash(self.request.translate(_(
            "The customer's personal data is removed from ${count} booking(s).",
            mapping={"count": count})))
        return HTTPSeeOther(self.request.resource_url(self.context))
