"""Elevator ledger (电梯台帐): elevators, their maintenance and fault records, and the ledger's accuracy check."""
from core import PluginMeta

plugin = PluginMeta(
    name="elevator_ledger",
    version="0.1.0",
    title="Elevator ledger",
    title_zh="电梯台帐",
    description="Elevators per building, monthly maintenance and fault records, and the 100 % accuracy check (seed 000).",
    core_version=">=0.1,<1",
    settings={
        # seed 000: 电梯台帐准确率100%
        "accuracy_target_percent": 100,
    },
)
