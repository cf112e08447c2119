"""Signed-in browsers: a ``user_sessions`` row each, opened at sign-in,
ended at sign-out, from "My account → Security", by "sign out everywhere",
or by a password change or reset (``user_tokens.end_sessions``). The
security policy accepts a cookie only while its row is live."""

import re

from sqlalchemy import select, update

from ..models import UserSession
from ..security import SESSION_IDLE, new_session
from .security_log import Event, SecurityLog
from .user_tokens import end_sessions

#: (pattern, name) in the order to try them: Edge and Opera say "Chrome"
#: too, Chrome says "Safari" too.
BROWSERS = ((r"Edg/", "Edge"), (r"OPR/|Opera", "Opera"), (r"Firefox/|FxiOS/", "Firefox"),
            (r"Chrome/|CriOS/|Chromium/", "Chrome"), (r"Safari/", "Safari"))
SYSTEMS = ((r"Android", "Android"), (r"iPhone|iPad|iPod", "iOS"), (r"Windows", "Windows"),
           (r"Mac OS X|Macintosh", "macOS"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux"))


def device_name(user_agent):
    """``Firefox · Linux`` from a User-Agent; ``""`` when nothing is known."""
    user_agent = user_agent or ""
    browser = next((name for pattern, name in BROWSERS if re.search(pattern, user_agent)), "")
    system = next((name for pattern, name in SYSTEMS if re.search(pattern, user_agent)), "")
    return " · ".join(part for part in (browser, system) if part)


class SessionService:
    def __init__(self, dbsession, now):
        self.dbsession = dbsession
        self.now = now
        self.security_log = SecurityLog(dbsession, now)

    def start(self, user, user_agent):
        """Open a session for ``user`` in the browser of ``user_agent``;
        return the secret its signed cookie carries."""
        return new_session(self.dbsession, user, self.now, device_name(user_agent))

    def sign_out(self, user_id, session_id, client_addr):
        """The browser of session ``session_id`` signs out: its row ends."""
        self._end(user_id, session_id)
        self.security_log.record(Event.SIGN_OUT, user_id=user_id, client_addr=client_addr,
                                 session_id=session_id)

    def end(self, user, session_id, client_addr):
        """End ``user``'s session ``session_id`` (from the list of their
        sessions). False when it is not theirs or not live."""
        if not self._end(user.id, session_id):
            return False
        self.security_log.record(Event.SESSION_ENDED, user_id=user.id, client_addr=client_addr,
                                 session_id=session_id)
        return True

    def sign_out_everywhere(self, user, client_addr):
        """End every session of ``user``, this one included, and revoke
        every API token of theirs."""
        ended = end_sessions(self.dbsession, user, self.now)
        self.security_log.record(Event.SIGN_OUT_EVERYWHERE, user_id=user.id,
                                 client_addr=client_addr, **ended)

    def live_sessions(self, user):
        """``user``'s sessions not ended nor idle too long, latest used first."""
        return self.dbsession.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None),
                   UserSession.last_seen_at > self.now - SESSION_IDLE)
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        ).all()

    def _end(self, user_id, session_id):
        return self.dbsession.execute(
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.user_id == user_id,
                   UserSession.ended_at.is_(None))
            .values(ended_at=self.now)
            .execution_options(synchronize_session=False)
        ).rowcount > 0
