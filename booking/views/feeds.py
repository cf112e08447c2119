"""``/feeds/{secret}.ics``: a private calendar feed, for calendar apps to
subscribe to. The secret in the address is the authorization (see
``booking.resources.feeds``); calendar apps poll, so the answer may be kept
for five minutes by the client, never by a shared cache."""

from pyramid.response import Response
from pyramid.view import view_config

from ..resources import FeedContext
from ..security import Permission
from ..services.feeds import FeedService

MAX_AGE_SECONDS = 300


@view_config(context=FeedContext, request_method="GET", permission=Permission.VIEW)
def calendar_feed(context, request):
    body = request.find_service(FeedService).calendar(context.feed, request.translate)
    response = Response(body=body.encode("utf-8"), content_type="text/calendar",
                        charset="utf-8")
    response.headers["Cache-Control"] = f"private, max-age={MAX_AGE_SECONDS}"
    return response
