"""Residential grids (住宅网格化管家): Grids of 350–400 households per butler, public butler board, parcels, call/visit register, monthly butler evaluation."""
from core import PluginMeta

plugin = PluginMeta(
    name="residential_grids",
    version="0.1.0",
    title="Residential grids",
    title_zh="住宅网格化管家",
    description="Grids of 350–400 households per butler, public butler board, parcels, call/visit register, monthly butler evaluation.",
    core_version=">=0.1,<1",
    settings={
        "unclaimed_flag_days": 3,  # parcels unclaimed after this many days are flagged
        "public_requests_per_hour": 3,  # requests from one address on the public board per hour
        "immediate_closure_minutes": 30,  # an inquiry resolved within this time counts as closed at once
    },
    dependencies=(),
    project_kinds=("residential",),
)
