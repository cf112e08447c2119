"""The embedded default: each message becomes an ``.eml`` file in a folder
(``booking.mail.folder``), so development needs no mail server. Open one in
a mail client, or read it with :mod:`email`."""

import os
import tempfile
from email import policy

from . import Mailer, MailError


class FolderMailer(Mailer):
    def __init__(self, folder, sender, clock):
        super().__init__(sender, clock)
        self.folder = folder

    def open(self):
        try:
            os.makedirs(self.folder, exist_ok=True)
        except OSError as exc:
            raise MailError(f"cannot create the mail folder {self.folder}: {exc}") from None

    def path_for(self, message):
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%SZ")
        return os.path.join(self.folder, f"{stamp}-{message.id:08d}-{message.kind}.eml")

    def send(self, message):
        self.open()
        data = self.compose(message).as_bytes(policy=policy.SMTP)
        path = self.path_for(message)
        try:
            # Written aside, then renamed: a reader never sees half a file.
            handle, partial = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(partial, path)
        except OSError as exc:
            raise MailError(f"cannot write {path}: {exc}") from None
