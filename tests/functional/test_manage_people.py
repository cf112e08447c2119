"""The team in the staff area: the list, invitations (existing and new
people, the single-use link sent by email and never shown to the inviter),
role changes, removal (and the feeds it revokes), the last-owner rule and
who may do what."""

import re
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from booking.models import (
    AuditLog,
    CalendarFeed,
    Membership,
    OutboxMessage,
    Role,
    Tenant,
    TokenPurpose,
    User,
    UserToken,
)
from booking.passwords import UNUSABLE_PASSWORD, verify_password
from booking.security import token_digest

from .. import builders as b
from .site import form_by_action, sign_in


def people_url(world):
    return f"/t/{world.slug}/manage/people/"


def people_page(testapp, world, who="owner"):
    sign_in(testapp, world.emails[who])
    return testapp.get(people_url(world))


def membership_of(world, who=None, user_id=None):
    with world.db.session() as s:
        return s.scalar(select(Membership.id).where(
            Membership.tenant_id == world.tenant_id,
            Membership.user_id == (user_id or world.user_ids[who])))


def user_id(world, email):
    with world.db.session() as s:
        return s.scalar(select(User.id).where(User.email == email))


def membership_row(world, membership_id):
    with world.db.session() as s:
        row = s.get(Membership, membership_id)
        return None if row is None else (row.role, row.venue_id)


def row_form(page, ending, membership_id):
    for form in page.forms.values():
        if form.action.endswith(ending) and form.fields.get("membership_id") and \
                form["membership_id"].value == str(membership_id):
            return form
    raise AssertionError(f"no {ending} form for membership {membership_id}")


def audit_actions(world):
    with world.db.session() as s:
        return [(row.action, row.details) for row in s.scalars(
            select(AuditLog).where(AuditLog.tenant_id == world.tenant_id,
                                   AuditLog.target_type == "membership").order_by(AuditLog.id))]


def invite(page, email, role="staff", venue_id=""):
    form = form_by_action(page, "/people/invite")
    form["email"], form["role"], form["venue_id"] = email, role, str(venue_id)
    return form


def invitations(world, email):
    """The staff invitations queued for ``email``, oldest first."""
    with world.db.session() as s:
        return s.execute(select(
            OutboxMessage.tenant_id, OutboxMessage.body_text, OutboxMessage.body_html,
        ).where(
            OutboxMessage.kind == "staff.invitation", OutboxMessage.recipient == email,
        ).order_by(OutboxMessage.id)).all()


def emailed_link(world, email):
    """The link of the last invitation emailed to ``email``."""
    rows = invitations(world, email)
    assert rows, f"no invitation emailed to {email}"
    match = re.search(r"https?://\S+", rows[-1].body_text)
    return match.group(0)


def invitation_path(world, email="new@example.test"):
    path = urlparse(emailed_link(world, email)).path
    assert path.startswith("/invitations/")
    return path


def invited(testapp, world, email="new@example.test", role="staff", venue_id=""):
    """The owner invites ``email``; returns the page the invitation leads to."""
    return invite(people_page(testapp, world), email, role, venue_id).submit(
        status=303).follow()


def csrf(page):
    return page.forms[0]["csrf_token"].value


class TestList:
    def test_owner_sees_members_with_role_and_scope(self, testapp, world):
        page = people_page(testapp, world)
        staff_row = page.html.select_one(f"tr[data-membership='{membership_of(world, 'staff')}']")
        assert world.emails["staff"] in staff_row.text
        assert staff_row.select_one(".role").get_text() == "Staff"
        assert staff_row.select_one(".scope").get_text() == "Centre"
        assert len(page.html.select("tbody tr[data-membership]")) == 4
        assert world.emails["other_tenant_owner"] not in page.text
        assert form_by_action(page, "/people/invite")

    def test_manager_sees_the_list_without_forms(self, testapp, world):
        page = people_page(testapp, world, "manager")
        assert world.emails["owner"] in page.text
        assert not [f for f in page.forms.values() if "/people/" in f.action]

    @pytest.mark.parametrize("who", ["staff", "other_venue_staff", "customer",
                                     "other_tenant_owner"])
    def test_others_get_not_found(self, testapp, world, who):
        sign_in(testapp, world.emails[who])
        testapp.get(people_url(world), status=404)

    def test_staff_cannot_post_either(self, testapp, world):
        sign_in(testapp, world.emails["staff"])
        token = csrf(testapp.get(f"/t/{world.slug}/manage/"))
        testapp.post(people_url(world) + "invite",
                     {"csrf_token": token, "email": "x@example.test", "role": "owner"}, status=404)


