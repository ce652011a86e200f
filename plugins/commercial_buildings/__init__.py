"""Commercial buildings (商业楼宇): Office, hotel, retail, lobby and garage zones; visitor register; pass-outs; item storage; after-hours service."""
from core import PluginMeta

plugin = PluginMeta(
    name="commercial_buildings",
    version="0.1.0",
    title="Commercial buildings",
    title_zh="商业楼宇",
    description="Office, hotel, retail, lobby and garage zones; visitor register; pass-outs; item storage; after-hours service.",
    core_version=">=0.1,<1",
    settings={
        "after_hours_ac_fee_fen_per_hour": 0,  # 0 = no fee; otherwise fen per started hour
        "office_hours": {"opens": "08:30", "closes": "18:00"},
        "visitor_retention_days": 90,
        "lobby_closes": "22:00",
        "pass_out_link_hours": 24,
        "pass_out_link_channel": "sms",
        "public_base_url": "",
    },
    dependencies=(),
    project_kinds=("commercial",),
)
