"""Retention of personal data (PIPL art. 19: kept no longer than needed): contact phones of closed tickets and
the message log are cleared by a daily job with an explicit `as_of`, per company, idempotently."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import at
from tests.frontend.portal_helpers import portal_login, post_form

# a moment long before the other tests' data, so the job run here touches only this file's rows
AS_OF = at("2021-03-01 03:10")


async def _closed_ticket(world, closed_days_ago: float, phone: str) -> int:
    from core import tickets
    from core.tables import Ticket
    from core.tenancy import TenantScope

    desk = await world.principal("front_desk")
    closed = AS_OF - timedelta(days=closed_days_ago)
    t = await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "inquiry", "channel": "hotline",
                                           "title": "咨询", "contact_phone": phone, "customer_id": world.customers[0]["id"]},
                                    now=closed - timedelta(hours=1))
    await TenantScope(world.tenant_id).update(Ticket, {Ticket.status: "closed", Ticket.closed_at: closed}).where(
        Ticket.id == t["id"])
    return t["id"]


async def _phones(world) -> dict[int, str]:
    from core.tables import Ticket
    from core.tenancy import TenantScope

    return {r["id"]: r["contact_phone"] for r in await TenantScope(world.tenant_id).select(Ticket, Ticket.id, Ticket.contact_phone)}


async def test_contact_phone_of_ticket_closed_1096_days_before_as_of_is_cleared_1094_not_seed_004(world):
    from core.personal_data import apply_retention
    from core.tables import AuditLog, Ticket
    from core.tenancy import TenantScope

    old = await _closed_ticket(world, 1096, "13900001096")
    edge = await _closed_ticket(world, 1095, "13900001095")
    young = await _closed_ticket(world, 1094, "13900001094")
    desk = await world.principal("front_desk")
    from core import tickets

    open_one = (await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "inquiry",
                                                   "channel": "hotline", "title": "未关闭", "contact_phone": "13900009999"},
                                            now=AS_OF - timedelta(days=2000)))["id"]
    result = await apply_retention(AS_OF)
    phones = await _phones(world)
    assert (phones[old], phones[edge], phones[young], phones[open_one]) == ("", "", "13900001094", "13900009999")
    assert result["tenants"][str(world.tenant_id)]["tickets"] == 2
    ticket = await TenantScope(world.tenant_id).get(Ticket, old)
    assert ticket["status"] == "closed" and ticket["customer_id"] == world.customers[0]["id"]  # the record stays
    # idempotent: the same as_of again changes nothing and writes no audit entry
    again = await apply_retention(AS_OF)
    assert str(world.tenant_id) not in again["tenants"]
    entries = await TenantScope(world.tenant_id).select(AuditLog).where(AuditLog.action == "retention.applied")
    assert len(entries) == 1 and entries[0]["user_id"] is None
    # a day later the 1094-day ticket is 1095 days closed: cleared
    await apply_retention(AS_OF + timedelta(days=1))
    assert (await _phones(world))[young] == ""


async def test_message_log_older_than_365_days_loses_address_and_text_and_company_periods_override(client, world):
    from core import personal_data
    from core.tables import Notification
    from core.tenancy import TenantScope

    scope = TenantScope(world.tenant_id)
    for days, key in ((366, "old"), (364, "young")):
        await scope.insert(Notification, channel="sms", recipient_customer_id=world.customers[0]["id"],
                           address="13900000001", template="t", body="王先生您好", idempotency_key=f"ret-{key}",
                           created_at=AS_OF - timedelta(days=days))
    await personal_data.apply_retention(AS_OF)
    rows = {r["idempotency_key"]: r for r in await scope.select(Notification)}
    assert (rows["ret-old"]["address"], rows["ret-old"]["body"]) == ("", "")
    assert (rows["ret-young"]["address"], rows["ret-young"]["body"]) == ("13900000001", "王先生您好")
    # the company shortens both periods (company CS only, within bounds)
    url = "/api/v1/retention"
    assert (await client.put(url, json={"notification_log_days": 30}, headers=world.headers("supervisor"))).status_code == 403
    r = await client.put(url, json={"closed_ticket_personal_data_days": 10}, headers=world.headers("company_cs"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "closed_ticket_personal_data_days"
    r = await client.put(url, json={"closed_ticket_personal_data_days": 180, "notification_log_days": 30},
                         headers=world.headers("company_cs"))
    assert r.status_code == 200, r.text
    assert (r.json()["closed_ticket_personal_data_days"], r.json()["notification_log_days"]) == (180, 30)
    ticket = await _closed_ticket(world, 181, "13900000181")
    await personal_data.apply_retention(AS_OF)
    rows = {r["idempotency_key"]: r for r in await scope.select(Notification)}
    assert rows["ret-young"]["address"] == "" and (await _phones(world))[ticket] == ""
    got = (await client.get(url, headers=world.headers("company_cs"))).json()
    assert got["defaults"] == {"closed_ticket_personal_data_days": 1095, "notification_log_days": 365}


async def test_retention_job_is_declared_daily_and_runs_through_its_actor_seed_004(world):
    from core import jobs
    from core.scheduler import periodic_jobs

    job = periodic_jobs()["core.personal_data_retention"]
    assert job.schedule == "daily 03:10" and job.actor_name == "core.personal_data_retention"
    ticket = await _closed_ticket(world, 2000, "13900002000")
    result = await jobs.get_actor("core.personal_data_retention").fn("2021-03-01T03:10:00+08:00")
    assert result["tenants"][str(world.tenant_id)]["tickets"] == 1 and (await _phones(world))[ticket] == ""


async def test_portal_retention_form_keeps_what_was_typed_and_saves_seed_004(client):
    from tests.conftest import make_world

    w = await make_world(login=False)
    token = await portal_login(client, w, "company_cs")
    page = await client.get("/portal/personal-data")
    assert page.status_code == 200 and 'value="1095"' in page.text and 'value="365"' in page.text
    r = await post_form(client, "/portal/personal-data/retention", token, closed_ticket_personal_data_days="5",
                        notification_log_days="abc")
    assert r.status_code == 422 and 'value="abc"' in r.text and 'data-field="notification_log_days"' in r.text
    r = await post_form(client, "/portal/personal-data/retention", token, closed_ticket_personal_data_days="5",
                        notification_log_days="90")
    assert r.status_code == 422 and 'data-field="closed_ticket_personal_data_days"' in r.text and 'value="5"' in r.text
    r = await post_form(client, "/portal/personal-data/retention", token, closed_ticket_personal_data_days="730",
                        notification_log_days="90")
    assert r.status_code == 303
    page = await client.get(r.headers["location"])
    assert 'value="730"' in page.text and 'data-action="retention.changed"' in page.text
