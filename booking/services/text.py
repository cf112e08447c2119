"""What counts as single-line text — a name, a phone number, an address —
written once, for the views' form parsers and the services that check
their own input."""

import re

from ..i18n import _

#: Unicode's control characters (category Cc: U+0000–U+001F and
#: U+007F–U+009F, among them NUL, the tab, the line feed and the carriage
#: return) and the line and paragraph separators U+2028 and U+2029. None of
#: them belongs on one line: in an email header a line break ends the header.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def is_one_line(value):
    return _NOT_ONE_LINE.search(value) is None


def one_line_problem(value):
    """Why ``value`` is not single-line text, or ``None``."""
    if is_one_line(value):
        return None
    return _("must be one line, without control characters")


#: Something shaped like an email address, in free text (an SMTP reply).
ADDRESS_IN_TEXT = re.compile(r"[^\s<>\"'(),;:@]+@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")


def without_addresses(text):
    """``text`` with every email address in it masked (``***@example.com``):
    for log lines, which must not carry the addresses of the people we mail."""
    return ADDRESS_IN_TEXT.sub(r"***@\1", str(text))
