"""Demo data of move-in and decoration, in the residential project: a move-in batch in progress (households
invited, booked, waiting, at the desk and done, one within and one over the 15/30-minute targets, a
defect found at inspection), decoration applications in every state (in review, problems told, approved
with a permit, patrols, a violation and an out-of-hours complaint, acceptance requested, rectifying,
passed with the deposit due, refunded, completed, rejected), and moving out through the release gate.
Everything goes through the services, so each row is what the portal and the API would have made."""
from __future__ import annotations

import struct
import zlib
from datetime import date, datetime, time, timedelta
from typing import Any

from core import Problem, TenantScope, principal_of
from core import tables as ct
from plugins.move_in_decoration import services as svc

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png() -> bytes:
    """A 1×1 PNG standing in for a patrol photo."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xcc\x66")) + chunk(b"IEND", b""))


def beijing(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), svc.TZ)


async def seed(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: datetime) -> None:
    project = projects.get("residential")
    if project is None or not await svc.is_enabled(tenant_id, project["id"]):
        return
    roles = {}
    for role in ("front_desk", "project_manager", "supervisor", "technician", "finance", "company_cs"):
        p = await principal_of(tenant_id, staff[role], role)
        roles[role] = p if p.sees_project(project["id"]) else await principal_of(tenant_id, staff["company_cs"])
    await _move_in(tenant_id, project, roles, as_of)
    await _decoration(tenant_id, project, roles, as_of)
    await _moving_out(tenant_id, project, roles, as_of)


async def _free_units(scope: TenantScope, project_id: int, n: int) -> list[int]:
    """Units of the project nobody holds now (the ones handed over in a move-in), lowest first."""
    O, U = ct.Occupancy, ct.Unit
    held = {r["unit_id"] for r in await scope.select(O, O.unit_id).where(O.end_date.is_null())}
    rows = await scope.select(U, U.id).where((U.project_id == project_id) & (U.use == "residential")).order_by(U.id)
    return [r["id"] for r in rows if r["id"] not in held][:n]


async def _move_in(tenant_id: int, project: dict[str, Any], roles: dict[str, Any], as_of: datetime) -> None:
    scope = TenantScope(tenant_id)
    manager, desk = roles["project_manager"], roles["front_desk"]
    today = svc.local_date(as_of)
    yesterday = today - timedelta(days=1)
    batch = await svc.create_batch(manager, {"project_id": project["id"], "code": f"RH{today:%Y%m}",
                                             "name": f"{today.year}年第一批集中入伙 First move-in batch",
                                             "starts_on": yesterday - timedelta(days=1), "ends_on": today + timedelta(days=5)},
                                   now=as_of - timedelta(days=10))
    slots = []
    for day, hour in ((yesterday, 9), (yesterday, 10), (today, 9), (today + timedelta(days=1), 9)):
        slots.append(await svc.add_slot(manager, batch["id"], {"starts_at": beijing(day, hour),
                                                               "ends_at": beijing(day, hour + 1), "capacity": 4}))
    units = await _free_units(scope, project["id"], 6)
    fees = [{"item": "物业服务费 Property fee (3个月 months)", "amount_fen": 96000},
            {"item": "装修垃圾清运费 Debris removal", "amount_fen": 30000},
            {"item": "门禁卡工本费 Access cards", "amount_fen": 2000}]
    households = []
    for i, unit_id in enumerate(units):
        buyer = await scope.insert(ct.Customer, name=f"新业主{i + 1}", phone=f"1390000{i:04d}",
                                   id_number=f"44030519900101{i:04d}")
        h = await svc.add_household(manager, batch["id"], {"unit_id": unit_id, "customer_id": buyer["id"], "fees": fees,
                                                           "slot_id": slots[i % len(slots)]["id"] if i else None},
                                    now=as_of - timedelta(days=7))
        households.append(h)
    names = (await svc.settings_for(tenant_id, project["id"]))["move_in_documents"]
    # index: 0 invited (no slot) · 1 notice delivered · 2 waiting · 3 at the desk · 4 done in time · 5 done over time
    if len(households) > 1:
        await svc.deliver_notice(desk, households[1]["id"], now=as_of - timedelta(days=6))
    plans = [(4, beijing(yesterday, 9), 8, 22, True), (5, beijing(yesterday, 10), 20, 35, False)]
    for index, arrived, wait, process, defect in plans:
        if index >= len(households):
            continue
        hid = households[index]["id"]
        start = arrived + timedelta(minutes=wait)
        await svc.arrive(desk, hid, at=arrived)
        await svc.start_desk(desk, hid, at=start)
        await svc.check_documents(desk, hid, {n: True for n in names}, now=start + timedelta(minutes=5))
        await svc.hand_over(desk, hid, 3, 2, now=start + timedelta(minutes=8))
        items = [{"location": "客厅 Living room", "description": "墙面平整 Walls even"},
                 {"location": "卫生间 Bathroom", "description": "地漏排水慢 Floor drain slow" if defect else "排水正常 Drains",
                  "defect": defect}]
        await svc.record_inspection(desk, hid, items, now=start + timedelta(minutes=15))
        await svc.finish(desk, hid, at=start + timedelta(minutes=process))
    if len(households) > 3:
        hid = households[3]["id"]
        await svc.arrive(desk, hid, at=as_of - timedelta(minutes=40))
        await svc.start_desk(desk, hid, at=as_of - timedelta(minutes=30))
        await svc.check_documents(desk, hid, {n: True for n in names}, now=as_of - timedelta(minutes=25))
        await svc.hand_over(desk, hid, 3, 2, now=as_of - timedelta(minutes=20))
    if len(households) > 2:
        await svc.arrive(desk, households[2]["id"], at=as_of - timedelta(minutes=10))


async def _owned_units(scope: TenantScope, project_id: int, n: int) -> list[tuple[int, int]]:
    """(unit, owner) pairs of the project, one per unit."""
    O = ct.Occupancy
    rows = await scope.select(O, O.unit_id, O.customer_id).where(
        (O.unit_id.project_id == project_id) & (O.role == "owner") & O.end_date.is_null()
        & (O.unit_id.use == "residential")).order_by(O.unit_id)
    seen: dict[int, int] = {}
    for r in rows:
        seen.setdefault(r["unit_id"], r["customer_id"])
    return list(seen.items())[:n]


async def _application(roles: dict[str, Any], unit_id: int, customer_id: int, at: datetime, *, deposit: int = 200000,
                       structural: bool = False, company: str = "安居装饰工程有限公司") -> dict[str, Any]:
    start = svc.local_date(at) + timedelta(days=3)
    return await svc.create_application(roles["front_desk"], {
        "unit_id": unit_id, "customer_id": customer_id, "contractor_company": company, "contractor_manager": "赵工",
        "contractor_phone": "13600001234", "scope": "厨卫翻新、地面铺贴、墙面涂刷 Kitchen and bathroom, floors, walls"
        + ("; 拆除非承重隔墙 removing a non-bearing partition" if structural else ""),
        "structural_change": structural, "starts_on": start, "ends_on": start + timedelta(days=60), "deposit_fen": deposit,
        "workers": [{"name": "钱师傅", "id_number": "440301198001011234", "phone": "13700001111", "trade": "水电 plumbing"},
                    {"name": "孙师傅", "id_number": "44030119850202567X", "phone": "13700002222", "trade": "泥工 tiling"}]},
        now=at)


async def _approved(roles: dict[str, Any], app: dict[str, Any], at: datetime) -> None:
    if app["structural_change"]:
        await svc.structural_review(roles["project_manager"], app["id"], True, "隔墙非承重,同意 Non-bearing: accepted",
                                    now=at)
    await svc.approve(roles["supervisor"], app["id"], now=at + timedelta(hours=1), note="资料齐全 Complete")


async def _accepted(roles: dict[str, Any], app: dict[str, Any], at: datetime, passed: bool) -> dict[str, Any]:
    acceptance = await svc.request_acceptance(roles["front_desk"], app["id"], now=at)
    data = {"passed": passed, "fixes": [] if passed else ["卫生间闭水试验渗漏 Bathroom leak test failed",
                                                           "阳台栏杆未复原 Balcony railing not restored"],
            "reinspect_on": None if passed else svc.local_date(at) + timedelta(days=5)}
    return await svc.inspect(roles["technician"], acceptance["id"], data, at=at + timedelta(hours=20))


async def _decoration(tenant_id: int, project: dict[str, Any], roles: dict[str, Any], as_of: datetime) -> None:
    scope = TenantScope(tenant_id)
    pairs = await _owned_units(scope, project["id"], 9)
    if len(pairs) < 9:
        return
    day = timedelta(days=1)
    (u1, c1), (u2, c2), (u3, c3), (u4, c4), (u5, c5), (u6, c6), (u7, c7), (u8, c8), (u9, c9) = pairs
    # in review, submitted an hour ago
    await _application(roles, u1, c1, as_of - timedelta(hours=1))
    # problems found and told the same day (the SMS is not configured, so the desk phoned)
    app = await _application(roles, u2, c2, as_of - 2 * day)
    await svc.add_attachment(roles["front_desk"], app["id"], kind="drawing", label="平面布置图 Floor plan",
                             filename="plan.pdf", content=PDF, now=as_of - 2 * day)
    await svc.record_problems(roles["supervisor"], app["id"], ["缺少水电改造图 The plumbing and wiring drawing is missing",
                                                               "施工人员身份证复印件不全 Workers' ID copies incomplete"],
                              "", now=as_of - 2 * day + timedelta(hours=3))
    notice = (await svc.application_view(roles["supervisor"], app["id"]))["notices"][0]
    await svc.mark_told(roles["supervisor"], notice["id"], "phone", at=as_of - 2 * day + timedelta(hours=4),
                        note="已电话告知业主 Phoned the owner")
    # rejected
    app = await _application(roles, u3, c3, as_of - 10 * day, company="速装家装队")
    await svc.reject(roles["supervisor"], app["id"], "拆改承重墙,不予批准 Removes a load-bearing wall", now=as_of - 9 * day)
    # approved with a structural change, patrols, a violation, a photo and an out-of-hours complaint
    app = await _application(roles, u4, c4, as_of - 20 * day, structural=True)
    await _approved(roles, app, as_of - 19 * day)
    ok = await svc.record_patrol(roles["technician"], app["id"], {"at": as_of - 10 * day, "note": "施工有序 In order"},
                                 now=as_of - 10 * day)
    await svc.add_attachment(roles["technician"], app["id"], kind="patrol_photo", label="现场 On site", filename="site.png",
                             content=png(), now=as_of - 10 * day, patrol_id=ok["id"])
    bad = await svc.record_patrol(roles["technician"], app["id"], {
        "at": as_of - 3 * day, "note": "楼道堆放垃圾 Debris in the corridor",
        "violations": [{"description": "建筑垃圾堆放楼道 Debris left in the corridor"},
                       {"description": "未配灭火器 No fire extinguisher on site"}]}, now=as_of - 3 * day)
    await svc.correct_violation(roles["technician"], bad["violations"][1]["id"], at=as_of - 3 * day + timedelta(hours=5),
                                note="已配置 Provided")
    permit = await scope.select(svc.Permit).where(svc.Permit.application_id == app["id"]).first()
    seen = beijing(svc.local_date(as_of) - timedelta(days=2), 12, 30)
    if permit and permit["valid_from"] <= seen.date() <= permit["valid_to"]:
        await svc.report_outside_hours(roles["front_desk"], permit["id"], {
            "observed_at": seen, "description": "午休时间电钻噪音 Drilling during the midday rest", "customer_id": c1,
            "channel": "hotline"}, now=seen + timedelta(minutes=10))
    # acceptance requested yesterday
    app = await _application(roles, u5, c5, as_of - 30 * day)
    await _approved(roles, app, as_of - 29 * day)
    await svc.record_patrol(roles["technician"], app["id"], {"at": as_of - 20 * day}, now=as_of - 20 * day)
    await svc.request_acceptance(roles["front_desk"], app["id"], now=as_of - day)
    # failed acceptance: what must be fixed, re-inspection planned
    app = await _application(roles, u6, c6, as_of - 40 * day)
    await _approved(roles, app, as_of - 39 * day)
    await _accepted(roles, app, as_of - 5 * day, passed=False)
    # passed this morning: the deposit refund is due within a day
    app = await _application(roles, u7, c7, as_of - 45 * day)
    await _approved(roles, app, as_of - 44 * day)
    await _accepted(roles, app, as_of - 23 * timedelta(hours=1), passed=True)
    # refunded the day after passing
    app = await _application(roles, u8, c8, as_of - 60 * day)
    await _approved(roles, app, as_of - 59 * day)
    await _accepted(roles, app, as_of - 10 * day, passed=True)
    refund = await scope.select(svc.Refund).where(svc.Refund.application_id == app["id"]).first()
    await svc.record_refund(roles["finance"], refund["id"], {"method": "bank_transfer", "reference": "TR20260001"},
                            at=refund["created_at"] + timedelta(hours=6))
    # no deposit: completed on passing
    app = await _application(roles, u9, c9, as_of - 50 * day, deposit=0)
    await _approved(roles, app, as_of - 49 * day)
    await _accepted(roles, app, as_of - 15 * day, passed=True)


async def _moving_out(tenant_id: int, project: dict[str, Any], roles: dict[str, Any], as_of: datetime) -> None:
    scope = TenantScope(tenant_id)
    try:
        await svc.release_gate(tenant_id)
    except Problem:
        return  # no release gate for this company: moving out is off
    pairs = (await _owned_units(scope, project["id"], 12))[9:12]
    desk = roles["front_desk"]
    for i, (unit_id, owner_id) in enumerate(pairs):
        row = await svc.request_moving_out(desk, {
            "unit_id": unit_id, "items": [{"description": "双人床 Double bed", "quantity": 1},
                                          {"description": "纸箱 Boxes", "quantity": 6}],
            "carrier_name": "货拉拉 Movers", "carrier_phone": "13800138000",
            "window_start": as_of - timedelta(hours=2), "window_end": as_of + timedelta(hours=4)},
            now=as_of - timedelta(hours=3))
        if i == 0:
            await svc.moving_out_action(desk, row["id"], "confirm", customer_id=owner_id, now=as_of - timedelta(hours=2))
            await svc.moving_out_action(desk, row["id"], "release", note="物品与清单一致 Items as listed",
                                        now=as_of - timedelta(hours=1))
        elif i == 1:
            await svc.moving_out_action(desk, row["id"], "confirm", customer_id=owner_id,
                                        now=as_of - timedelta(minutes=30))
