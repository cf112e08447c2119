"""Small declarative parsers for request input.

A parser is a callable that takes the raw value and returns the clean one or
raises ``ValueError`` with a message; :func:`parse` applies a table of them
and raises :class:`~booking.services.errors.ValidationError` naming the first
bad field. Unknown fields are refused, so a misspelt option is never ignored.
"""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..services.slots import valid_time_zone
from ..i18n import _
from ..services.errors import PayloadTooLarge, ValidationError
from ..services.text import one_line_problem

MIN_YEAR, MAX_YEAR = 2000, 2200


class Field:
    def __init__(self, parse, required=True, default=None):
        self.parse = parse
        self.required = required
        self.default = default


def optional(parser, default=None):
    return Field(parser, required=False, default=default)


#: The largest value an integer column holds on every database we support.
MAX_INT = 2**31 - 1


def integer(minimum=None, maximum=MAX_INT, from_text=False):
    """An integer; ``from_text`` accepts its decimal text (query strings)."""

    def parse_integer(value):
        if from_text and isinstance(value, str):
            digits = value.strip().removeprefix("-")
            if digits.isascii() and digits.isdigit() and len(digits) < 19:
                value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(_("must be an integer"))
        if minimum is not None and value < minimum:
            raise ValueError(_("must be at least ${minimum}", mapping={"minimum": minimum}))
        if maximum is not None and value > maximum:
            raise ValueError(_("must be at most ${maximum}", mapping={"maximum": maximum}))
        return value

    return parse_integer


def string(max_length, min_length=0, strip=True):
    def parse_string(value):
        if not isinstance(value, str):
            raise ValueError(_("must be a string"))
        if strip:
            value = value.strip()
        if len(value) < min_length:
            raise ValueError(_("is required") if min_length == 1 else
                             _("must be at least ${min_length} characters long",
                               mapping={"min_length": min_length}))
        if len(value) > max_length:
            raise ValueError(_("must be at most ${max_length} characters long",
                               mapping={"max_length": max_length}))
        if "\x00" in value:
            raise ValueError(_("must not contain NUL characters"))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(_("must be valid Unicode text")) from None
        return value

    return parse_string


def line(max_length, min_length=0):
    """Single-line text (a name, a phone number): :func:`string`, refusing
    control characters and line separators
    (:func:`booking.services.text.one_line_problem`)."""
    parse_string = string(max_length, min_length)

    def parse_line(value):
        value = parse_string(value)
        problem = one_line_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    return parse_line


def instant(value):
    """An ISO 8601 (RFC 3339) date-time with a UTC offset; RFC 3339 lets
    the ``T`` and ``Z`` be lowercase."""
    if not isinstance(value, str):
        raise ValueError(_("must be an ISO 8601 date-time string"))
    value = value.strip()
    if value.endswith("z"):
        value = value[:-1] + "Z"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(_(
            "must be an ISO 8601 date-time with an offset, e.g. 2026-11-25T09:00:00+01:00"
        )) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(_("must include a UTC offset, e.g. 2026-11-25T09:00:00+01:00"))
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(_("must be between the years ${first} and ${last}",
                           mapping={"first": MIN_YEAR, "last": MAX_YEAR}))
    return parsed


def day(value):
    """A calendar date, YYYY-MM-DD."""
    if not isinstance(value, str):
        raise ValueError(_("must be a date, YYYY-MM-DD"))
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(_("must be a date, YYYY-MM-DD")) from None
    if len(value.strip()) != 10:
        raise ValueError(_("must be a date, YYYY-MM-DD"))
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(_("must be between the years ${first} and ${last}",
                           mapping={"first": MIN_YEAR, "last": MAX_YEAR}))
    return parsed


def time_zone(value):
    if not isinstance(value, str) or not valid_time_zone(value.strip()):
        raise ValueError(_("is not a known IANA time zone, e.g. Europe/Paris"))
    return ZoneInfo(value.strip())


def parse(data, fields):
    """Apply ``fields`` (``{name: Field}``) to ``data``; return the clean dict."""
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValidationError(
            _("is not a field of this request (expected: ${fields})",
              mapping={"fields": ", ".join(sorted(fields))}),
            field=unknown[0],
        )
    clean = {}
    for name, field in fields.items():
        if name not in data or data[name] is None:
            if field.required:
                raise ValidationError(_("is required"), field=name)
            clean[name] = field.default
            continue
        try:
            clean[name] = field.parse(data[name])
        except ValueError as exc:
            raise ValidationError(exc.args[0], field=name) from None
    return clean


def json_body(request, allow_empty=False):
    """The request's JSON object, or a 4xx that says what is wrong with it.
    ``allow_empty``: an empty body is the empty object."""
    limit = request.environ.get("booking.max_body_bytes", 1024 * 1024)
    raw = request.body_file.read(limit + 1) if request.content_length is None else request.body
    if len(raw) > limit:
        raise PayloadTooLarge(_("the request body is larger than ${limit} bytes",
                                 mapping={"limit": limit}))
    if not raw.strip():
        if allow_empty:
            return {}
        raise ValidationError(_("the request body is empty: send a JSON object"), field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(_("the request body is not valid UTF-8"), field="body") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError(_("the request body is not valid JSON: ${problem}",
                                mapping={"problem": str(exc)}), field="body") from None
    except RecursionError:
        raise ValidationError(_("the request body is nested too deeply"), field="body") from None
    if not isinstance(data, dict):
        raise ValidationError(_("the request body must be a JSON object"), field="body")
    return data


def query(request, fields):
    """Parse the query string with ``fields``; a repeated key is refused."""
    params = request.GET
    for key in params:
        if len(params.getall(key)) > 1:
            raise ValidationError(_("is given more than once"), field=key)
    return parse(dict(params), fields)


def parse_form(data, fields):
    """Like :func:`parse`, for HTML forms: unknown fields (the CSRF token,
    buttons) are ignored and every bad field is reported, as
    ``(clean, {field: message})``, so the form can be shown again with all
    its messages and the visitor's input."""
    clean, errors = {}, {}
    for name, field in fields.items():
        value = data.get(name)
        if not isinstance(value, str) and value is not None:
            errors[name] = _("must be text")
            continue
        if value is None or value.strip() == "":
            if field.required:
                errors[name] = _("is required")
            clean[name] = field.default
            continue
        try:
            clean[name] = field.parse(value)
        except ValueError as exc:
            errors[name] = exc.args[0]
    return clean, errors
