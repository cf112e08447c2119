"""iCalendar (RFC 5545) for bookings: the "add to calendar" download, the
email attachments and the staff feeds share this one writer."""

from datetime import UTC

PRODUCT_ID = "-//Booking//Booking 0.1//EN"


def escape(text):
    """TEXT value escaping (RFC 5545 §3.3.11)."""
    return (str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line):
    """Fold a content line into chunks of at most 75 octets (§3.1)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not parts else 74):
            parts.append(current)
            current, size = "", 0
        current += char
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def stamp(instant):
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def booking_uid(booking, tenant):
    return f"booking-{tenant.slug}-{booking.id}@booking"


def feed_uid(tenant, booking_id):
    """The UID of a booking in the staff feeds: stable, and distinct from the
    customer's own copy (:func:`booking_uid`), so the two never merge."""
    return f"booking-{tenant.slug}-{booking_id}-staff@booking"


def event(uid, now, start, end, sequence, summary, location, description, status):
    """A VEVENT; ``status`` is CONFIRMED, TENTATIVE or CANCELLED."""
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{stamp(now)}",
        f"DTSTART:{stamp(start)}",
        f"DTEND:{stamp(end)}",
        f"SEQUENCE:{sequence}",
        f"SUMMARY:{escape(summary)}",
        f"LOCATION:{escape(location)}",
        f"DESCRIPTION:{escape(description)}",
        f"STATUS:{status}",
        "END:VEVENT",
    ]


def booking_event(booking, tenant, now, summary, location, description):
    status = "CANCELLED" if booking.status == "cancelled" else "CONFIRMED"
    return event(booking_uid(booking, tenant), now, booking.starts_at, booking.ends_at,
                 booking.sequence, summary, location, description, status)


def calendar(events, method="PUBLISH", name=None):
    """A VCALENDAR around ``events`` (lists of lines), CRLF-terminated."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT_ID}", "CALSCALE:GREGORIAN",
             f"METHOD:{method}"]
    if name:
        lines.append(f"X-WR-CALNAME:{escape(name)}")
    for event in events:
        lines += event
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
