"""What a business may do before its owner has confirmed their address, on
both databases: it invites nobody, sends at most a few emails, and becomes
verified when the owner's address is confirmed. A business the platform
makes is trusted."""

import pytest
from sqlalchemy import func, select

from booking.models import OutboxMessage, Role, Tenant, User
from booking.services.errors import PolicyViolation
from booking.services.notifications import UNVERIFIED_MAIL_QUOTA, Notifier
from booking.services.registration import SignupService
from booking.services.team import TeamService
from booking.services.user_tokens import confirm_address

from .. import builders as b
from ..conftest import NOW


@pytest.fixture
def ids(db):
    with db.session() as s:
        tenant = b.tenant(s, verified=False)
        owner = b.member(s, tenant, Role.OWNER, email_confirmed_at=None)
        return dict(tenant=tenant.id, owner=owner.id)


def test_unverified_business_cannot_invite(db, ids):
    with db.session() as s, pytest.raises(PolicyViolation):
        TeamService(s, NOW, Notifier(s, NOW)).invite(
            s.get(Tenant, ids["tenant"]), "someone@example.test", Role.STAFF, None,
            s.get(User, ids["owner"]))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(User.id).where(User.email == "someone@example.test")) is None


def test_unverified_business_sends_at_most_its_quota_of_emails(db, ids):
    with db.session() as s:
        notifier, tenant, owner = Notifier(s, NOW), s.get(Tenant, ids["tenant"]), s.get(
            User, ids["owner"])
        queued = [notifier.staff_invitation(owner, tenant, f"http://x/{n}", owner, n, False)
                  for n in range(UNVERIFIED_MAIL_QUOTA + 5)]
    assert all(queued[:UNVERIFIED_MAIL_QUOTA])
    assert queued[UNVERIFIED_MAIL_QUOTA:] == [None] * 5
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == UNVERIFIED_MAIL_QUOTA


def test_verified_business_has_no_quota(db, ids):
    with db.session() as s:
        tenant = s.get(Tenant, ids["tenant"])
        tenant.verified = True
        owner, notifier = s.get(User, ids["owner"]), Notifier(s, NOW)
        for n in range(UNVERIFIED_MAIL_QUOTA + 5):
            assert notifier.staff_invitation(owner, tenant, f"http://x/{n}", owner, n, False)


def test_confirming_the_owner_address_verifies_their_businesses(db, ids):
    with db.session() as s:
        confirm_address(s, s.get(User, ids["owner"]), NOW)
    with db.session() as s:
        assert s.get(Tenant, ids["tenant"]).verified
        assert s.get(User, ids["owner"]).email_confirmed_at == NOW


def test_business_made_by_the_platform_is_trusted(db):
    values = {"name": "Harbor", "slug": "harbor-2", "time_zone": "UTC", "currency": "USD",
              "locale": "en"}
    with db.session() as s:
        tenant, owner, new = SignupService(s, NOW).create_for_email(values, "boss@example.test")
        assert new and owner.email_confirmed_at is None
        assert tenant.verified
