"""A test plugin that bills a monthly parking charge through arrears collection's `arrears_charges` hook."""
from core import PluginMeta, hookimpl

plugin = PluginMeta(name="arrears_test_charges", version="1.0.0", title="Arrears test charges")
TENANTS: dict[int, int] = {}  # tenant id → the unit that rents a parking space


class hooks:  # noqa: N801 - a namespace registered as the plugin's hooks
    @staticmethod
    @hookimpl(optionalhook=True)
    def arrears_charges(tenant_id, project, period):
        unit_id = TENANTS.get(tenant_id)
        if unit_id is None or project["code"] != "P1":
            return None
        return [{"unit_id": unit_id, "fee_code": "arrears_test_charges.parking", "fee_name": "车位租赁费",
                 "amount_fen": 30000, "basis_text": "车位使用方案"}]
