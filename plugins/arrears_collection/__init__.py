"""Arrears collection (欠费追缴): Fee items, bills, payments and receipts, the collection ladder, notices and lawyer's letters."""
from core import PluginMeta

plugin = PluginMeta(
    name="arrears_collection",
    version="0.1.0",
    title="Arrears collection",
    title_zh="欠费追缴",
    description="Fee items, bills, payments and receipts, the collection ladder, notices and lawyer's letters.",
    core_version=">=0.1,<1",
    dependencies=(),
    project_kinds=None,
)
