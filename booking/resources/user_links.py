"""Links emailed to a user that carry a single-use secret:
``/invitations/{secret}`` (an invited member sets a first password) and
``/reset/{secret}`` ("forgot your password") and ``/confirm/{secret}`` (a
new account's address); ``/unsubscribe/{secret}`` (no more offers from a
business, not single-use: unsubscribing twice is harmless). The secret is the
authorization; a used, expired or unknown one is not found."""

from sqlalchemy import select

from ..models import TokenPurpose, UserToken
from ..security import token_digest
from ..services.marketing import recipient_by_secret
from .base import SecretLink

MAX_SECRET_LENGTH = 100


class UserTokenContext(SecretLink):
    @property
    def token(self):
        return self.row


class InvitationContext(UserTokenContext):
    pass


class PasswordResetContext(UserTokenContext):
    pass


class EmailConfirmationContext(UserTokenContext):
    pass


class UserTokenCollection:
    """The usable tokens of one purpose, by secret."""

    __acl__ = []
    purpose = None
    context = None

    def __init__(self, parent, name, request):
        self.__parent__ = parent
        self.__name__ = name
        self.request = request

    def __getitem__(self, key):
        if len(key) > MAX_SECRET_LENGTH:
            raise KeyError(key)
        token = self.request.dbsession.scalar(
            select(UserToken).where(UserToken.digest == token_digest(key),
                                    UserToken.purpose == self.purpose)
        )
        if token is None or not token.usable(self.request.now):
            raise KeyError(key)
        return self.context(self, key, token)


class InvitationCollection(UserTokenCollection):
    purpose, context = TokenPurpose.INVITATION, InvitationContext


class PasswordResetCollection(UserTokenCollection):
    purpose, context = TokenPurpose.PASSWORD_RESET, PasswordResetContext


class EmailConfirmationCollection(UserTokenCollection):
    purpose, context = TokenPurpose.EMAIL_CONFIRMATION, EmailConfirmationContext


class UnsubscribeContext(SecretLink):
    """The unsubscribe link of one recipient of an offer email."""

    @property
    def recipient(self):
        return self.row


class UnsubscribeCollection(UserTokenCollection):
    """The recipients of offer emails, by the secret of their link."""

    def __getitem__(self, key):
        recipient = recipient_by_secret(self.request.dbsession, key)
        if recipient is None:
            raise KeyError(key)
        return UnsubscribeContext(self, key, recipient)
