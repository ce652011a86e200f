"""Parking leases (车位租赁): Spaces, the published plan and fees, applications, waiting list, leases and renewals."""
from core import PluginMeta

plugin = PluginMeta(
    name="parking_leases",
    version="0.1.0",
    title="Parking leases",
    title_zh="车位租赁",
    description="Spaces, the published plan and fees, applications, waiting list, leases and renewals.",
    core_version=">=0.1,<1",
    dependencies=(),
    project_kinds=None,
)
