"""Pass-outs (放行条, seed 001): released only after the unit's owner/renter or an authorised contact confirms,
in person or by a one-time link; every release recorded."""
from __future__ import annotations

from datetime import timedelta

from core import TenantScope, get_registry, tables
from plugins.commercial_buildings import services
from plugins.commercial_buildings.tables import PassOut, PassOutLink, Release
from tests.conftest import at
from tests.plugins.commercial_buildings.helpers import API, person, renter

NOW = at("2026-09-29 09:00")


def _body(w, unit_index=0, **extra):
    return {"unit_id": w.units[unit_index]["id"], "carrier_name": "顺达搬家", "carrier_phone": "13900139000",
            "window_start": "2020-01-01T08:00:00+08:00", "window_end": "2099-12-31T18:00:00+08:00",
            "items": [{"description": "文件柜", "quantity": 2}, {"description": "打印机", "quantity": 1,
                                                                  "photo_url": "https://img.example/p.jpg"}], **extra}


async def _request(client, w, **extra):
    r = await client.post(f"{API}/pass-outs", json=_body(w, **extra), headers=w.headers())
    assert r.status_code == 201, r.text
    return r.json()


async def test_pass_out_not_released_without_confirmation_seed_001(client, cworld):
    p = await _request(client, cworld)
    assert p["status"] == "requested" and len(p["items"]) == 2 and len(p["code"]) == 8
    r = await client.post(f"{API}/pass-outs/{p['id']}/release", json={"note": "try"}, headers=cworld.headers())
    assert r.status_code == 409 and "not been confirmed" in r.json()["detail"]
    # not through the portal either
    r = await client.post(f"/portal/commercial-buildings/pass-outs/{p['id']}/release", data={"note": "try"},
                          headers=cworld.headers(), follow_redirects=False)
    assert r.status_code in (302, 303) and "%E2%9C%97" in r.headers["location"]
    scope = TenantScope(cworld.tenant_id)
    assert (await scope.get(PassOut, p["id"]))["status"] == "requested"
    assert await scope.count(Release) == 0


