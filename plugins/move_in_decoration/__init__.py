"""Move-in and decoration (入伙与装修): Move-in batches, decoration applications and permits, moving large items out."""
from core import PluginMeta

plugin = PluginMeta(
    name="move_in_decoration",
    version="0.1.0",
    title="Move-in and decoration",
    title_zh="入伙与装修",
    description="Move-in batches, decoration applications and permits, moving large items out.",
    core_version=">=0.1,<1",
    dependencies=(),
    project_kinds=None,
)
