"""The owner (and managers) see each member's recent sign-ins in the staff
area's people page; staff and outsiders do not, and another tenant's
members are never found there."""

import pytest
import webtest
from sqlalchemy import select

from booking.models import Membership, Tenant

from .site import sign_in

CLIENT = "198.51.100.4"


def membership_of(world, who, tenant_id=None):
    with world.db.session() as s:
        return s.scalar(select(Membership.id).where(
            Membership.tenant_id == (tenant_id or world.tenant_id),
            Membership.user_id == world.user_ids[who]))


def history_url(world, membership_id):
    return f"/t/{world.slug}/manage/people/history?membership_id={membership_id}"


def staff_signs_in_and_fails_once(app, world):
    device = webtest.TestApp(app, extra_environ={"HTTP_HOST": "booking.test",
                                                 "REMOTE_ADDR": CLIENT})
    form = device.get("/login").forms["login-form"]
    form["email"], form["password"] = world.emails["staff"], "wrong-password-123"
    form.submit(status=400)
    sign_in(device, world.emails["staff"])


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_owner_and_manager_see_a_members_sign_ins(app, testapp, world, who):
    staff_signs_in_and_fails_once(app, world)
    sign_in(testapp, world.emails[who])
    page = testapp.get(history_url(world, membership_of(world, "staff")), status=200)
    rows = page.html.select("table.sign-ins tbody tr")
    assert [row["class"][0] for row in rows] == ["sign-in", "sign-in-failed"]
    assert CLIENT in rows[0].text and "Wrong password" in rows[1].text


def test_history_shows_only_that_member(app, testapp, world):
    staff_signs_in_and_fails_once(app, world)
    sign_in(testapp, world.emails["owner"])
    page = testapp.get(history_url(world, membership_of(world, "manager")), status=200)
    assert [row["class"][0] for row in page.html.select("table.sign-ins tbody tr")] == []
    assert "No sign-in recorded yet." in page.text


def test_people_page_links_to_each_history(testapp, world):
    sign_in(testapp, world.emails["owner"])
    page = testapp.get(f"/t/{world.slug}/manage/people/")
    links = {a["href"] for a in page.html.select("a.history")}
    assert any(link.endswith(f"history?membership_id={membership_of(world, 'staff')}")
               for link in links)


@pytest.mark.parametrize("who", ["staff", "other_venue_staff", "customer",
                                 "other_tenant_owner"])
def test_others_cannot_see_a_history(testapp, world, who):
    sign_in(testapp, world.emails[who])
    testapp.get(history_url(world, membership_of(world, "manager")), status=404)


def test_member_of_another_tenant_is_not_found(app, testapp, world):
    sign_in(testapp, world.emails["owner"])
    rival = membership_of(world, "other_tenant_owner", tenant_id=world_rival_id(world))
    testapp.get(history_url(world, rival), status=404)


def test_history_needs_a_member_id(testapp, world):
    sign_in(testapp, world.emails["owner"])
    testapp.get(f"/t/{world.slug}/manage/people/history", status=404)
    testapp.get(f"/t/{world.slug}/manage/people/history?membership_id=x", status=404)


def world_rival_id(world):
    with world.db.session() as s:
        return s.scalar(select(Tenant.id).where(Tenant.slug == world.other_slug))


def test_history_of_someone_invited_who_has_not_accepted_is_not_found(app, testapp, world):
    staff_signs_in_and_fails_once(app, world)
    membership_id = membership_of(world, "staff")
    with world.db.session() as s:  # the staff member's membership is an invitation again
        s.get(Membership, membership_id).pending = True
    sign_in(testapp, world.emails["owner"])
    testapp.get(history_url(world, membership_id), status=404)
    page = testapp.get(f"/t/{world.slug}/manage/people/")
    assert not any(a["href"].endswith(f"={membership_id}") for a in page.html.select("a.history"))
