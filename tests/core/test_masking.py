"""Phone and ID numbers masked by role (seed 004: access strictly limited to those whose work needs it):
in every list API and portal list page, in CSV/Excel downloads, and in the JSON log lines."""
from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from tests.conftest import PASSWORD, at


@pytest.fixture(scope="module")
async def demo():
    from core import auth
    from core.demo import ensure_demo
    from core.roles import ALL_ROLES
    from core.tables import Customer, User
    from core.tenancy import TenantScope

    slug = f"mk-{uuid.uuid4().hex[:8]}"
    result = await ensure_demo(PASSWORD, buildings=1, tickets=12, slug=slug, as_of=at("2026-09-30 17:00"))
    tenant_id = result["tenant"]["id"]
    tokens = {role: (await auth.login(result["logins"][role], PASSWORD, slug))["token"] for role in ALL_ROLES}
    customers = await TenantScope(tenant_id).select(Customer, Customer.phone, Customer.id_number)
    # a number the demo also gives a third party (a mover, a depositor, a staff member) is not only a customer's
    others = set()
    for table, column in _third_party_phones():
        others |= {r["v"] for r in await TenantScope(tenant_id).select(table, getattr(table, column).as_alias("v"))}
    others |= {r["phone"] for r in await User.select(User.phone)}
    return {"tenant_id": tenant_id, "tokens": tokens,
            "phones": {c["phone"] for c in customers if len(c["phone"]) >= 8} - others,
            "id_numbers": {c["id_number"] for c in customers if len(c["id_number"]) >= 8}}


def _third_party_phones() -> list[tuple[object, str]]:
    """Phone columns of people who are not the customer (carriers, depositors, delegates, staff)."""
    from core import personal_data

    return [(t, c._meta.name) for t in personal_data.tenant_tables() for c in personal_data.text_columns(t)
            if c._meta.name in ("carrier_phone", "depositor_phone", "delegate_phone", "work_phone")]


def _text_of(response) -> str:
    kind = response.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    if kind.startswith(("application/pdf", "image/", "application/zip")):
        return ""
    return response.content.decode("utf-8", "replace")


async def test_list_apis_pages_and_downloads_show_phone_and_id_number_only_to_roles_that_may_see_them_seed_004(
        app, client, demo):
    """Every GET route without a row id (API lists, CSV/Excel downloads, portal pages), as each role of the demo
    company: no raw customer phone for roles without customer.view_phone, no raw ID number without
    customer.view_id_number."""
    from core.roles import ALL_ROLES, roles_with
    from tests.core.test_matrix import endpoints, required_query

    found, _ = endpoints(app)
    routes = [e for e in found if e.method == "GET" and not e.int_params and not e.other_params
              and e.path.startswith(("/api/", "/portal")) and e.path not in ("/portal/logout",)]
    assert len(routes) > 30
    leaks, calls = [], 0
    for role in ALL_ROLES:
        secrets = set()
        if role not in roles_with("customer.view_phone"):
            secrets |= demo["phones"]
        if role not in roles_with("customer.view_id_number"):
            secrets |= demo["id_numbers"]
        if not secrets:
            continue
        for ep in routes:
            params = required_query(ep.handler, set(), {})
            response = await client.get(ep.path, params=params, headers={"Authorization": f"Bearer {demo['tokens'][role]}"},
                                        follow_redirects=False)
            calls += 1
            if response.status_code != 200:
                continue
            text = _text_of(response)
            hits = sorted(s for s in secrets if s in text)
            if hits:
                leaks.append(f"{ep} as {role}: {hits[:2]}")
    assert calls > 100
    assert not leaks, "\n".join(leaks)