INVITED_FLASH = "We emailed an invitation to"


def member_state(world, who):
    """``(role, venue_id, pending)`` of ``who``'s membership here, or ``None``."""
    with world.db.session() as s:
        row = s.scalar(select(Membership).where(Membership.tenant_id == world.tenant_id,
                                                Membership.user_id == world.user_ids[who]))
        return None if row is None else (row.role, row.venue_id, row.pending)


class TestInviteExistingUser:
    def test_existing_user_is_invited_not_made_a_member(self, testapp, world):
        page = invite(people_page(testapp, world), world.emails["customer"].upper(),
                      "staff", world.other_venue_id).submit(status=303).follow()
        assert INVITED_FLASH in page.text
        assert member_state(world, "customer") == ("staff", world.other_venue_id, True)
        assert audit_actions(world)[-1] == ("membership.invited", {
            "email": world.emails["customer"], "role": "staff",
            "venue_id": world.other_venue_id})
        testapp.reset()
        sign_in(testapp, world.emails["customer"])
        testapp.get(f"/t/{world.slug}/manage/", status=404)  # no role before accepting

    def test_existing_user_is_emailed_a_link_to_my_account_without_secret(
            self, testapp, world):
        invited(testapp, world, world.emails["customer"])
        (message,) = invitations(world, world.emails["customer"])
        assert message.tenant_id == world.tenant_id
        assert urlparse(emailed_link(world, world.emails["customer"])).path == "/account/"
        assert "/invitations/" not in message.body_text + message.body_html
        with world.db.session() as s:
            assert s.scalar(select(UserToken.id)) is None

    def test_invitee_accepts_from_my_account_and_joins(self, testapp, world):
        invited(testapp, world, world.emails["customer"], "manager")
        testapp.reset()
        sign_in(testapp, world.emails["customer"])
        account = testapp.get("/account/")
        assert "invites you to join its team" in account.text
        form = form_by_action(account, "/account/invitation")
        response = form.submit("answer", value="accept", status=303)
        assert urlparse(response.location).path == f"/t/{world.slug}/manage/"
        assert member_state(world, "customer") == ("manager", None, False)
        assert audit_actions(world)[-1][0] == "membership.accepted"
        testapp.get(f"/t/{world.slug}/manage/")

    def test_invitee_declines_and_is_not_a_member(self, testapp, world):
        invited(testapp, world, world.emails["customer"])
        testapp.reset()
        sign_in(testapp, world.emails["customer"])
        form = form_by_action(testapp.get("/account/"), "/account/invitation")
        form.submit("answer", value="decline", status=303)
        assert member_state(world, "customer") is None
        assert audit_actions(world)[-1][0] == "membership.declined"

    def test_nobody_else_answers_an_invitation(self, testapp, world):
        invited(testapp, world, world.emails["customer"])
        membership_id = membership_of(world, "customer")
        testapp.reset()
        sign_in(testapp, world.emails["other_customer"])
        token = csrf(testapp.get("/account/"))
        testapp.post("/account/invitation", {"csrf_token": token, "membership": membership_id,
                                             "answer": "accept"}, status=404)
        assert member_state(world, "customer")[2] is True

    @pytest.mark.parametrize("address", ["customer", "new", "walk_in"])
    def test_flash_and_people_page_say_the_same_for_every_address(self, testapp, world,
                                                                   address):
        """Whether the address has an account, a password, or neither."""
        with world.db.session() as s:
            s.add(User(email="walkin@example.test", name="Walk In",
                       password_hash=UNUSABLE_PASSWORD, created_at=b.EPOCH))
        email = {"customer": world.emails["customer"], "new": "new@example.test",
                 "walk_in": "walkin@example.test"}[address]
        page = invited(testapp, world, email)
        flash = page.html.select_one(".flash").text.replace(email, "EMAIL")
        assert flash == ("We emailed an invitation to EMAIL: they join the team once they "
                         "accept it.")
        row = next(tr for tr in page.html.select("tr[data-membership]")
                   if tr.select_one("td").text == email)
        assert row.select_one("th").get_text(" ", strip=True) == "— (invited)"

    def test_existing_member_is_a_conflict(self, testapp, world):
        page = invite(people_page(testapp, world), world.emails["manager"], "owner").submit(
            status=409)
        assert "is already a member of this team, or invited" in page.text
        assert membership_row(world, membership_of(world, "manager")) == ("manager", None)
        assert audit_actions(world) == []
        assert invitations(world, world.emails["manager"]) == []

    def test_member_of_another_tenant_can_be_invited_to_this_one(self, testapp, world):
        invite(people_page(testapp, world), world.emails["other_tenant_owner"],
               "manager").submit(status=303)
        assert member_state(world, "other_tenant_owner") == ("manager", None, True)


