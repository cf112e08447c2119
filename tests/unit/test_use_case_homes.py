"""A booking use case has one home, :class:`BookingActions`: no view reaches
below it to the guard's steps (``BookingService``, ``FrontDesk``) or to the
payment service, but the provider's webhook, whose home is
``PaymentService.handle_event``."""

import ast
from pathlib import Path

import booking

VIEWS = Path(booking.__file__).parent / "views"
#: The services below the use cases, and the view modules allowed each.
BELOW_THE_USE_CASES = {
    "BookingService": (),
    "FrontDesk": (),
    "PaymentService": ("api/payments.py",),
}


def names_used(source):
    """Every name imported or read in ``source``, with its line."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr


def offences(path, source):
    relative = path.relative_to(VIEWS).as_posix()
    return sorted({f"{relative}:{line} uses {name}"
                   for line, name in names_used(source)
                   if name in BELOW_THE_USE_CASES
                   and relative not in BELOW_THE_USE_CASES[name]})


def test_detector_finds_a_view_calling_the_guard():
    planted = ("from ..services import BookingService\n"
               "def cancel(request):\n"
               "    request.find_service(BookingService).cancel()\n")
    assert offences(VIEWS / "planted.py", planted) == [
        "planted.py:1 uses BookingService", "planted.py:3 uses BookingService"]


def test_views_change_bookings_only_through_booking_actions():
    found = [offence for path in sorted(VIEWS.rglob("*.py"))
             for offence in offences(path, path.read_text(encoding="utf-8"))]
    assert found == []
