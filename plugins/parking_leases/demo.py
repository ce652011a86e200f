"""Demo data of parking leases: each demo project gets a garage (and the estate a surface lot), the
published plan and fees, leases signed at the desk, a full EV type with a waiting list, a lease that
ends soon (renewal reminder) and a space that frees up and is offered to the next in line."""
from __future__ import annotations

import struct
import zlib
from datetime import date, datetime, time, timedelta
from typing import Any

from core import TenantScope, principal_of
from core import tables as ct
from plugins.parking_leases import services as svc

FEES = {  # (monthly, quarterly, yearly) in fen, deposit
    "standard": ((30000, 87000, 330000), 50000), "small": ((20000, 57000, 216000), 30000),
    "accessible": ((15000, 43500, 165000), 0), "ev": ((45000, 130000, 495000), 80000),
    "vip": ((120000, 350000, 1320000), 200000),
}
DOCUMENTS = ["身份证 ID card", "房产证或租赁合同 Title deed or rental contract", "机动车行驶证 Vehicle licence"]
STEPS = ["客服中心前台受理申请,核对所需资料 The front desk receives the application and checks the documents",
         "有空闲车位的,当场分配车位并签订车位租赁协议 A free space is offered and the lease signed on the spot",
         "暂无车位的,书面说明原因并登记轮候 When none is free, the reason is given in writing and the applicant waits",
         "车位空出时按轮候顺序通知,3天内确认 Freed spaces are offered in turn, to accept within 3 days",
         "缴纳租金及押金,登记车牌 Pay the fee and deposit; plates are registered"]
PLATES = ["粤B12345", "粤B6K821", "粤BD12345", "粤B3M7Q2", "粤B90210", "粤BF55678", "粤B1A2B3", "粤B7Z8Y9",
          "粤B24680", "粤B13579", "粤BX1234", "粤BH8866", "粤B5T5T5", "粤B0C0D0"]