class TestInviteBadInput:
    @pytest.mark.parametrize("email, role, venue, field, message", [
        ("not-an-email", "staff", "", "email", "is not an email address"),
        ("", "staff", "", "email", "is required"),
        ("new@example.test", "boss", "", "role", "must be owner, manager or staff"),
        ("new@example.test", "manager", "venue", "venue_id",
         "only staff can be limited to one venue"),
        ("new@example.test", "staff", "rival", "venue_id", "is not a venue of this business"),
        ("new@example.test", "staff", "abc", "venue_id", "must be an integer"),
    ])
    def test_bad_invitation_is_400_and_nothing_written(self, testapp, world, email, role,
                                                       venue, field, message):
        page = people_page(testapp, world)
        token = csrf(page)
        venue_id = {"venue": world.venue_id, "rival": world.rival_venue_id}.get(venue, venue)
        page = testapp.post(people_url(world) + "invite", {
            "csrf_token": token, "email": email, "role": role, "venue_id": venue_id,
        }, status=400)
        assert message in page.text
        assert page.html.select_one("#email")["value"] == email
        with world.db.session() as s:
            assert s.scalar(select(User).where(User.email == "new@example.test")) is None
        assert audit_actions(world) == []


class TestInvitation:
    def test_unknown_email_creates_user_and_emails_the_link(self, testapp, world):
        page = invited(testapp, world, "New.Person@Example.test", "manager")
        assert INVITED_FLASH in page.text
        assert "/invitations/" not in page.text
        assert "(invited)" in page.text
        link = emailed_link(world, "new.person@example.test")
        assert link.startswith("http://127.0.0.1:6543/invitations/")
        secret = link.rsplit("/", 1)[1]
        with world.db.session() as s:
            user = s.scalar(select(User).where(User.email == "new.person@example.test"))
            assert user.password_hash == UNUSABLE_PASSWORD
            token = s.scalar(select(UserToken).where(UserToken.user_id == user.id))
            assert token.purpose == TokenPurpose.INVITATION
            assert token.digest == token_digest(secret)
            assert token.expires_at - token.created_at == timedelta(days=7)
            membership = s.scalar(select(Membership).where(Membership.user_id == user.id))
            assert (membership.role, membership.tenant_id, membership.pending) == (
                Role.MANAGER, world.tenant_id, True)
        (message,) = invitations(world, "new.person@example.test")
        assert message.tenant_id == world.tenant_id

    def test_invited_person_sets_password_and_lands_in_staff_area(self, testapp, world):
        invited(testapp, world, "new@example.test", "staff", world.venue_id)
        path = invitation_path(world)
        testapp.reset()
        accept = testapp.get(path)
        assert "Tenant" in accept.html.select_one(".invitation-teams").text
        form = form_by_action(accept, path + "/")
        form["name"], form["password"], form["confirm"] = "Nina New", "a-long-new-password", \
            "a-long-new-password"
        response = form.submit(status=303)
        assert urlparse(response.location).path == f"/t/{world.slug}/manage/"
        dashboard = response.follow()
        assert "Welcome! Your password is set." in dashboard.text
        assert "Centre" in dashboard.text
        with world.db.session() as s:
            user = s.scalar(select(User).where(User.email == "new@example.test"))
            assert user.name == "Nina New"
            assert verify_password("a-long-new-password", user.password_hash)[0]
            assert s.scalar(select(UserToken.used_at)) is not None
            assert user.email_confirmed_at is not None  # the link proved the address
            assert s.scalar(select(Membership.pending).where(
                Membership.user_id == user.id)) is False
        assert audit_actions(world)[-1][0] == "membership.accepted"
        testapp.get(path, status=404)
        testapp.reset()
        sign_in(testapp, "new@example.test", "a-long-new-password")

    def test_link_is_single_use(self, testapp, world):
        invited(testapp, world)
        path = invitation_path(world)
        testapp.reset()
        form = form_by_action(testapp.get(path), path + "/")
        form["name"], form["password"], form["confirm"] = "Nina", "nina-chose-this-one", "nina-chose-this-one"
        form.submit(status=303)
        testapp.reset()
        testapp.get(path, status=404)
        token = csrf(testapp.get("/login"))
        testapp.post(path + "/", {"csrf_token": token, "name": "Eve", "password": "yet-another-good-one",
                                  "confirm": "yet-another-good-one"}, status=404)

    def test_expired_link_is_not_found(self, testapp, world, clock):
        invited(testapp, world)
        path = invitation_path(world)
        clock.advance(timedelta(days=7))
        testapp.reset()
        testapp.get(path, status=404)

    def test_unknown_link_is_not_found(self, testapp, world):
        testapp.get("/invitations/not-a-real-secret", status=404)

    @pytest.mark.parametrize("name, password, confirm, field, message", [
        ("", "a-long-new-password", "a-long-new-password", "name", "is required"),
        ("Nina", "short", "short", "password", "at least 12 characters"),
        ("Nina", "password1234", "password1234", "password", "is too easy to guess"),
        ("Nina Kowalski", "kowalski1990!", "kowalski1990!", "password",
         "it contains your name or your email address"),
        ("Nina", "a-long-new-password", "another-password", "confirm", "does not match"),
        ("Nina\nBcc: x@example.test", "a-long-new-password", "a-long-new-password", "name",
         "must be one line"),
        ("Nina\x07", "a-long-new-password", "a-long-new-password", "name", "must be one line"),
    ])
    def test_bad_acceptance_is_400_and_link_still_works(self, testapp, world, name, password,
                                                        confirm, field, message):
        invited(testapp, world)
        path = invitation_path(world)
        testapp.reset()
        form = form_by_action(testapp.get(path), path + "/")
        form["name"], form["password"], form["confirm"] = name, password, confirm
        page = form.submit(status=400)
        assert message in page.html.select_one(f"#{field}-error").text
        with world.db.session() as s:
            assert s.scalar(select(UserToken.used_at)) is None
        testapp.get(path, status=200)

    def test_reinviting_someone_who_never_accepted_emails_a_new_link(self, testapp, world):
        invited(testapp, world)
        first = invitation_path(world)
        membership_id = membership_of(world, user_id=user_id(world, "new@example.test"))
        page = testapp.get(people_url(world))
        row_form(page, "/people/remove", membership_id).submit(status=303)
        invited(testapp, world)
        second = invitation_path(world)
        assert second != first and len(invitations(world, "new@example.test")) == 2
        testapp.reset()
        testapp.get(first, status=404)
        testapp.get(second, status=200)


