"""Demo data of the commercial buildings plugin: the demo company's commercial complex gets its zones and
teams, a day of visitors, pass-outs in every state, stored items, VIP vehicles and move-in checklists."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core import TenantScope, principal_of, tables

from plugins.commercial_buildings import services as svc


async def seed(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: datetime) -> None:
    plaza = projects.get("commercial")
    if plaza is None:
        return
    scope = TenantScope(tenant_id)
    manager = await principal_of(tenant_id, staff["project_manager"])
    desk = await principal_of(tenant_id, staff["front_desk"])
    tower = await scope.select(tables.Building).where(tables.Building.project_id == plaza["id"]).order_by(
        tables.Building.id).first()
    if tower is None:
        return
    top = max(tower["floors"], 5)
    zones = {}
    for kind, name, lo, hi, lead, members in (
            ("lobby", "一楼大堂 Lobby", 1, 1, "front_desk", ["butler"]),
            ("retail", "裙房商业 Retail podium", 1, min(4, top), "team_lead", ["front_desk"]),
            ("office", "写字楼 Office floors", 5, min(28, top), "butler", ["technician"]),
            ("hotel", "酒店 Hotel floors", min(29, top), top, "supervisor", ["technician"]),
            ("garage", "地下三层停车库 B3 garage", -3, -1, "team_lead", ["butler"])):
        zones[kind] = await svc.create_zone(manager, {
            "project_id": plaza["id"], "building_id": tower["id"], "kind": kind, "name": name, "floor_from": lo,
            "floor_to": hi, "lead_id": staff[lead], "member_ids": [staff[m] for m in members]})
    units = await scope.select(tables.Unit).where(tables.Unit.project_id == plaza["id"]).order_by(tables.Unit.id)
    office = [u for u in units if u["use"] == "office"] or units
    holders = await scope.select(tables.Occupancy, tables.Occupancy.customer_id, tables.Occupancy.unit_id).where(
        tables.Occupancy.unit_id.is_in([u["id"] for u in office[:6]]) & tables.Occupancy.end_date.is_null()
    ).order_by(tables.Occupancy.id)
    if not holders:
        return
    host = holders[0]
    day = as_of.astimezone(svc.TZ).replace(hour=9, minute=0, second=0, microsecond=0)
    if day > as_of:
        day -= timedelta(days=1)
    lobby = zones["lobby"]["id"]

    # visitors: inside, left, expected, one still inside since yesterday, one old enough to be purged
    people = [("李明", "商务洽谈 business meeting", "110101199003071234"), ("王芳", "面试 interview", "440301198805122345"),
              ("张伟", "送货 delivery", "310101197712303456")]
    for i, (name, purpose, idn) in enumerate(people):
        v = await svc.register_visitor(desk, {"project_id": plaza["id"], "lobby_id": lobby, "name": name,
                                              "host_customer_id": host["customer_id"], "purpose": purpose,
                                              "id_type": "id_card", "id_number": idn,
                                              "time_in": day + timedelta(minutes=40 * i)})
        if i == 1:
            await svc.visitor_leaves(desk, v["id"], at=day + timedelta(hours=2))
    await svc.pre_register_visitor(desk, {"project_id": plaza["id"], "lobby_id": lobby, "name": "陈静",
                                          "host_customer_id": host["customer_id"], "purpose": "签约 contract signing",
                                          "expected_at": day + timedelta(hours=5)})
    await svc.register_visitor(desk, {"project_id": plaza["id"], "lobby_id": lobby, "name": "赵强",
                                      "host_customer_id": host["customer_id"], "purpose": "加班 working late",
                                      "id_number": "440301199201014567", "time_in": day - timedelta(hours=12)})
    await svc.flag_still_inside(day)
    old = await svc.register_visitor(desk, {"project_id": plaza["id"], "lobby_id": lobby, "name": "刘洋",
                                            "host_customer_id": host["customer_id"], "purpose": "拜访 visit",
                                            "id_number": "440301198001015678", "time_in": day - timedelta(days=120)})
    await svc.visitor_leaves(desk, old["id"], at=day - timedelta(days=120) + timedelta(hours=1))
    await svc.purge_visitor_ids(as_of)

    # an authorised contact, and pass-outs: requested, confirmed, released, rejected, expired
    contact = await scope.insert(tables.Customer, name="孙助理 (授权联系人)", phone="13800138000", kind="person")
    await svc.add_contact(desk, {"unit_id": host["unit_id"], "authorised_by_id": host["customer_id"],
                                 "contact_id": contact["id"]}, now=day)

    async def pass_out(label: str, offset_hours: int) -> dict[str, Any]:
        return await svc.request_pass_out(
            desk, unit_id=host["unit_id"], items=[{"description": label, "quantity": 2}, {"description": "办公椅 office chairs",
                                                                                         "quantity": 6}],
            carrier_name="顺达搬家 Shunda Movers", carrier_phone="13900139000",
            window_start=day + timedelta(hours=offset_hours), window_end=day + timedelta(hours=offset_hours + 4), now=day)

    await pass_out("文件柜 filing cabinets", 9)
    confirmed = await pass_out("打印机 printers", 8)
    await svc.confirm_in_person(desk, confirmed["id"], host["customer_id"], now=day)
    released = await pass_out("服务器机柜 server rack", 0)
    link = await svc.send_link(desk, released["id"], contact["id"], now=day)
    await svc.confirm_by_token(tenant_id, link["token"], now=day + timedelta(minutes=10))
    await svc.release_pass_out(desk, released["id"], note="物品与清单一致 items match the list",
                               now=day + timedelta(hours=1))
    rejected = await pass_out("会议桌 meeting table", 6)
    await svc.reject_pass_out(desk, rejected["id"], "业主未同意 the owner did not agree", now=day)
    await svc.request_pass_out(
        desk, unit_id=host["unit_id"], items=[{"description": "旧沙发 old sofa", "quantity": 1}],
        carrier_name="个人 private", window_start=day - timedelta(days=2), window_end=day - timedelta(days=2) + timedelta(hours=3),
        now=day - timedelta(days=3))
    await svc.expire_pass_outs(day)

    # item storage: one waiting, one handed over
    await svc.deposit_item(desk, {"project_id": plaza["id"], "lobby_id": lobby, "description": "文件袋 document bag",
                                  "depositor_name": "快递员 courier", "for_name": "华信科技 前台", "pieces": 1}, now=day)
    kept = await svc.deposit_item(desk, {"project_id": plaza["id"], "lobby_id": lobby, "description": "雨伞 umbrella",
                                         "depositor_name": "李明", "pieces": 1}, now=day)
    await svc.pick_up_item(desk, kept["id"], kept["pickup_code"], "李明", now=day + timedelta(hours=3))

    # VIP vehicles and an arrival the garage team was told about
    vip = await svc.add_vip_vehicle(desk, {"project_id": plaza["id"], "plate": "粤B 88888", "owner_name": "周董事长",
                                           "customer_id": host["customer_id"], "note": "专用车位 B3-001"})
    await svc.add_vip_vehicle(desk, {"project_id": plaza["id"], "plate": "粤B D12345", "owner_name": "酒店贵宾 hotel VIP"})
    await svc.vehicle_arrives(desk, plaza["id"], vip["plate"], at=day + timedelta(minutes=5))

    # move-in checklists: one within 15/30 minutes, one over, one waiting
    second = holders[1] if len(holders) > 1 else host
    for who, wait, work in ((host, 8, 25), (second, 22, 41)):
        c = await svc.create_checklist(desk, {"unit_id": who["unit_id"], "customer_id": who["customer_id"],
                                              "kind": "move_in", "arrived_at": day + timedelta(hours=1)})
        await svc.start_checklist(desk, c["id"], at=day + timedelta(hours=1, minutes=wait))
        await svc.tick_items(desk, c["id"], {i["name"]: True for i in c["items"]})
        await svc.finish_checklist(desk, c["id"], at=day + timedelta(hours=1, minutes=wait + work))
    await svc.create_checklist(desk, {"unit_id": second["unit_id"], "customer_id": second["customer_id"],
                                      "kind": "move_out", "arrived_at": day + timedelta(hours=3)})

    # an after-hours air-conditioning request of an office tenant, for the office zone's lead
    office_unit = next((u for u in office if u["id"] == host["unit_id"]), office[0])
    if office_unit["use"] == "office":
        await svc.request_after_hours_ac(desk, {"unit_id": office_unit["id"], "date": (day + timedelta(days=1)).date().isoformat(),
                                                "start": "19:00", "end": "22:00", "customer_id": host["customer_id"],
                                                "area": f"{office_unit['room']} 全层 whole unit"}, now=day)
