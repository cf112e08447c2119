"""Services that check their own input refuse names and phone numbers of
more than one line with the field named, by the rule of the views' ``line``
parser (``booking.services.text``): whoever calls them, nothing of more
than one line is stored."""

from datetime import UTC, datetime

import pytest

from booking.services.customers import walk_in_contact
from booking.services.errors import ValidationError

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize("name, phone, field", [
    ("Walk\nIn", "", "name"), ("Walk\x07In", "", "name"),
    ("Walk In", "0600\r\nBcc: x@example.test", "phone"), ("Walk In", "06\u20280", "phone"),
], ids=["name-lf", "name-bell", "phone-crlf", "phone-line-separator"])
def test_customer_of_more_than_one_line_is_refused_before_the_database(name, phone, field):
    with pytest.raises(ValidationError) as exc_info:
        walk_in_contact("walk.in@example.test", name, phone)
    assert exc_info.value.field == field
    assert "must be one line" in exc_info.value.message.interpolate()