class TestNoTakeover:
    """An owner never holds a link that sets someone else's password."""

    def test_owner_of_another_tenant_inviting_a_pending_member_gets_no_link(
            self, testapp, world):
        invited(testapp, world)  # pending in "club", no password yet
        testapp.reset()
        sign_in(testapp, world.emails["other_tenant_owner"])
        page = testapp.get(f"/t/{world.other_slug}/manage/people/")
        page = invite(page, "new@example.test", "manager").submit(status=303).follow()
        assert "/invitations/" not in page.text
        with world.db.session() as s:
            rival_id = s.scalar(select(Tenant.id).where(Tenant.slug == world.other_slug))
            user = s.scalar(select(User).where(User.email == "new@example.test"))
            assert user.password_hash == UNUSABLE_PASSWORD
            assert s.scalar(select(Membership.role).where(
                Membership.tenant_id == rival_id, Membership.user_id == user.id)) == "manager"
        rows = invitations(world, "new@example.test")
        assert [row.tenant_id for row in rows] == [world.tenant_id, rival_id]
        testapp.reset()
        accept = testapp.get(invitation_path(world))
        assert len(accept.html.select(".invitation-teams li")) == 2

    def test_walk_in_customer_is_emailed_the_link_not_shown_to_the_owner(
            self, testapp, world):
        with world.db.session() as s:
            s.add(User(email="walkin@example.test", name="Walk In",
                       password_hash=UNUSABLE_PASSWORD, created_at=b.EPOCH))
        page = invited(testapp, world, "walkin@example.test")
        assert "/invitations/" not in page.text
        assert INVITED_FLASH in page.text
        assert invitation_path(world, "walkin@example.test")


