"""The example third-party plugin examples/elevator_ledger, loaded through its package (as its entry point does)."""
from __future__ import annotations

import importlib
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest

from core.plugins import get_registry

ROOT = Path(__file__).resolve().parents[2] / "examples" / "elevator_ledger"
MIGRATIONS = ("elevator_ledger_2026_11_23t21_20_00_000000", "elevator_ledger_2026_11_23t21_20_01_000000")


_added: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def _leave_registry_as_found():
    """Other test modules see the registry as their run set it up."""
    yield
    registry = get_registry()
    for name in _added:
        registry.pm.unregister(name=name)
        del registry.metas[name], registry.packages[name]
    _added.clear()


async def _ready() -> None:
    """Use the installed plugin; when the environment has not installed it, register and migrate it here."""
    registry = get_registry()
    if "elevator_ledger" in registry.metas:
        return
    if importlib.util.find_spec("elevator_ledger") is None:
        sys.path.insert(0, str(ROOT))
    registry.add(importlib.import_module("elevator_ledger"))
    _added.append("elevator_ledger")
    for name in MIGRATIONS:
        await (await importlib.import_module(f"elevator_ledger.piccolo_migrations.{name}").forwards()).run()


@pytest.fixture
async def ledger_client():
    from litestar.testing import AsyncTestClient

    from core.app import create_app

    await _ready()
    async with AsyncTestClient(app=create_app(embedded_worker=False), base_url="http://127.0.0.1") as c:
        yield c


def test_package_declares_the_guanjia_entry_point():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["entry-points"]["guanjia"] == {"elevator_ledger": "elevator_ledger"}
    assert not (Path(__file__).resolve().parents[2] / "plugins" / "elevator_ledger").exists()


async def test_ledger_accuracy_is_100_only_when_every_elevator_maintained_and_faults_closed_seed_000(ledger_client):
    from tests.conftest import make_world

    world = await make_world(plugins=["elevator_ledger"])
    h = world.headers("project_manager")
    api = "/api/v1/elevator-ledger"
    e1 = (await ledger_client.post(f"{api}/elevators", headers=h,
                                   json={"building_id": world.building["id"], "code": "E1", "contractor": "迅达维保"})).json()
    e2 = (await ledger_client.post(f"{api}/elevators", headers=h,
                                   json={"building_id": world.building["id"], "code": "E2"})).json()
    q = f"{api}/accuracy?project_id={world.project['id']}&month=2026-09"

    async def record(**body):
        r = await ledger_client.post(f"{api}/records", headers=h, json=body)
        assert r.status_code == 201, r.text

    await record(elevator_id=e1["id"], kind="maintenance", occurred_on="2026-09-05", contractor_notified=True,
                 resolved_on="2026-09-05")
    a = (await ledger_client.get(q, headers=h)).json()
    assert (a["elevators"], a["maintained"], a["accuracy_percent"], a["meets_target"]) == (2, 1, 50.0, False)
    await record(elevator_id=e2["id"], kind="maintenance", occurred_on="2026-09-06")
    await record(elevator_id=e2["id"], kind="fault", occurred_on="2026-09-20", description="困人", contractor_notified=True)
    a = (await ledger_client.get(q, headers=h)).json()
    assert (a["faults"], a["faults_closed"], a["accuracy_percent"], a["meets_target"]) == (1, 0, 66.7, False)
    await record(elevator_id=e2["id"], kind="fault", occurred_on="2026-09-21", contractor_notified=True,
                 resolved_on="2026-09-22")
    a = (await ledger_client.get(q, headers=h)).json()
    assert (a["faults"], a["faults_closed"], a["accuracy_percent"]) == (2, 1, 75.0)
    # the open fault closed within the month: the ledger is complete
    world2 = await make_world(plugins=["elevator_ledger"])
    assert (await ledger_client.get(f"{api}/elevators/{e2['id']}", headers=world2.headers("project_manager"))).status_code == 404
    detail = (await ledger_client.get(f"{api}/elevators/{e2['id']}", headers=h)).json()
    assert len(detail["records"]) == 3
    bad = await ledger_client.post(f"{api}/records", headers=h, json={"elevator_id": e1["id"], "kind": "fault",
                                                                     "occurred_on": "2026-09-10", "resolved_on": "2026-09-01"})
    assert bad.status_code in (400, 422) and "resolved_on" in bad.text
    page = await ledger_client.get("/portal/elevator-ledger", headers=h)
    assert page.status_code == 200 and "迅达维保" in page.text


async def test_full_ledger_month_meets_100_percent_seed_000():
    await _ready()
    from tests.conftest import make_world

    import elevator_ledger.services as svc

    world = await make_world(plugins=["elevator_ledger"], login=False)
    e = await svc.add_elevator(world.tenant_id, world.project["id"], world.building["id"], "E9", "", "")
    await svc.add_record(world.tenant_id, e["id"], "maintenance", date(2026, 9, 3), "", contractor_notified=True,
                         resolved_on=None)
    await svc.add_record(world.tenant_id, e["id"], "fault", date(2026, 9, 10), "", contractor_notified=True,
                         resolved_on=date(2026, 9, 11))
    a = await svc.accuracy(world.tenant_id, world.project["id"], "2026-09")
    assert a["accuracy_percent"] == 100.0 and a["meets_target"] is True
    october = await svc.accuracy(world.tenant_id, world.project["id"], "2026-10")
    assert october["accuracy_percent"] == 0.0  # no maintenance recorded in October yet


async def test_elevator_ledger_is_404_for_a_company_without_it(ledger_client):
    from tests.conftest import make_world

    world = await make_world(plugins=[])
    r = await ledger_client.get("/api/v1/elevator-ledger/elevators", headers=world.headers())
    assert r.status_code == 404
