"""Distances and bounding boxes of "near me", the cache key, the retry
delay: pure functions, checked against known coordinates."""

import math
from datetime import timedelta

import pytest

from booking.adapters.maps import Place
from booking.services.geocoding import (bounding_box, bounding_boxes, distance_km,
                                        normalize_query, retry_delay)

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)
NEW_YORK = (40.7128, -74.0060)
SYDNEY = (-33.8688, 151.2093)


def destination(lat, lon, bearing_deg, km):
    """The point ``km`` away from (lat, lon) along ``bearing_deg``."""
    angle, bearing = km / 6371.0088, math.radians(bearing_deg)
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    phi2 = math.asin(math.sin(phi1) * math.cos(angle)
                     + math.cos(phi1) * math.sin(angle) * math.cos(bearing))
    lambda2 = lambda1 + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(phi1),
                                   math.cos(angle) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lambda2) + 540) % 360 - 180


def inside(boxes, lat, lon, slack=1e-9):
    return any(min_lat - slack <= lat <= max_lat + slack
               and min_lon - slack <= lon <= max_lon + slack
               for min_lat, max_lat, min_lon, max_lon in boxes)


class TestDistance:
    @pytest.mark.parametrize("a,b,km", [
        (PARIS, LONDON, 343.5), (PARIS, NEW_YORK, 5837.2), (NEW_YORK, SYDNEY, 15988.6),
    ], ids=["paris-london", "paris-new-york", "new-york-sydney"])
    def test_known_distances(self, a, b, km):
        assert distance_km(*a, *b) == pytest.approx(km, abs=1)

    def test_is_symmetric(self):
        assert distance_km(*PARIS, *SYDNEY) == pytest.approx(distance_km(*SYDNEY, *PARIS))

    def test_same_point_is_zero(self):
        assert distance_km(*PARIS, *PARIS) == 0

    def test_across_the_antimeridian_is_short(self):
        assert distance_km(0, 179.9, 0, -179.9) == pytest.approx(22.24, abs=0.01)

    def test_antipodes_are_half_the_circumference(self):
        assert distance_km(10, 20, -10, -160) == pytest.approx(math.pi * 6371.0088)

    def test_orders_venues_by_distance(self):
        venues = {"london": LONDON, "new york": NEW_YORK, "sydney": SYDNEY, "paris": PARIS}
        by_distance = sorted(venues, key=lambda name: distance_km(*PARIS, *venues[name]))
        assert by_distance == ["paris", "london", "new york", "sydney"]


class TestBoundingBox:
    @pytest.mark.parametrize("centre,radius", [
        (PARIS, 10), (PARIS, 500), (SYDNEY, 50), ((0, 179.95), 30), ((0, -179.95), 30),
        ((-60, 0), 1000), ((89.5, 30), 20), ((-89.9, 0), 50),
    ], ids=["paris-10", "paris-500", "sydney", "east-edge", "west-edge", "far-south",
            "north-pole", "south-pole"])
    def test_holds_every_point_of_the_circle(self, centre, radius):
        boxes = bounding_boxes(*centre, radius)
        for bearing in range(0, 360, 5):
            assert inside(boxes, *destination(*centre, bearing, radius * 0.999)), bearing

    def test_excludes_points_well_outside(self):
        boxes = bounding_boxes(*PARIS, 10)
        assert not inside(boxes, *LONDON)
        assert not inside(boxes, *destination(*PARIS, 0, 15))

    def test_near_a_pole_takes_every_longitude(self):
        min_lat, max_lat, min_lon, max_lon = bounding_box(89.9, 10, 50)
        assert (max_lat, min_lon, max_lon) == (90.0, -180.0, 180.0)

    def test_across_the_antimeridian_wraps_and_splits_in_two(self):
        min_lat, max_lat, min_lon, max_lon = bounding_box(0, 179.9, 50)
        assert min_lon > max_lon
        assert [box[2:] for box in bounding_boxes(0, 179.9, 50)] == [
            (min_lon, 180.0), (-180.0, max_lon)]

    def test_is_one_box_elsewhere(self):
        assert len(bounding_boxes(*PARIS, 100)) == 1


class TestHelpers:
    def test_query_ignores_case_and_whitespace(self):
        assert normalize_query("  1  RUE de\tRivoli,\nParis ") == "1 rue de rivoli, paris"

    @pytest.mark.parametrize("attempts,delay", [
        (1, timedelta(minutes=5)), (2, timedelta(minutes=10)), (4, timedelta(minutes=40)),
        (20, timedelta(days=1)),
    ])
    def test_retry_delay_doubles_up_to_a_day(self, attempts, delay):
        assert retry_delay(attempts) == delay

    @pytest.mark.parametrize("lat,lon", [(90.5, 0.0), (0.0, -181.0), (math.nan, 0.0)])
    def test_place_refuses_impossible_coordinates(self, lat, lon):
        with pytest.raises(ValueError):
            Place(lat, lon, "")
