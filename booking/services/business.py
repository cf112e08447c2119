"""A business as its owners and managers run it from the staff area: its
settings (each change audited with its old and new values), and its
deletion, requested and cancelled during the grace period."""

from zoneinfo import ZoneInfo

from . import audit, tenants

#: The settings the staff area changes, in the tenant's columns' terms.
SETTINGS = ("name", "time_zone", "currency", "cancellation_window_minutes", "hold_minutes",
            "reminder_offsets", "refund_policy", "refund_percent", "personal_data_days",
            "require_mfa", "move_pricing", "release_code_on_cancel")


class BusinessService:
    """``grace_days``: how long a business whose deletion is requested is
    kept before the worker purges it (``booking.tenant_deletion_grace_days``)."""

    def __init__(self, dbsession, now, grace_days):
        self.dbsession = dbsession
        self.now = now
        self.grace_days = grace_days

    def save_settings(self, tenant, values, actor_id):
        """Apply the settings of ``values`` (every key of :data:`SETTINGS`);
        the changes are audited (``tenant.settings_changed``) and returned
        as ``{setting: {"old", "new"}}``."""
        changes = {}
        for key in SETTINGS:
            old = getattr(tenant, key)
            if old != values[key]:
                changes[key] = {"old": old, "new": values[key]}
                setattr(tenant, key, values[key])
        if changes:
            audit.record(self.dbsession, tenant.id, actor_id, "tenant.settings_changed",
                         "tenant", tenant.id, self.now, changes=changes)
        return changes

    def request_deletion(self, tenant, actor_id):
        """Close the business at once; it is purged after the grace period."""
        tenants.request_deletion(self.dbsession, tenant, actor_id, self.now)

    def cancel_deletion(self, tenant, actor_id):
        tenants.cancel_deletion(self.dbsession, tenant, actor_id, self.now)

    def purge_due(self):
        """Purge every business whose deletion was requested at least the
        grace period ago (the worker's step); their slugs."""
        return tenants.purge_due(self.dbsession, self.now, self.grace_days)

    def purge_day(self, tenant):
        """The tenant's local day on which its requested deletion happens."""
        return (tenants.deletion_date(tenant, self.grace_days)
                .astimezone(ZoneInfo(tenant.time_zone)).date())
