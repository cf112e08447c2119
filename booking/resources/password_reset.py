"""``/reset/{secret}``: the link of a "forgot your password" email. The
secret is the authorization; a used, expired or unknown one is not found."""

from sqlalchemy import select

from ..models import TokenPurpose, UserToken
from ..security import token_digest
from .base import SecretLink

MAX_SECRET_LENGTH = 100


class PasswordResetCollection:
    __acl__ = []

    def __init__(self, parent, name, request):
        self.__parent__ = parent
        self.__name__ = name
        self.request = request

    def __getitem__(self, key):
        if len(key) > MAX_SECRET_LENGTH:
            raise KeyError(key)
        token = self.request.dbsession.scalar(
            select(UserToken).where(
                UserToken.digest == token_digest(key),
                UserToken.purpose == TokenPurpose.PASSWORD_RESET,
            )
        )
        if token is None or not token.usable(self.request.now):
            raise KeyError(key)
        return PasswordResetContext(self, key, token)


class PasswordResetContext(SecretLink):
    @property
    def token(self):
        return self.row
