"""``/invitations/{secret}``: the link an invited member follows to set a
first password. The secret is the authorization; a used, expired or
unknown one is not found."""

from sqlalchemy import select

from ..models import TokenPurpose, UserToken
from ..security import token_digest
from .base import SecretLink


class InvitationCollection:
    __acl__ = []

    def __init__(self, parent, name, request):
        self.__parent__ = parent
        self.__name__ = name
        self.request = request

    def __getitem__(self, key):
        if len(key) > 100:
            raise KeyError(key)
        token = self.request.dbsession.scalar(
            select(UserToken).where(
                UserToken.digest == token_digest(key),
                UserToken.purpose == TokenPurpose.INVITATION,
            )
        )
        if token is None or not token.usable(self.request.now):
            raise KeyError(key)
        return InvitationContext(self, key, token)


class InvitationContext(SecretLink):
    @property
    def token(self):
        return self.row
