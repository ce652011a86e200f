"""The audit log records reads of customer files; only the company CS department reads it; no route edits it."""
from __future__ import annotations


async def test_customer_file_read_is_audited_and_visible_to_company_cs_only(client, world):
    cid = world.customers[0]["id"]
    r = await client.get(f"/api/v1/customers/{cid}/file", headers=world.headers("supervisor"))
    assert r.status_code == 200
    log = await client.get("/api/v1/audit", headers=world.headers("company_cs"))
    assert log.status_code == 200
    entry = log.json()["items"][0]
    assert entry["action"] == "customer.file_read" and entry["object_id"] == cid
    assert entry["user_id"] == world.staff["supervisor"] and entry["address"]
    assert (await client.get("/api/v1/audit", headers=world.headers("supervisor"))).status_code == 403


async def test_audit_log_cannot_be_edited_through_any_route(app):
    writes = [(r.path, m) for r in app.routes for m in getattr(r, "methods", ())
              if "audit" in r.path and m not in ("GET", "HEAD", "OPTIONS")]
    assert writes == []


async def test_audit_entries_of_another_company_are_not_shown(client, world, other_world):
    await client.get(f"/api/v1/customers/{other_world.customers[0]['id']}/file", headers=other_world.headers("company_cs"))
    mine = (await client.get("/api/v1/audit", headers=world.headers("company_cs"))).json()["items"]
    assert all(e["tenant_id"] == world.tenant_id for e in mine)