class TestChangeRole:
    def test_owner_changes_role_and_scope(self, testapp, world):
        membership_id = membership_of(world, "staff")
        form = row_form(people_page(testapp, world), "/people/role", membership_id)
        form["role"], form["venue_id"] = "staff", str(world.other_venue_id)
        page = form.submit(status=303).follow()
        assert "The role is changed." in page.text
        assert membership_row(world, membership_id) == ("staff", world.other_venue_id)
        action, details = audit_actions(world)[-1]
        assert action == "membership.role_changed"
        assert details == {"old": {"role": "staff", "venue_id": world.venue_id},
                           "new": {"role": "staff", "venue_id": world.other_venue_id}}

    def test_promote_manager_to_owner(self, testapp, world):
        membership_id = membership_of(world, "manager")
        form = row_form(people_page(testapp, world), "/people/role", membership_id)
        form["role"] = "owner"
        form.submit(status=303)
        assert membership_row(world, membership_id) == ("owner", None)

    def test_venue_scope_for_a_manager_is_400(self, testapp, world):
        membership_id = membership_of(world, "manager")
        form = row_form(people_page(testapp, world), "/people/role", membership_id)
        form["venue_id"] = str(world.venue_id)
        page = form.submit(status=400)
        assert "only staff can be limited to one venue" in page.text
        assert membership_row(world, membership_id) == ("manager", None)

    def test_last_owner_cannot_be_demoted(self, testapp, world):
        membership_id = membership_of(world, "owner")
        form = row_form(people_page(testapp, world), "/people/role", membership_id)
        form["role"] = "manager"
        page = form.submit(status=409)
        assert "The last owner cannot be demoted" in page.text
        assert membership_row(world, membership_id) == ("owner", None)
        assert audit_actions(world) == []

    def test_an_owner_only_invited_does_not_let_the_last_owner_step_down(self, testapp, world):
        manager_membership = membership_of(world, "manager")
        with world.db.session() as s:
            invited = s.get(Membership, manager_membership)
            invited.role, invited.pending = Role.OWNER, True
        membership_id = membership_of(world, "owner")
        form = row_form(people_page(testapp, world), "/people/role", membership_id)
        form["role"] = "manager"
        assert "The last owner cannot be demoted" in form.submit(status=409).text
        assert membership_row(world, membership_id) == ("owner", None)

    def test_an_owner_may_step_down_when_another_remains(self, testapp, world):
        manager_membership = membership_of(world, "manager")
        with world.db.session() as s:
            s.get(Membership, manager_membership).role = Role.OWNER
        membership_id = membership_of(world, "owner")
        form = row_form(people_page(testapp, world), "/people/role", membership_id)
        form["role"] = "manager"
        response = form.submit(status=303)
        assert urlparse(response.location).path == f"/t/{world.slug}/"
        assert membership_row(world, membership_id) == ("manager", None)

    def test_manager_gets_403(self, testapp, world):
        page = people_page(testapp, world, "manager")
        membership_id = membership_of(world, "staff")
        testapp.post(people_url(world) + "role", {
            "csrf_token": csrf(page), "membership_id": membership_id, "role": "owner",
        }, status=403)
        assert membership_row(world, membership_id) == ("staff", world.venue_id)

    def test_another_tenants_membership_is_not_found(self, testapp, world):
        page = people_page(testapp, world)
        with world.db.session() as s:
            rival = s.scalar(select(Membership.id).where(
                Membership.user_id == world.user_ids["other_tenant_owner"]))
        for action in ("role", "remove"):
            testapp.post(people_url(world) + action, {
                "csrf_token": csrf(page), "membership_id": rival, "role": "staff",
            }, status=404)
        assert membership_row(world, rival) == ("owner", None)

    @pytest.mark.parametrize("value", ["", "abc", "0", "99999999999"])
    def test_bad_membership_id_is_not_found(self, testapp, world, value):
        page = people_page(testapp, world)
        testapp.post(people_url(world) + "role", {
            "csrf_token": csrf(page), "membership_id": value, "role": "staff",
        }, status=404)


