"""Parking leases (车位租赁): Spaces, the published plan and fees, applications, waiting list, leases and renewals."""
from core import PluginMeta

plugin = PluginMeta(
    name="parking_leases",
    version="0.1.0",
    title="Parking leases",
    title_zh="车位租赁",
    description="Spaces, the published plan and fees, applications, waiting list, leases and renewals.",
    core_version=">=0.1,<1",
    settings={
        # who comes first on the waiting list, by how the customer holds a unit of the project
        "priority_order": ["owner", "renter"],
        # days an applicant has to accept a space offered from the waiting list
        "offer_days": 3,
        # the seed's target for handling a lease at the desk (001: ≤ 20 minutes)
        "handling_target_minutes": 20,
        # renewal reminders before a lease ends
        "reminder_days": [30, 7],
        # attached documents: largest file, in bytes
        "max_upload_bytes": 5 * 1024 * 1024,
    },
    dependencies=(),
    project_kinds=None,
)
