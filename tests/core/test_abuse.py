"""Abuse of text fields and request bodies: control characters, NUL bytes, oversize and malformed bodies.
Each gets a problem-details answer (or is cleaned) and nothing half-written."""
from __future__ import annotations

from core.tables import Customer, Ticket
from core.tenancy import TenantScope


def _ticket(world, **extra):
    return {"project_id": world.project["id"], "kind": "inquiry", "channel": "hotline", "title": "询问", **extra}


async def test_control_characters_are_stripped_but_newlines_kept(client, world):
    r = await client.post("/api/v1/tickets", headers=world.headers(), json=_ticket(
        world, title="电梯\x00困人\x1b[31m", description="第一行\n第二行\t完\x07"))
    assert r.status_code == 201, r.text
    stored = await TenantScope(world.tenant_id).get(Ticket, r.json()["id"], Ticket.title, Ticket.description)
    assert stored == {"title": "电梯困人[31m", "description": "第一行\n第二行\t完"}


async def test_nul_byte_in_a_customer_name_is_cleaned_not_a_500(client, world):
    r = await client.post("/api/v1/customers", headers=world.headers("company_cs"),
                          json={"name": "王\x00五", "phone": "13900000001"})
    assert r.status_code == 201, r.text
    assert (await TenantScope(world.tenant_id).get(Customer, r.json()["id"], Customer.name))["name"] == "王五"


async def test_too_long_text_is_refused_by_its_field_and_nothing_is_written(client, world):
    before = await TenantScope(world.tenant_id).count(Ticket)
    r = await client.post("/api/v1/tickets", headers=world.headers(), json=_ticket(world, description="长" * 5001))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "description"
    assert await TenantScope(world.tenant_id).count(Ticket) == before


async def test_malformed_json_and_wrong_encoding_are_400_problems(client, world):
    for body in (b'{"title": ', b"\xff\xfe\x00{", b"[1, 2, 3]"):
        r = await client.post("/api/v1/tickets", headers={**world.headers(), "content-type": "application/json"},
                              content=body)
        assert r.status_code in (400, 422), (body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["status"] == r.status_code


async def test_oversize_body_is_refused_before_it_is_read_whole(client, world):
    huge = b'{"title": "' + b"x" * (10 * 1024 * 1024 + 1024) + b'"}'
    r = await client.post("/api/v1/tickets", headers={**world.headers(), "content-type": "application/json"},
                          content=huge)
    assert r.status_code == 413, r.status_code
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_deeply_nested_json_is_a_problem_not_a_crash(client, world):
    nested = "[" * 5_000 + "]" * 5_000
    r = await client.post("/api/v1/tickets", headers={**world.headers(), "content-type": "application/json"},
                          content=nested.encode())
    assert r.status_code in (400, 422), r.status_code
    assert r.headers["content-type"].startswith("application/problem+json")
