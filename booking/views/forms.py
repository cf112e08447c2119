"""Small declarative parsers for request input.

A parser is a callable that takes the raw value and returns the clean one or
raises ``ValueError`` with a message; :func:`parse` applies a table of them
and raises :class:`~booking.services.errors.ValidationError` naming the first
bad field. Unknown fields are refused, so a misspelt option is never ignored.
"""

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..services.availability import valid_time_zone
from ..services.errors import DomainError, ValidationError

MIN_YEAR, MAX_YEAR = 2000, 2200


class PayloadTooLarge(DomainError):
    status = 413
    code = "too_large"


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
            raise ValueError("must be an integer")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"must be at most {maximum}")
        return value

    return parse_integer


def string(max_length, min_length=0, strip=True):
    def parse_string(value):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if strip:
            value = value.strip()
        if len(value) < min_length:
            raise ValueError("is required" if min_length == 1 else
                             f"must be at least {min_length} characters long")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters long")
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
        return value

    return parse_string


def instant(value):
    """An ISO 8601 date-time with a UTC offset."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            "must be an ISO 8601 date-time with an offset, e.g. 2026-11-25T09:00:00+01:00"
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("must include a UTC offset, e.g. 2026-11-25T09:00:00+01:00")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return parsed


def day(value):
    """A calendar date, YYYY-MM-DD."""
    if not isinstance(value, str):
        raise ValueError("must be a date, YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be a date, YYYY-MM-DD") from None
    if len(value.strip()) != 10:
        raise ValueError("must be a date, YYYY-MM-DD")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return parsed


def time_zone(value):
    if not isinstance(value, str) or not valid_time_zone(value.strip()):
        raise ValueError("is not a known IANA time zone, e.g. Europe/Paris")
    return ZoneInfo(value.strip())


def parse(data, fields):
    """Apply ``fields`` (``{name: Field}``) to ``data``; return the clean dict."""
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValidationError(
            f"is not a field of this request (expected: {', '.join(sorted(fields))})",
            field=unknown[0],
        )
    clean = {}
    for name, field in fields.items():
        if name not in data or data[name] is None:
            if field.required:
                raise ValidationError("is required", field=name)
            clean[name] = field.default
            continue
        try:
            clean[name] = field.parse(data[name])
        except ValueError as exc:
            raise ValidationError(str(exc), field=name) from None
    return clean


def json_body(request, allow_empty=False):
    """The request's JSON object, or a 4xx that says what is wrong with it.
    ``allow_empty``: an empty body is the empty object."""
    limit = request.environ.get("booking.max_body_bytes", 1024 * 1024)
    raw = request.body_file.read(limit + 1) if request.content_length is None else request.body
    if len(raw) > limit:
        raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
    if not raw.strip():
        if allow_empty:
            return {}
        raise ValidationError("the request body is empty: send a JSON object", field="body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("the request body is not valid UTF-8", field="body") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"the request body is not valid JSON: {exc}", field="body") from None
    except RecursionError:
        raise ValidationError("the request body is nested too deeply", field="body") from None
    if not isinstance(data, dict):
        raise ValidationError("the request body must be a JSON object", field="body")
    return data


def query(request, fields):
    """Parse the query string with ``fields``; a repeated key is refused."""
    params = request.GET
    for key in params:
        if len(params.getall(key)) > 1:
            raise ValidationError("is given more than once", field=key)
    return parse(dict(params), fields)
