"""``/feeds/{secret}.ics``: private calendar feeds. Possession of the
secret is the authorization (calendar apps send no cookies), so the
context allows ``view`` to everybody; an unknown or revoked secret, or a
suspended tenant, is not found."""

from sqlalchemy import select

from ..models import CalendarFeed
from ..security import token_digest
from .base import SecretLink

FEED_SUFFIX = ".ics"


class FeedCollection:
    __acl__ = []

    def __init__(self, parent, name, request):
        self.__parent__ = parent
        self.__name__ = name
        self.request = request

    def __getitem__(self, key):
        if not key.endswith(FEED_SUFFIX) or len(key) > 100:
            raise KeyError(key)
        feed = self.request.dbsession.scalar(
            select(CalendarFeed).where(
                CalendarFeed.digest == token_digest(key.removesuffix(FEED_SUFFIX)),
                CalendarFeed.revoked_at.is_(None),
            )
        )
        if feed is None or not feed.venue.tenant.is_active:
            raise KeyError(key)
        return FeedContext(self, key, feed)


class FeedContext(SecretLink):
    @property
    def feed(self):
        return self.row
