"""``/signup``: a business joins the platform. Open to everybody: a visitor
creates their account with it, a signed-in user signs up as themselves."""

from pyramid.authorization import DENY_ALL, Allow, Everyone

from ..security import Permission
from .base import Node


class SignupContext(Node):
    __acl__ = [(Allow, Everyone, Permission.VIEW), DENY_ALL]
