"""Community events (社区活动): Themed events each quarter, pre-event surveys, sign-up, return visits and satisfaction, greetings."""
from core import PluginMeta

plugin = PluginMeta(
    name="community_events",
    version="0.1.0",
    title="Community events",
    title_zh="社区活动",
    description="Themed events each quarter, pre-event surveys, sign-up, return visits and satisfaction, greetings.",
    core_version=">=0.1,<1",
    dependencies=(),
    project_kinds=None,
)