class TestRemove:
    def test_owner_removes_a_member(self, testapp, world):
        membership_id = membership_of(world, "other_venue_staff")
        page = row_form(people_page(testapp, world), "/people/remove", membership_id).submit(
            status=303).follow()
        assert "The member is removed from the team." in page.text
        assert membership_row(world, membership_id) is None
        action, details = audit_actions(world)[-1]
        assert action == "membership.removed"
        assert details["role"] == "staff" and details["venue_id"] == world.other_venue_id
        sign_in(testapp, world.emails["other_venue_staff"])
        testapp.get(f"/t/{world.slug}/manage/", status=404)

    def test_last_owner_cannot_be_removed(self, testapp, world):
        membership_id = membership_of(world, "owner")
        page = row_form(people_page(testapp, world), "/people/remove", membership_id).submit(
            status=409)
        assert "The last owner cannot be removed" in page.text
        assert membership_row(world, membership_id) == ("owner", None)

    def test_manager_gets_403(self, testapp, world):
        page = people_page(testapp, world, "manager")
        membership_id = membership_of(world, "owner")
        testapp.post(people_url(world) + "remove", {
            "csrf_token": csrf(page), "membership_id": membership_id,
        }, status=403)
        assert membership_row(world, membership_id) == ("owner", None)


class TestFeedsRevoked:
    """A member who no longer covers a venue loses the feeds they made of it."""

    @staticmethod
    def feed(world, who, venue_id):
        with world.db.session() as s:
            row = CalendarFeed(tenant_id=world.tenant_id, venue_id=venue_id,
                               digest=token_digest(f"{who}-{venue_id}"),
                               created_by=world.user_ids[who], created_at=b.EPOCH)
            s.add(row)
            s.flush()
            return row.id

    @staticmethod
    def revoked(world, feed_id):
        with world.db.session() as s:
            return s.get(CalendarFeed, feed_id).revoked_at is not None

    @staticmethod
    def feed_audit(world):
        with world.db.session() as s:
            return s.execute(select(AuditLog.target_id, AuditLog.details["cause"].as_string())
                             .where(AuditLog.action == "calendar_feed.revoked")
                             .order_by(AuditLog.id)).all()

    def test_removal_revokes_the_members_feeds(self, testapp, world):
        feed_id = self.feed(world, "other_venue_staff", world.other_venue_id)
        others = self.feed(world, "manager", world.other_venue_id)
        membership_id = membership_of(world, "other_venue_staff")
        row_form(people_page(testapp, world), "/people/remove", membership_id).submit(
            status=303)
        assert self.revoked(world, feed_id) and not self.revoked(world, others)
        assert self.feed_audit(world) == [(feed_id, "membership.removed")]

    def test_scoping_to_another_venue_revokes_feeds_of_the_old_one(self, testapp, world):
        old = self.feed(world, "manager", world.venue_id)
        kept = self.feed(world, "manager", world.other_venue_id)
        form = row_form(people_page(testapp, world), "/people/role",
                        membership_of(world, "manager"))
        form["role"], form["venue_id"] = "staff", str(world.other_venue_id)
        form.submit(status=303)
        assert self.revoked(world, old) and not self.revoked(world, kept)
        assert self.feed_audit(world) == [(old, "membership.role_changed")]

    def test_tenant_wide_role_keeps_every_feed(self, testapp, world):
        feed_id = self.feed(world, "staff", world.venue_id)
        form = row_form(people_page(testapp, world), "/people/role",
                        membership_of(world, "staff"))
        form["role"], form["venue_id"] = "manager", ""
        form.submit(status=303)
        assert not self.revoked(world, feed_id) and self.feed_audit(world) == []
