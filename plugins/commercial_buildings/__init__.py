"""Commercial buildings (商业楼宇): Office, hotel, retail, lobby and garage zones; visitor register; pass-outs; item storage; after-hours service."""
from core import PluginMeta

plugin = PluginMeta(
    name="commercial_buildings",
    version="0.1.0",
    title="Commercial buildings",
    title_zh="商业楼宇",
    description="Office, hotel, retail, lobby and garage zones; visitor register; pass-outs; item storage; after-hours service.",
    core_version=">=0.1,<1",
    dependencies=(),
    project_kinds=("commercial",),
)