def _png() -> bytes:
    """A 1×1 white PNG standing in for a scanned document."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def _at(day: date, hh: int, mm: int) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=svc.TZ)


async def seed(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: datetime) -> None:
    for kind, project in projects.items():
        if await svc.is_enabled(tenant_id, project["id"]):
            await _seed_project(tenant_id, kind, project, staff, as_of)


async def _customers(scope: TenantScope, project_id: int, n: int) -> list[int]:
    rows = await scope.select(ct.Occupancy, ct.Occupancy.customer_id).where(
        (ct.Occupancy.unit_id.project_id == project_id) & ct.Occupancy.end_date.is_null()).order_by(
        ct.Occupancy.id).limit(n * 2)
    return list(dict.fromkeys(r["customer_id"] for r in rows))[:n]


async def _apply(desk, manager, project_id: int, customer_id: int, space_type: str, term: str, plates: list[str],
                 received: datetime, minutes: int) -> dict[str, Any]:
    """One application at the desk: documents attached and ticked, a space offered (or the waiting list)."""
    app = await svc.create_application(desk, {"project_id": project_id, "customer_id": customer_id,
                                              "space_type": space_type, "term": term, "plates": plates},
                                       now=received)
    for i, name in enumerate(app["checklist"]):
        await svc.add_document(desk, app["id"], name, f"scan-{i + 1}.png", "image/png", _png(),
                               now=received + timedelta(minutes=1 + i))
    await svc.check_documents(desk, app["id"], {name: True for name in app["checklist"]},
                              now=received + timedelta(minutes=minutes // 2))
    result = await svc.allocate(desk, app["id"], None, now=received + timedelta(minutes=minutes // 2 + 1))
    if result["outcome"] == "offered":
        await svc.sign_lease(desk, app["id"], {"start_date": received.astimezone(svc.TZ).date()},
                             now=received + timedelta(minutes=minutes))
    return result


async def _seed_project(tenant_id: int, kind: str, project: dict[str, Any], staff: dict[str, int],
                        as_of: datetime) -> None:
    scope = TenantScope(tenant_id)
    pid = project["id"]
    company = await principal_of(tenant_id, staff["company_cs"])
    desk, manager = (await principal_of(tenant_id, staff["front_desk"]),
                     await principal_of(tenant_id, staff["project_manager"]))
    desk = desk if desk.sees_project(pid) else company
    manager = manager if manager.sees_project(pid) else company
    today = svc.local_date(as_of)
    residential = kind == "residential"
    code = "B1" if residential else "B3"
    garage = await svc.create_garage(manager, {"project_id": pid, "code": code, "kind": "garage",
                                               "name": "地下车库 Underground garage" if residential else
                                               "B3 地下停车库 B3 garage"})
    await svc.create_space_range(manager, garage["id"], {"first": f"{code}-001", "last": f"{code}-030",
                                                         "zone": code, "space_type": "standard"})
    await svc.create_space_range(manager, garage["id"], {"first": f"{code}-EV01", "last": f"{code}-EV03",
                                                         "zone": code, "space_type": "ev"})
    await svc.create_space_range(manager, garage["id"], {"first": f"{code}-A01", "last": f"{code}-A02",
                                                         "zone": code, "space_type": "accessible"})
    if residential:
        lot = await svc.create_garage(manager, {"project_id": pid, "code": "S1", "kind": "surface",
                                                "name": "地面停车场 Surface lot"})
        await svc.create_space_range(manager, lot["id"], {"first": "S1-01", "last": "S1-12", "zone": "地面",
                                                          "space_type": "small"})
    else:
        await svc.create_space_range(manager, garage["id"], {"first": f"{code}-V01", "last": f"{code}-V06",
                                                             "zone": code, "space_type": "vip"})
    types = ["standard", "small", "accessible", "ev"] if residential else ["standard", "accessible", "ev", "vip"]
    await svc.publish_plan(manager, pid, {
        "title": "车位使用方案 Parking plan", "decision_ref": f"{project['code']}-业主大会-2026-02号",
        "decision_date": today - timedelta(days=120),
        "summary": "车位优先出租给本项目业主,其次租户;费用按车位类型与租期收取。"
                   "Spaces go to owners of the project first, then renters; fees by space type and term.",
        "required_documents": DOCUMENTS, "process_steps": STEPS,
        "fees": [{"space_type": t, "term": term, "amount_fen": FEES[t][0][i], "deposit_fen": FEES[t][1]}
                 for t in types for i, term in enumerate(("monthly", "quarterly", "yearly"))]},
        now=as_of - timedelta(days=100))
    customers = await _customers(scope, pid, 12)
    if len(customers) < 8:
        return
    # leases signed at the desk over the last weeks, most within the seed's 20 minutes, two over it
    minutes = [12, 16, 9, 18, 25, 14, 22, 11]
    plan = [("standard", "yearly"), ("standard", "quarterly"), ("ev", "yearly"), ("ev", "quarterly"),
            ("standard", "monthly"), ("accessible", "yearly"), ("ev", "yearly"), ("standard", "yearly")]
    for i, ((space_type, term), mins) in enumerate(zip(plan, minutes)):
        received = _at(today - timedelta(days=60 - i * 6), 9 + i % 6, 5 * i % 60)
        await _apply(desk, manager, pid, customers[i], space_type, term, PLATES[i:i + 1 + i % 2], received, mins)
    # the EV type is full now: two more applicants wait, with the reason in writing
    for j, cust in enumerate(customers[8:10]):
        await _apply(desk, manager, pid, cust, "ev", "quarterly", [PLATES[10 + j]],
                     _at(today - timedelta(days=5 - j), 15, 10), 10)
    # a contract taken over from before, ending within 30 days: its renewal reminder goes out
    old = await scope.select(svc.Space).where((svc.Space.project_id == pid) & (svc.Space.status == "free")
                                              & (svc.Space.space_type == "standard")).order_by(svc.Space.number).first()
    await svc.create_lease(manager, {"space_id": old["id"], "customer_id": customers[10 % len(customers)],
                                     "term": "quarterly", "start_date": today - timedelta(days=70),
                                     "plates": [PLATES[12]]}, now=as_of - timedelta(days=70))
    # an EV lease ends early: the space frees up and is offered to the first in line, with a deadline
    ev = await scope.select(svc.Lease).where((svc.Lease.project_id == pid) & (svc.Lease.status == "active")
                                             & (svc.Lease.space_id.space_type == "ev")).order_by(svc.Lease.id).first()
    if ev:
        await svc.terminate_lease(desk, ev["id"], "客户车辆出售,提前退租 The customer sold the car", today - timedelta(days=1),
                                  now=as_of - timedelta(hours=20))
    await svc.lease_sweep(tenant_id, as_of)
    await svc.offer_waiting(tenant_id, as_of)