async def test_customer_list_masks_id_numbers_for_desk_and_butler_and_shows_technician_nothing_seed_004(client, demo):
    from core.places import mask_id_number

    seen = {}
    for role in ("company_cs", "finance", "front_desk", "butler", "technician"):
        r = await client.get("/api/v1/customers", params={"limit": 100},
                             headers={"Authorization": f"Bearer {demo['tokens'][role]}"})
        assert r.status_code == 200, r.text
        seen[role] = r.json()["items"]
    people = [c for c in seen["company_cs"] if c["id_number"]]
    assert people and all(c["id_number"] in demo["id_numbers"] for c in people)
    assert {c["id_number"] for c in seen["finance"] if c["id_number"]} <= demo["id_numbers"]
    masked = {mask_id_number(c["id_number"]) for c in people}
    assert {c["id_number"] for c in seen["front_desk"] if c["id_number"]} <= masked
    assert all(c["phone"] in demo["phones"] for c in seen["front_desk"] if c["phone"])  # the desk calls back
    assert seen["technician"] == []


async def test_technician_sees_a_contact_phone_only_on_tickets_it_executes_seed_004(client, world):
    from core import tickets

    desk = await world.principal("front_desk")
    mine = await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                              "title": "水管漏水", "unit_id": world.units[0]["id"],
                                              "contact_phone": "13911112222", "executor_id": world.staff["technician"]})
    other = await tickets.create_ticket(desk, {"project_id": world.project["id"], "kind": "repair", "channel": "hotline",
                                               "title": "灯不亮", "unit_id": world.units[1]["id"], "contact_phone": "13933334444"})
    tech = world.headers("technician")
    assert (await client.get(f"/api/v1/tickets/{mine['id']}", headers=tech)).json()["contact_phone"] == "13911112222"
    assert (await client.get(f"/api/v1/tickets/{other['id']}", headers=tech)).status_code == 404
    listed = (await client.get("/api/v1/tickets", headers=tech)).json()["items"]
    assert [t["id"] for t in listed] == [mine["id"]] and "contact_phone" not in listed[0]


async def test_onboarding_export_of_raw_customer_data_is_company_cs_only_and_audited_seed_004(client, world):
    url = f"/portal/onboarding/projects/{world.project['id']}/export"
    for role in ("project_manager", "supervisor", "front_desk", "finance"):
        r = await client.get(url, headers=world.headers(role), follow_redirects=False)
        assert r.status_code == 403, (role, r.status_code)
    r = await client.get(url, headers=world.headers("company_cs"))
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    log = (await client.get("/api/v1/audit", headers=world.headers("company_cs"))).json()["items"]
    assert [(e["action"], e["object_id"]) for e in log][:1] == [("export.onboarding", world.project["id"])]


def _line(message: str, *args, exc: BaseException | None = None) -> dict:
    from core.observability import JsonFormatter

    record = logging.LogRecord("guanjia.test", logging.ERROR, __file__, 1, message, args,
                               (type(exc), exc, None) if exc else None)
    return json.loads(JsonFormatter().format(record))


def test_json_log_lines_mask_phone_and_id_numbers_seed_004():
    line = _line("customer %s called from %s, ID %s", "张三", "13812345678", "440301199001011234",
                 exc=ValueError('duplicate key (tenant_id, phone)=(7, +86 139-1234-5678) id 44030119900101123X'))
    text = json.dumps(line, ensure_ascii=False)
    for raw in ("13812345678", "440301199001011234", "139-1234-5678", "44030119900101123X"):
        assert raw not in text, text
    assert "138****5678" in line["msg"] and "4403**********1234" in line["msg"]
    assert _line("ticket 12345 took 250 ms on 2026-09-30")["msg"] == "ticket 12345 took 250 ms on 2026-09-30"


async def test_request_body_with_a_phone_that_fails_leaves_no_raw_phone_in_the_json_log_seed_004(client, world,
                                                                                                 monkeypatch):
    """An unhandled error while a request carrying a phone number is served is logged with the number masked."""
    from core.api import controllers
    from core.observability import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)

    monkeypatch.setattr(controllers.places, "present_customer", lambda p, row: (_ for _ in ()).throw(
        RuntimeError(f"could not present customer {row.get('name')} phone {row.get('phone')}")))
    try:
        r = await client.post("/api/v1/customers", json={"name": "李四", "phone": "13698765432"},
                              headers=world.headers("front_desk"))
    finally:
        logging.getLogger().removeHandler(handler)
    assert r.status_code == 500
    logged = stream.getvalue()
    assert "could not present customer" in logged and "136****5432" in logged
    assert "13698765432" not in logged
