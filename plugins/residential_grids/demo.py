"""Demo data of the residential grids plugin: the estate divided into grids with butlers, a gold butler,
prepared answers, register entries, parcels in every state, a public request and evaluations."""
from __future__ import annotations

import base64
import secrets
import struct
import zlib
from datetime import datetime, timedelta
from typing import Any

from core import TenantScope, admin, tables
from plugins.residential_grids import services as svc

ANSWERS = [
    ("物业费怎么缴纳?", "可在物业服务中心前台、微信公众号或银行代扣缴纳, 每季度首月缴纳当季费用。", "物业费 缴费 交费"),
    ("快递代收时间?", "前台每天 8:00–20:00 代收快递, 按楼栋分类, 凭本人或委托人签字领取。", "快递 代收 包裹"),
    ("装修申请需要什么资料?", "业主身份证、房产证明、装修图纸和装修公司资质, 审核在 3 日内完成。", "装修 申请 资料"),
    ("停车月卡怎么办理?", "携带行驶证和业主证明到前台办理, 月卡费用按公示标准收取。", "停车 月卡 车位"),
    ("门禁卡丢了怎么办?", "到前台登记挂失并补办, 补卡工本费按公示标准收取。", "门禁卡 挂失 补办"),
]


def signature_png(width: int = 240, height: int = 80) -> str:
    """A small PNG of a drawn stroke, as the portal's canvas would send it (a data URL)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            stroke = abs((y - height // 2) - int(12 * ((x % 60) / 30 - 1))) < 2
            rows.append(0 if stroke else 255)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


async def _butlers(tenant_id: int, slug: str, project_id: int, staff: dict[str, int], needed: int) -> list[int]:
    """The demo butler and team lead, plus extra butlers made with `core.admin` until every grid has one."""
    ids = [staff["butler"], staff["team_lead"]]
    names = ["赵管家", "钱管家", "孙管家", "李管家", "周管家", "吴管家", "郑管家", "冯管家"]
    n = 2
    while len(ids) < needed:
        login = f"{slug}-butler-{n}"
        user = await tables.User.select(tables.User.id).where(tables.User.login == login).first()
        if user is None:
            user = await admin.create_user(login, names[(n - 2) % len(names)], secrets.token_urlsafe(16),
                                           phone=f"1390000{n:04d}")
        if not await TenantScope(tenant_id).exists(tables.Membership).where(
                (tables.Membership.user_id == user["id"]) & (tables.Membership.role == "butler")):
            await admin.add_membership(tenant_id, user["id"], "butler", [project_id], work_phone=f"0755-8888{n:04d}",
                                       title="客服管家")  # (an onboarded demo company has its butlers already)
        ids.append(user["id"])
        n += 1
    return ids[:needed]


async def seed(tenant_id: int, project: dict[str, Any], staff: dict[str, int], as_of: datetime) -> None:
    tenant = await tables.Tenant.select(tables.Tenant.slug).where(tables.Tenant.id == tenant_id).first()
    pm = await admin.principal_of(tenant_id, staff["project_manager"], "project_manager")
    supervisor = await admin.principal_of(tenant_id, staff["supervisor"], "supervisor")
    desk = await admin.principal_of(tenant_id, staff["front_desk"], "front_desk")
    butler = await admin.principal_of(tenant_id, staff["butler"], "butler")
    pid = project["id"]
    start = as_of - timedelta(days=60)

    # gold butler: one approved, who takes the largest grid
    gold = await svc.apply_gold(butler, pid, "连续三个月考评优秀, 申请扩大责任网格。", now=start)
    await svc.decide_gold(supervisor, gold["id"], True, "考评优秀, 同意晋升金牌管家。", now=start + timedelta(days=2))

    proposal = await svc.propose_division(pm, pid)
    holders = await _butlers(tenant_id, tenant["slug"], pid, staff, len(proposal["grids"]))
    by_size = sorted(range(len(proposal["grids"])), key=lambda i: -proposal["grids"][i]["households"])
    order = {grid_index: holders[rank] for rank, grid_index in enumerate(by_size)}
    grids = [{"code": g["code"], "name": g["name"], "butler_id": order[i],
              "entrances": [{"building_id": e["building_id"], "entrance": e["entrance"]} for e in g["entrances"]]}
             for i, g in enumerate(proposal["grids"])]
    applied = await svc.apply_division(pm, pid, grids, now=start + timedelta(days=3))
    if len(holders) > 2:
        other = await admin.principal_of(tenant_id, holders[2], "butler")
        await svc.apply_gold(other, pid, "网格内零投诉, 申请晋升金牌管家。", now=as_of - timedelta(days=5))

    # prepared answers (答客问)
    answers = [await svc.create_answer(supervisor, pid, {"question": q, "answer": a, "keywords": k}, now=start)
               for q, a, k in ANSWERS]

    # call/visit register
    U = tables.Unit
    units = await pm.scope.select(U, U.id).where((U.project_id == pid) & U.status.is_in(["sold", "occupied"])).order_by(U.id).limit(12)
    uid = [u["id"] for u in units]
    await svc.log_contact(desk, pid, {"channel": "call", "subject": "物业费缴纳方式", "unit_id": uid[0],
                                      "prepared_answer_id": answers[0]["id"], "ticket_kind": "inquiry",
                                      "at": as_of - timedelta(days=1, hours=3)})
    await svc.log_contact(desk, pid, {"channel": "visit", "subject": "卫生间漏水", "content": "楼上渗水到卫生间吊顶",
                                      "unit_id": uid[1], "ticket_kind": "repair", "at": as_of - timedelta(hours=5)})
    await svc.log_contact(desk, pid, {"channel": "call", "subject": "小区泳池何时开放?", "unit_id": uid[2],
                                      "promised_reply_at": as_of + timedelta(days=1), "at": as_of - timedelta(hours=2)})
    await svc.log_contact(desk, pid, {"channel": "call", "subject": "开发商何时办理房产证?", "phone": "13800001111",
                                      "caller_name": "张先生", "promised_reply_at": as_of - timedelta(hours=1),
                                      "at": as_of - timedelta(days=2)})
    await svc.flag_overdue_replies(tenant_id, as_of)

    # parcels: waiting today, waiting for days (flagged), picked up by the household and by a delegate
    carriers = ["顺丰", "中通", "京东", "圆通", "韵达", "EMS"]
    parcels = []
    for n, unit_id in enumerate(uid[:8]):
        received = as_of - (timedelta(days=4, hours=n) if n < 2 else timedelta(hours=3 + n))
        parcels.append(await svc.register_parcel(desk, pid, {"unit_id": unit_id, "carrier": carriers[n % len(carriers)],
                                                             "tracking_no": f"DEMO{tenant_id}{n:04d}",
                                                             "received_at": received}))
    household = await svc._household_of(desk.scope, parcels[2]["unit_id"], svc.local_day(as_of))
    if household:
        await svc.release_parcel(desk, parcels[2]["id"], {"picker": "household", "customer_id": household[0]["customer_id"],
                                                          "signature": signature_png(), "at": as_of - timedelta(hours=1)})
    await svc.set_delegate(desk, parcels[3]["id"], "王阿姨", "13900002222")
    await svc.release_parcel(desk, parcels[3]["id"], {"picker": "delegate", "name": "王阿姨",
                                                      "signature": signature_png(), "at": as_of - timedelta(minutes=30)})
    await svc.parcel_reminders(tenant_id, as_of)

    # a request from the public board
    first_grid = applied["grids"][0]
    await svc.file_public_request(tenant["slug"], first_grid["id"], {
        "kind": "repair", "name": "陈女士", "phone": "13700003333", "room": "1栋1单元 302",
        "description": "楼道声控灯不亮"}, "demo-board", now=as_of - timedelta(hours=4))

    # monthly evaluations: last month and this month, with the supervisor's score
    local = as_of.astimezone(svc.BEIJING)
    last = (local.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    rows = await svc.compute_month(tenant_id, pid, last, as_of)
    await svc.compute_month(tenant_id, pid, local.strftime("%Y-%m"), as_of)
    for row in rows[:2]:
        await svc.score_evaluation(supervisor, row["id"], 92 if row["user_id"] == staff["butler"] else 85,
                                   "响应及时, 回访到位。", now=as_of)