async def test_confirmed_in_person_by_owner_then_released_and_recorded_seed_001(client, cworld):
    p = await _request(client, cworld)
    r = await client.post(f"{API}/pass-outs/{p['id']}/confirm", json={"customer_id": cworld.customers[0]["id"]},
                          headers=cworld.headers())
    assert r.status_code == 200 and r.json()["status"] == "confirmed" and r.json()["confirmed_via"] == "in_person"
    r = await client.post(f"{API}/pass-outs/{p['id']}/release",
                          json={"note": "核对无误", "items": [{"description": "文件柜", "quantity": 2}]},
                          headers=cworld.headers("team_lead"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "released"
    assert out["release"]["released_by_id"] == cworld.staff["team_lead"]
    assert out["release"]["items"] == [{"description": "文件柜", "quantity": 2}]
    r = await client.post(f"{API}/pass-outs/{p['id']}/release", json={}, headers=cworld.headers())
    assert r.status_code == 409 and "already been released" in r.json()["detail"]
    audit = await TenantScope(cworld.tenant_id).select(tables.AuditLog).where(tables.AuditLog.object_id == p["id"])
    assert [a["action"] for a in audit] == ["pass_out.confirmed", "pass_out.released"]


async def test_only_owner_renter_or_authorised_contact_may_confirm(client, cworld):
    p = await _request(client, cworld)
    stranger = await person(cworld, "路人")
    r = await client.post(f"{API}/pass-outs/{p['id']}/confirm", json={"customer_id": stranger["id"]},
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "customer_id"
    # the owner of another unit may not confirm either
    r = await client.post(f"{API}/pass-outs/{p['id']}/confirm", json={"customer_id": cworld.customers[1]["id"]},
                          headers=cworld.headers())
    assert r.status_code == 422
    r = await client.post(f"{API}/authorised-contacts", json={"unit_id": cworld.units[0]["id"],
                                                              "authorised_by_id": cworld.customers[0]["id"],
                                                              "contact_id": stranger["id"]}, headers=cworld.headers())
    assert r.status_code == 201, r.text
    contact = r.json()
    r = await client.post(f"{API}/authorised-contacts/{contact['id']}/revoke", headers=cworld.headers())
    assert r.status_code == 200
    r = await client.post(f"{API}/pass-outs/{p['id']}/confirm", json={"customer_id": stranger["id"]},
                          headers=cworld.headers())
    assert r.status_code == 422  # revoked
    await client.post(f"{API}/authorised-contacts", json={"unit_id": cworld.units[0]["id"],
                                                          "authorised_by_id": cworld.customers[0]["id"],
                                                          "contact_id": stranger["id"]}, headers=cworld.headers())
    r = await client.post(f"{API}/pass-outs/{p['id']}/confirm", json={"customer_id": stranger["id"]},
                          headers=cworld.headers())
    assert r.status_code == 200 and r.json()["confirmed_by_customer_id"] == stranger["id"]


async def test_renter_of_the_unit_may_confirm(client, cworld):
    tenant_company = await renter(cworld, 2)
    p = await _request(client, cworld, unit_id=cworld.units[2]["id"])
    r = await client.post(f"{API}/pass-outs/{p['id']}/confirm", json={"customer_id": tenant_company["id"]},
                          headers=cworld.headers())
    assert r.status_code == 200


async def test_one_time_link_confirms_once_seed_001(client, cworld):
    p = await _request(client, cworld)
    desk = await cworld.principal()
    r = await client.post(f"{API}/pass-outs/{p['id']}/links", json={"customer_id": cworld.customers[0]["id"]},
                          headers=cworld.headers())
    assert r.status_code == 201 and "token" not in r.json() and "url" not in r.json()
    link = await services.send_link(desk, p["id"], cworld.customers[0]["id"])
    sent = await TenantScope(cworld.tenant_id).select(tables.Notification).where(
        tables.Notification.recipient_customer_id == cworld.customers[0]["id"]).order_by(tables.Notification.id)
    assert len(sent) == 2 and link["token"] in sent[1]["body"]
    stored = await TenantScope(cworld.tenant_id).select(PassOutLink, PassOutLink.token_hash).where(PassOutLink.id == link["link_id"])
    assert stored[0]["token_hash"] != link["token"]  # only the hash is kept
    url = f"/public/{cworld.tenant['slug']}/commercial-buildings/pass-outs/confirm/{link['token']}"
    page = await client.get(url)
    assert page.status_code == 200 and "文件柜" in page.text
    page = await client.get(url)
    assert page.status_code == 200  # opening the link spends nothing
    r = await client.post(url, data={"decision": "confirm"}, headers={"accept": "application/json"})
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    r = await client.post(url, data={"decision": "confirm"}, headers={"accept": "application/json"})
    assert r.status_code == 409 and "already been used" in r.json()["detail"]
    page = await client.get(url)
    assert page.status_code == 409
    row = await TenantScope(cworld.tenant_id).get(PassOut, p["id"])
    assert row["confirmed_via"] == "link" and row["confirmed_by_customer_id"] == cworld.customers[0]["id"]


async def test_one_time_link_expires_and_is_unknown_elsewhere(client, cworld, other_cworld):
    p = await _request(client, cworld)
    desk = await cworld.principal()
    link = await services.send_link(desk, p["id"], cworld.customers[0]["id"], now=NOW)
    late = NOW + timedelta(hours=24, seconds=1)
    try:
        await services.confirm_by_token(cworld.tenant_id, link["token"], now=late)
        raise AssertionError("an expired link confirmed")
    except Exception as exc:  # noqa: BLE001
        assert getattr(exc, "status", None) == 410
    r = await client.post(f"/public/{other_cworld.tenant['slug']}/commercial-buildings/pass-outs/confirm/{link['token']}",
                          data={"decision": "confirm"}, headers={"accept": "application/json"})
    assert r.status_code == 404  # a token means nothing under another company
    r = await client.get(f"/public/{cworld.tenant['slug']}/commercial-buildings/pass-outs/confirm/not-a-token")
    assert r.status_code == 404


async def test_public_link_answers_404_when_the_plugin_is_disabled(client):
    from tests.conftest import make_world

    w = await make_world(plugins=[], kind="commercial")
    r = await client.get(f"/public/{w.tenant['slug']}/commercial-buildings/pass-outs/confirm/whatever")
    assert r.status_code == 404
    r = await client.get(f"{API}/pass-outs", headers=w.headers())
    assert r.status_code == 404


async def test_customer_rejects_through_the_link_and_release_stays_impossible(client, cworld):
    p = await _request(client, cworld)
    link = await services.send_link(await cworld.principal(), p["id"], cworld.customers[0]["id"])
    url = f"/public/{cworld.tenant['slug']}/commercial-buildings/pass-outs/confirm/{link['token']}"
    r = await client.post(url, data={"decision": "reject"})
    assert r.status_code == 200 and "拒绝" in r.text
    r = await client.post(f"{API}/pass-outs/{p['id']}/release", json={}, headers=cworld.headers())
    assert r.status_code == 409 and "rejected" in r.json()["detail"]


async def test_release_refused_outside_the_time_window_and_window_expires(client, cworld):
    desk = await cworld.principal()
    p = await services.request_pass_out(desk, unit_id=cworld.units[0]["id"], items=[{"description": "沙发"}],
                                        carrier_name="个人", window_start=NOW, window_end=NOW + timedelta(hours=2), now=NOW)
    await services.confirm_in_person(desk, p["id"], cworld.customers[0]["id"], now=NOW)
    try:
        await services.release_pass_out(desk, p["id"], now=NOW + timedelta(hours=3))
        raise AssertionError("released after the window")
    except Exception as exc:  # noqa: BLE001
        assert getattr(exc, "status", None) == 409
    expired = await services.expire_pass_outs(NOW + timedelta(hours=3))
    assert expired[str(cworld.tenant_id)] == 1
    assert str(cworld.tenant_id) not in await services.expire_pass_outs(NOW + timedelta(hours=3))
    assert (await TenantScope(cworld.tenant_id).get(PassOut, p["id"]))["status"] == "expired"


async def test_guard_looks_up_the_slip_by_code(client, cworld):
    p = await _request(client, cworld)
    r = await client.get(f"{API}/pass-outs/by-code/{p['code'].lower()}", headers=cworld.headers())
    assert r.status_code == 200 and r.json()["id"] == p["id"]
    r = await client.get(f"{API}/pass-outs/by-code/NOPE1234", headers=cworld.headers())
    assert r.status_code == 404


async def test_release_gate_is_offered_to_other_plugins_by_hook(cworld):
    gate = await get_registry().first("resolve_release_gate", tenant_id=cworld.tenant_id)
    desk = await cworld.principal()
    p = await gate.request(desk, unit_id=cworld.units[1]["id"], items=[{"description": "冰箱", "quantity": 1}],
                           carrier_name="搬家公司", window_start=NOW, window_end=NOW + timedelta(hours=4),
                           purpose="moving_out", source="residential_grids", now=NOW)
    assert p["purpose"] == "moving_out" and p["source"] == "residential_grids"
    assert await gate.who_may_confirm(cworld.tenant_id, cworld.units[1]["id"], now=NOW) == [cworld.customers[1]["id"]]
    await gate.confirm_in_person(desk, p["id"], cworld.customers[1]["id"], now=NOW)
    released = await gate.release(desk, p["id"], note="ok", now=NOW + timedelta(hours=1))
    assert released["status"] == "released" and released["release"]["items"] == [{"description": "冰箱", "quantity": 1}]


async def test_bad_pass_out_input_names_the_field_and_writes_nothing(client, cworld):
    r = await client.post(f"{API}/pass-outs", json={**_body(cworld), "items": []}, headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items"
    r = await client.post(f"{API}/pass-outs", json={**_body(cworld), "window_end": "2020-01-01T07:00:00+08:00"},
                          headers=cworld.headers())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "window_end"
    assert await TenantScope(cworld.tenant_id).count(PassOut) == 0
