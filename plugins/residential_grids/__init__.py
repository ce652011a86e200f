"""Residential grids (住宅网格化管家): Grids of 350–400 households per butler, public butler board, parcels, call/visit register, monthly butler evaluation."""
from core import PluginMeta

plugin = PluginMeta(
    name="residential_grids",
    version="0.1.0",
    title="Residential grids",
    title_zh="住宅网格化管家",
    description="Grids of 350–400 households per butler, public butler board, parcels, call/visit register, monthly butler evaluation.",
    core_version=">=0.1,<1",
    dependencies=(),
    project_kinds=("residential",),
)
