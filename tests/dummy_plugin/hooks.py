"""Hook implementations of the test plugin; each records its calls in `CALLS`."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get

from core import (DashboardWidget, Deadline, MenuItem, NotificationChannel, PeriodicJob, Permission, SlaPolicy,
                  TicketKind, hookimpl)

CALLS: list[tuple[str, dict[str, Any]]] = []
TEMPLATES = str(Path(__file__).parent / "templates")


def _record(name: str, **kwargs: Any) -> None:
    CALLS.append((name, kwargs))


@get("/api/v1/dummy/tickets/{ticket_id:int}")
async def dummy_ticket(request: Request, ticket_id: int) -> dict[str, Any]:
    """Reads a ticket through the kernel's scoped service (so the matrix covers plugin routes)."""
    from core import tickets

    t = await tickets.get_ticket(request.user, ticket_id)
    return {"id": t["id"], "plugin": "dummy"}


@hookimpl
def register_ticket_kinds():
    _record("register_ticket_kinds")
    return [TicketKind("dummy.thing", "测试", "Dummy thing")]


@hookimpl
def register_routes():
    _record("register_routes")
    return [dummy_ticket]


@hookimpl
def register_menu_items():
    _record("register_menu_items")
    return [MenuItem("dummy", "测试", "Dummy", "/portal/dummy")]


@hookimpl
def register_dashboard_widgets():
    _record("register_dashboard_widgets")
    return [DashboardWidget("dummy", "测试", "Dummy", "dummy/widget.html", load=lambda **kw: {"n": 1})]


@hookimpl
def register_permissions():
    _record("register_permissions")
    return [Permission("dummy.use", "Use the dummy", ("front_desk",))]


@hookimpl
def register_periodic_jobs():
    _record("register_periodic_jobs")
    return [PeriodicJob("dummy.tick", "dummy.tick", "daily 03:00", "Does nothing useful")]


@hookimpl
def register_notification_channels():
    _record("register_notification_channels")
    return [NotificationChannel("dummy_channel", "Dummy", send=lambda **kw: "sent")]


@hookimpl
def register_sla_policies():
    _record("register_sla_policies")
    return [SlaPolicy("dummy.policy", resolution=Deadline(1, "hours"))]


@hookimpl
def register_template_dirs():
    _record("register_template_dirs")
    return [TEMPLATES]


@hookimpl
async def on_ticket_created(tenant_id, ticket):
    _record("on_ticket_created", tenant_id=tenant_id, ticket_id=ticket["id"])


@hookimpl
def on_ticket_status_changed(tenant_id, ticket, from_status, to_status, reason, actor_id):
    _record("on_ticket_status_changed", tenant_id=tenant_id, ticket_id=ticket["id"], from_status=from_status,
            to_status=to_status)


@hookimpl
def on_customer_moved_in(tenant_id, customer_id, unit_id, role, start_date):
    _record("on_customer_moved_in", tenant_id=tenant_id, customer_id=customer_id, unit_id=unit_id, role=role)


@hookimpl
def on_customer_moved_out(tenant_id, customer_id, unit_id, role, end_date):
    _record("on_customer_moved_out", tenant_id=tenant_id, customer_id=customer_id, unit_id=unit_id, role=role,
            end_date=end_date)


@hookimpl
def on_ownership_changed(tenant_id, unit_id, previous_owner_ids, new_owner_id, on_date):
    _record("on_ownership_changed", tenant_id=tenant_id, unit_id=unit_id, previous=previous_owner_ids,
            new=new_owner_id)


@hookimpl
async def resolve_responsible(tenant_id, project, ticket):
    _record("resolve_responsible", tenant_id=tenant_id, kind=ticket.get("kind"))
    if ticket.get("kind") == "dummy.thing":
        return ticket["first_receiver_id"]
    return None


@hookimpl
def resolve_sla_policy(tenant_id, project, ticket):
    _record("resolve_sla_policy", tenant_id=tenant_id, kind=ticket.get("kind"))
    if ticket.get("kind") == "dummy.thing":
        return SlaPolicy("dummy.policy", resolution=Deadline(1, "hours"))
    return None


@hookimpl
def seed_demo(tenant_id, projects, staff, as_of):
    _record("seed_demo", tenant_id=tenant_id, projects=sorted(projects), roles=sorted(staff), as_of=as_of)


@hookimpl
def collect_personal_data(tenant_id, customer_id):
    _record("collect_personal_data", tenant_id=tenant_id, customer_id=customer_id)
    return {"dummy_rows": []}


@hookimpl
def erase_personal_data(tenant_id, customer_id, keep_records, placeholder):
    _record("erase_personal_data", tenant_id=tenant_id, customer_id=customer_id, keep_records=keep_records,
            placeholder=placeholder)
    return {}


@hookimpl
def customer_file_sections(tenant_id, customer_id, principal):
    _record("customer_file_sections", tenant_id=tenant_id, customer_id=customer_id, role=principal.role)
    return [{"title_zh": "测试插件", "title_en": "Test plugin", "columns": [["事项", "Item"]], "rows": [["一行"]]}]


@hookimpl
def import_opening_balances(tenant_id, project, balances):
    _record("import_opening_balances", tenant_id=tenant_id, project=project["code"],
            balances=[(b["period"], b["amount_fen"], b["fee_name"]) for b in balances])
    return {"created": len(balances), "updated": 0}
