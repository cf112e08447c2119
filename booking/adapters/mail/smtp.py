"""Send through an SMTP server with :mod:`smtplib`: plain, STARTTLS or
implicit TLS (``booking.mail.security``), optional login. One connection is
opened per worker pass and reused; after an error it is dropped and the next
message connects again. Credentials never appear in logs or stored errors."""

import logging
import smtplib
import socket
import ssl

from . import Mailer, MailError, PermanentMailError

log = logging.getLogger(__name__)


class SmtpMailer(Mailer):
    def __init__(self, *, host, port, sender, clock, security="none", username="",
                 password="", timeout=30, ssl_context=None):
        super().__init__(sender, clock)
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self._password = username, password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.connection = None

    @classmethod
    def from_settings(cls, settings, clock):
        return cls(
            host=settings["booking.mail.host"], port=settings["booking.mail.port"],
            sender=settings["booking.mail.sender"], clock=clock,
            security=settings["booking.mail.security"],
            username=settings["booking.mail.username"],
            password=settings["booking.mail.password"],
            timeout=settings["booking.mail.timeout"],
        )

    def __repr__(self):
        return f"<SmtpMailer {self.security} {self.host}:{self.port} user={self.username!r}>"

    def open(self):
        if self.connection is not None:
            return
        try:
            self.connection = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(self._describe(exc, "connecting to")) from None
        log.debug("connected to %s:%s (%s)", self.host, self.port, self.security)

    def _connect(self):
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                          context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            connection.ehlo()
            if self.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if self.username:
                connection.login(self.username, self._password)
        except BaseException:
            connection.close()
            raise
        return connection

    def send(self, message):
        self.open()
        email = self.compose(message)
        try:
            refused = self.connection.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            self._reset()
            code, reply = next(iter(exc.recipients.values()))
            raise self._reply_error(code, reply, "refused the recipient") from None
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            self._reset()
            raise self._reply_error(exc.smtp_code, exc.smtp_error, "refused the message") from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise MailError(self._describe(exc, "sending through")) from None
        if refused:
            raise MailError(f"{self.host}:{self.port} refused {', '.join(refused)}")

    def close(self):
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()

    def _reset(self):
        """After a refusal the session is still usable; start a fresh transaction."""
        try:
            self.connection.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def _reply_error(self, code, reply, what):
        if isinstance(reply, bytes):
            reply = reply.decode("utf-8", "replace")
        text = self._scrub(f"{self.host}:{self.port} {what}: {code} {reply}")
        return PermanentMailError(text) if 500 <= code < 600 else MailError(text)

    def _describe(self, exc, doing):
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            reason = f"authentication failed ({exc.smtp_code})"
        elif isinstance(exc, socket.timeout):
            reason = f"timed out after {self.timeout} s"
        else:
            reason = str(exc) or type(exc).__name__
        return self._scrub(f"{doing} {self.host}:{self.port}: {type(exc).__name__}: {reason}")

    def _scrub(self, text):
        if self._password:
            text = text.replace(self._password, "***")
        return text[:900]
