"""Staff login: tokens scoped to one company, wrong passwords, throttling, logout, several companies."""
from __future__ import annotations

import os

import pytest

from tests.conftest import PASSWORD

PROBLEM = "application/problem+json"


def _login_of(world, role: str) -> str:
    return f"{world.tenant['slug']}-{role}"


async def test_login_gives_a_token_for_the_company_and_role(client, world):
    r = await client.post("/api/v1/auth/login", json={"login": _login_of(world, "supervisor"), "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tenant"] == world.tenant["slug"] and body["role"] == "supervisor" and body["token"].startswith("gj_")
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["tenant_id"] == world.tenant_id and me.json()["user_id"] == world.staff["supervisor"]
    assert me.json()["project_ids"] == [world.project["id"]]


async def test_wrong_password_is_a_401_problem_naming_password(client, world):
    r = await client.post("/api/v1/auth/login", json={"login": _login_of(world, "butler"), "password": "wrong-password"})
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["errors"][0]["field"] == "password" and r.headers["www-authenticate"] == "Bearer"
    r = await client.post("/api/v1/auth/login", json={"login": "nobody-at-all", "password": "whatever"})
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "password"  # same answer: no login probing
    r = await client.post("/api/v1/auth/login", json={"login": _login_of(world, "butler")})
    assert r.status_code in (400, 422) and r.json()["errors"][0]["field"] == "password"


async def test_login_is_throttled_after_10_failures_even_with_the_right_password(client, world):
    login = _login_of(world, "finance")
    for _ in range(10):
        r = await client.post("/api/v1/auth/login", json={"login": login, "password": "bad-guess"})
        assert r.status_code == 401
    r = await client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    assert r.status_code == 429 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["title"] == "Too many requests"


async def test_requests_without_a_valid_token_are_401(client, world):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": f"Bearer gj_{world.tenant_id}_forged"}):
        r = await client.get("/api/v1/tickets", headers=headers)
        assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)


async def test_a_token_of_company_a_cannot_read_company_b(client, world, other_world):
    r = await client.post("/api/v1/tickets", json={"project_id": other_world.project["id"], "kind": "repair",
                                                   "channel": "hotline", "title": "漏水"},
                          headers=other_world.headers())
    theirs = r.json()
    for url in (f"/api/v1/tickets/{theirs['id']}", f"/api/v1/customers/{other_world.customers[0]['id']}",
                f"/api/v1/projects/{other_world.project['id']}", f"/api/v1/units/{other_world.units[0]['id']}"):
        r = await client.get(url, headers=world.headers("company_cs"))
        assert r.status_code == 404 and r.headers["content-type"].startswith(PROBLEM), url
    # a token names its company: swapping the company id in it does not open the other company
    token = world.tokens["company_cs"]
    forged = f"gj_{other_world.tenant_id}_{token.split('_', 2)[2]}"
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    listed = (await client.get("/api/v1/tickets", headers=world.headers("company_cs"))).json()["items"]
    assert theirs["id"] not in [t["id"] for t in listed]


async def test_logout_revokes_the_token(client, world):
    token = (await client.post("/api/v1/auth/login", json={"login": _login_of(world, "team_lead"),
                                                          "password": PASSWORD})).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 200
    r = await client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401 and r.headers["content-type"].startswith(PROBLEM)
    # the other sessions of the same person stay
    assert (await client.get("/api/v1/auth/me", headers=world.headers("team_lead"))).status_code == 200


async def test_a_user_in_two_companies_logs_into_the_one_named(client, world, other_world):
    from core import admin

    login = f"{world.tenant['slug']}-two-companies"
    user = await admin.create_user(login, "两家公司", PASSWORD)
    await admin.add_membership(world.tenant_id, user["id"], "front_desk", [world.project["id"]])
    await admin.add_membership(other_world.tenant_id, user["id"], "supervisor", [other_world.project["id"]])
    r = await client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD,
                                                      "tenant": other_world.tenant["slug"]})
    assert r.status_code == 200, r.text
    assert r.json()["tenant"] == other_world.tenant["slug"] and r.json()["role"] == "supervisor"
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["tenant_id"] == other_world.tenant_id and me["role"] == "supervisor"
    assert (await client.get(f"/api/v1/projects/{other_world.project['id']}", headers=headers)).status_code == 200
    assert (await client.get(f"/api/v1/projects/{world.project['id']}", headers=headers)).status_code == 404
    # without a company: the first membership, and the answer lists both
    r = await client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD})
    assert r.json()["tenant"] == world.tenant["slug"]
    assert {m["tenant"] for m in r.json()["memberships"]} == {world.tenant["slug"], other_world.tenant["slug"]}
    r = await client.post("/api/v1/auth/login", json={"login": login, "password": PASSWORD, "tenant": "no-such-company"})
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "tenant"


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the shared count lives in Redis")
async def test_failed_logins_are_counted_across_web_processes_through_redis(world):
    from core import auth
    from core.errors import Problem

    keys = (f"login:{_login_of(world, 'finance')}", "addr:203.0.113.9")
    for _ in range(10):
        await auth.throttle.fail(*keys)
    auth.throttle._failures.clear()  # another web process: nothing counted in its memory
    with pytest.raises(Problem) as refused:
        await auth.throttle.check(*keys)
    assert refused.value.status == 429
    await auth.throttle.clear(*keys)
    await auth.throttle.check(*keys)
