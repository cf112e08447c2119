"""Sign in and out of the site (session cookie)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config
from sqlalchemy import select

from ..models import User, normalize_email
from ..passwords import burn_verification, verify_password
from ..resources import Root


def safe_next(request, value):
    """Only redirect within this site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return request.resource_url(request.root)


@view_config(context=Root, name="login", renderer="account/login.jinja2",
             permission=NO_PERMISSION_REQUIRED)
def login(context, request):
    next_url = safe_next(request, request.params.get("next"))
    email = ""
    error = None
    if request.method == "POST":
        email = request.POST.get("email", "")[:254]
        password = request.POST.get("password", "")[:1024]
        user = request.dbsession.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            burn_verification(password)
            ok = False
        else:
            ok, new_hash = verify_password(password, user.password_hash)
            if ok and new_hash:
                user.password_hash = new_hash
        if ok:
            headers = remember(request, user.id)
            return HTTPSeeOther(next_url, headers=headers)
        error = "The email or the password is wrong."
        request.response.status_int = 400
    return {"next": next_url, "email": email, "error": error}


@view_config(context=Root, name="logout", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def logout(context, request):
    headers = forget(request)
    return HTTPSeeOther(request.resource_url(request.root), headers=headers)
