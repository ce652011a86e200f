"""Demo data of community events: a past Mid-Autumn-style event with its survey, sign-ups, check-ins,
return visits, summary and photo; an upcoming event with sign-ups and a waiting list; festival
decoration tasks; a birthday greeting to a customer who opted in."""
from __future__ import annotations

import struct
import zlib
from datetime import date, datetime, timedelta
from typing import Any

from core import TenantScope, principal_of
from core import tables as ct
from plugins.community_events import services as svc


def _png() -> bytes:
    """A 1×1 PNG standing in for an event photo."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xcc\x66")) + chunk(b"IEND", b""))


async def seed(tenant_id: int, projects: dict[str, dict[str, Any]], staff: dict[str, int], as_of: datetime) -> None:
    for project in projects.values():
        if await svc.is_enabled(tenant_id, project["id"]):
            await _seed_project(tenant_id, project, staff, as_of)
            break
    await svc.ensure_festival_tasks(tenant_id, as_of)
    scope = TenantScope(tenant_id)
    first = await scope.select(ct.Customer, ct.Customer.id, ct.Customer.birthday).order_by(ct.Customer.id).first()
    if first:
        today = svc.local_date(as_of)
        birthday = first["birthday"] or date(1980, today.month, min(today.day, 28))
        await scope.update(ct.Customer, {ct.Customer.greetings_opt_in: True, ct.Customer.birthday: birthday}).where(
            ct.Customer.id == first["id"])
        greet_on = date(today.year, birthday.month, min(birthday.day, 28 if birthday.month == 2 else 31))
        await svc.send_greetings(tenant_id, svc.beijing(greet_on, 9))


async def _seed_project(tenant_id: int, project: dict[str, Any], staff: dict[str, int], as_of: datetime) -> None:
    scope = TenantScope(tenant_id)
    pid = project["id"]
    company = await principal_of(tenant_id, staff["company_cs"])
    manager = await principal_of(tenant_id, staff["project_manager"])
    desk = await principal_of(tenant_id, staff["front_desk"])
    manager = manager if manager.sees_project(pid) else company
    desk = desk if desk.sees_project(pid) else company
    customers = await svc.project_customers(scope, pid, svc.local_date(as_of))
    if not customers:
        return
    today = svc.local_date(as_of)

    # A past event, fully run.
    day = today - timedelta(days=20)
    planned = as_of - timedelta(days=45)
    past = await svc.create_event(manager, {
        "project_id": pid, "title": "邻里中秋游园会", "theme": "中秋 Mid-Autumn", "location": "中心花园",
        "starts_at": svc.beijing(day, 18, 30), "ends_at": svc.beijing(day, 21, 0), "capacity": 40,
        "budget_fen": 800000, "plan": "猜灯谜、做月饼、亲子游园；物业志愿者 12 人。",
        "safety_measures": "设置两个出入口并安排专人疏导；灯笼使用 LED，不用明火；配备急救箱与灭火器；场地提前巡查。"})
    await svc.send_survey(manager, past["id"], ["您希望举办什么类型的活动？", "您方便参加的时间段？"], planned)
    await svc.record_answer(desk, past["id"], customers[0], ["亲子游园", "周末晚上"])
    await svc.approve_event(manager, past["id"], planned + timedelta(days=3))
    await svc.publish_event(manager, past["id"], planned + timedelta(days=4))
    joined = customers[:20]
    signups = [await svc.sign_up(desk, past["id"], c, planned + timedelta(days=5, minutes=i))
               for i, c in enumerate(joined)]
    for s in signups:
        await svc.check_in(desk, past["id"], token=s["token"], signup_id=None, now=svc.beijing(day, 18, 20))
    visits = await svc.draw_return_visits(desk, past["id"], svc.beijing(day + timedelta(days=1), 9))
    scores = [5, 4, 5, 3]
    for i, v in enumerate(visits):
        score = scores[i % len(scores)]
        await svc.record_visit(desk, v["id"], score, "" if score >= 4 else "希望多安排老人座位",
                               svc.beijing(day + timedelta(days=2), 10, i))
    await svc.save_summary(manager, past["id"], 735000, "到场踊跃，灯谜环节最受欢迎；下次增加老人座位。")
    await svc.add_photo(desk, past["id"], "garden-party.png", _png(), "image/png")

    # An upcoming event with sign-ups and a waiting list.
    day = today + timedelta(days=12)
    upcoming = await svc.create_event(manager, {
        "project_id": pid, "title": "社区健康义诊", "theme": "健康 Health", "location": "会所一楼",
        "starts_at": svc.beijing(day, 9, 0), "ends_at": svc.beijing(day, 11, 30),
        "capacity": max(1, min(len(customers) - 1, 8)), "budget_fen": 200000,
        "plan": "联系社康中心医生 3 名，测量血压血糖，健康咨询。",
        "safety_measures": "分时段入场避免拥挤；现场配备急救箱；医疗废物由社康中心带走。"})
    await svc.approve_event(manager, upcoming["id"], as_of - timedelta(days=2))
    await svc.publish_event(manager, upcoming["id"], as_of - timedelta(days=2))
    for i, c in enumerate(customers[:10]):
        await svc.sign_up(desk, upcoming["id"], c, as_of - timedelta(days=1, minutes=-i))
