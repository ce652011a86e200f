"""The demo company: a residential estate and a commercial complex, staff in every role, and activity.

`ensure_demo()` creates it once (idempotent by the tenant slug) and lets each enabled plugin add its
own demo data through `seed_demo`.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core import admin, tickets
from core.db import transaction
from core.plugins import get_registry
from core.roles import ALL_ROLES
from core.tables import Building, Customer, Grid, Occupancy, Project, Tenant, Unit, User
from core.tenancy import TenantScope

DEMO_SLUG = "demo"
BEIJING = ZoneInfo("Asia/Shanghai")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲"
ROLE_LOGINS = {role: f"demo-{role.replace('_', '-')}" for role in ALL_ROLES}
ROLE_NAMES = {"company_cs": "周总监", "project_manager": "陈经理", "supervisor": "林主管", "team_lead": "郭组长",
              "front_desk": "许前台", "butler": "王管家", "technician": "刘师傅", "finance": "何会计"}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(str(rng.randint(0, 9)) for _ in range(9))


async def ensure_demo(password: str, *, buildings: int = 12, as_of: datetime | None = None, slug: str = DEMO_SLUG,
                      seed: int = 7, tickets: int = 240, plugins: list[str] | None = None) -> dict[str, Any]:
    """Create the demo company if absent; return its logins.

    `tickets`: how many demo tickets (tests use few); `plugins`: the plugins to enable (default: all installed).
    """
    existing = await Tenant.select().where(Tenant.slug == slug).first()
    logins = {role: (f"{slug}-{role.replace('_', '-')}" if slug != DEMO_SLUG else ROLE_LOGINS[role]) for role in ALL_ROLES}
    if existing:
        return {"tenant": existing, "logins": logins, "created": False}
    rng = random.Random(seed)
    as_of = as_of or datetime.now(timezone.utc)
    tenant = await admin.create_tenant(slug, "示范物业服务有限公司 Demo Property Services", contact_name="周总监",
                                       contact_phone="0755-88886666", plugins=plugins,
                                       settings={"service_hours": {"opens": "08:00", "closes": "20:00"}})
    scope = TenantScope(tenant["id"])
    estate = await scope.insert(Project, code="HY", name="和苑小区 Heyuan Estate", kind="residential",
                                address="深圳市南山区和苑路1号", total_area=Decimal("186000"))
    plaza = await scope.insert(Project, code="ZX", name="中心广场 Central Plaza", kind="commercial",
                               address="深圳市福田区中心路8号", total_area=Decimal("98000"))
    staff: dict[str, int] = {}
    for role in ALL_ROLES:
        user = await User.select().where(User.login == logins[role]).first()
        if user is None:
            user = await admin.create_user(logins[role], ROLE_NAMES[role], password, phone=_phone(rng))
        projects = [] if role == "company_cs" else [estate["id"], plaza["id"]]
        await admin.add_membership(tenant["id"], user["id"], role, projects, work_phone=_phone(rng))
        staff[role] = user["id"]
    # residential estate: buildings × 2 entrances × 18 floors × 4 rooms
    unit_rows, b_rows = [], []
    for b in range(1, buildings + 1):
        b_rows.append(await scope.insert(Building, project_id=estate["id"], code=f"{b}", name=f"{b}栋", floors=18))
    for bld in b_rows:
        for entrance in ("1", "2"):
            for floor in range(1, 19):
                for room in range(1, 5):
                    unit_rows.append({"project_id": estate["id"], "building_id": bld["id"], "entrance": entrance,
                                      "floor": floor, "room": f"{floor}{room:02d}",
                                      "area": Decimal(rng.choice(["89.50", "96.20", "118.60", "143.00"])),
                                      "use": "residential", "status": rng.choice(["sold"] * 3 + ["occupied"] * 6 + ["vacant"])})
    await scope.insert_many(Unit, unit_rows)
    # commercial complex: lobby, office, hotel, retail floors and a garage
    tower = await scope.insert(Building, project_id=plaza["id"], code="T1", name="中心广场大厦", floors=40)
    com_units = []
    for floor in range(1, 41):
        use = "retail" if floor <= 4 else ("office" if floor <= 28 else "hotel")
        for room in range(1, 5 if use != "hotel" else 3):
            com_units.append({"project_id": plaza["id"], "building_id": tower["id"], "entrance": "", "floor": floor,
                              "room": f"{floor}{room:02d}", "area": Decimal(rng.choice(["180.00", "260.00", "420.00"])),
                              "use": use, "status": "occupied"})
    await scope.insert_many(Unit, com_units)
    # a grid per two buildings (the residential plugin redraws them to 350–400 households when enabled)
    units = await scope.select(Unit, Unit.id, Unit.building_id, Unit.status, Unit.project_id).where(
        Unit.project_id == estate["id"]).order_by(Unit.id)
    grid_ids = []
    for i in range(0, len(b_rows), 2):
        grid = await scope.insert(Grid, project_id=estate["id"], code=f"G{i // 2 + 1}", name=f"第{i // 2 + 1}网格",
                                  responsible_id=staff["butler"] if i == 0 else (staff["team_lead"] if i == 2 else None))
        grid_ids.append(grid["id"])
        ids = [u["id"] for u in units if u["building_id"] in {b["id"] for b in b_rows[i:i + 2]}]
        await scope.update(Unit, {Unit.grid_id: grid["id"]}).where(Unit.id.is_in(ids))
    # customers: one owner per sold/occupied unit, some renters
    occupied = [u for u in units if u["status"] != "vacant"]
    cust_rows = [{"name": _name(rng), "phone": _phone(rng), "kind": "person",
                  "id_number": f"4403{rng.randint(10**13, 10**14 - 1)}",
                  "birthday": date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28)),
                  "greetings_opt_in": rng.random() < 0.4} for _ in occupied]
    await scope.insert_many(Customer, cust_rows)
    customers = await scope.select(Customer, Customer.id).order_by(Customer.id)
    occ_rows = [{"customer_id": c["id"], "unit_id": u["id"], "role": "owner",
                 "start_date": date(2019, 1, 1) + timedelta(days=rng.randint(0, 1500))}
                for c, u in zip(customers, occupied)]
    await scope.insert_many(Occupancy, occ_rows)
    companies = []
    for cu in await scope.select(Unit, Unit.id).where(Unit.project_id == plaza["id"]).order_by(Unit.id):
        companies.append(cu["id"])
    comp_rows = [{"name": f"{rng.choice(['华','远','嘉','恒','盛'])}{rng.choice(['信','达','和','创'])}科技有限公司",
                  "kind": "company", "phone": _phone(rng)} for _ in companies]
    await scope.insert_many(Customer, comp_rows)
    comp_customers = await scope.select(Customer, Customer.id).where(Customer.kind == "company").order_by(Customer.id)
    await scope.insert_many(Occupancy, [{"customer_id": c["id"], "unit_id": u, "role": "company",
                                         "start_date": date(2021, 3, 1)} for c, u in zip(comp_customers, companies)])
    await _demo_tickets(tenant["id"], estate, plaza, staff, occ_rows, rng, as_of, count=tickets)
    projects = {"residential": estate, "commercial": plaza}
    await get_registry().call("seed_demo", tenant_id=tenant["id"], projects=projects, staff=staff, as_of=as_of)
    return {"tenant": tenant, "logins": logins, "created": True}


def demo_folder() -> Path | None:
    """`tenants/demo` (under GUANJIA_TENANTS_DIR, else beside the code), or None when it is not there."""
    from core.settings import get_settings

    for folder in (Path(get_settings().tenants_dir) / DEMO_SLUG, Path(__file__).resolve().parents[1] / "tenants" / DEMO_SLUG):
        if (folder / "tenant.toml").is_file():
            return folder
    return None


async def ensure_demo_from_folder(password: str, folder: str | Path, *, as_of: datetime | None = None, seed: int = 7,
                                  tickets: int = 240) -> dict[str, Any]:
    """The demo company imported from its onboarding folder (`tenants/demo`) if absent: the same importer a
    real company goes through (every staff member gets `password` to keep), then demo tickets and each
    enabled plugin's `seed_demo` activity. Idempotent by the folder's slug."""
    from core.onboarding import OnboardingInvalid, load_folder, onboard
    from core.tables import Membership

    bundle = load_folder(folder)
    slug = str(bundle.config.get("company", {}).get("slug", ""))
    existing = await Tenant.select().where(Tenant.slug == slug).first() if slug else None
    if existing:
        return {"tenant": existing, "logins": await _logins_by_role(existing["id"]), "created": False}
    as_of = as_of or datetime.now(timezone.utc)
    try:
        report = await onboard(bundle, as_of=as_of.astimezone(BEIJING).date(), staff_password=password)
    except OnboardingInvalid as exc:
        from core.errors import Problem

        raise Problem(422, "Invalid demo data", "; ".join(str(e) for e in exc.errors[:5])) from exc
    tenant_id = report.tenant_id
    scope = TenantScope(tenant_id)
    members = await scope.select(Membership, Membership.role, Membership.user_id).order_by(Membership.id)
    staff: dict[str, int] = {}
    for m in members:
        staff.setdefault(m["role"], m["user_id"])
    projects: dict[str, dict[str, Any]] = {}
    for project in await scope.select(Project).order_by(Project.id):
        projects.setdefault(project["kind"], project)
    estate, plaza = projects.get("residential"), projects.get("commercial")
    if estate is not None and tickets:
        occ_rows = await scope.select(Occupancy, Occupancy.customer_id, Occupancy.unit_id).where(
            Occupancy.unit_id.project_id == estate["id"]).order_by(Occupancy.id)
        async with transaction():  # one connection and one commit: minutes become seconds on SQLite
            await _demo_tickets(tenant_id, estate, plaza or estate, staff, occ_rows, random.Random(seed), as_of,
                                count=tickets)
    registry = get_registry()
    for impl in reversed(registry.pm.hook.seed_demo.get_hookimpls()):
        if impl.plugin_name in await registry.enabled(tenant_id):
            async with transaction():  # each plugin's demo activity at once (or not at all)
                await _call(impl, tenant_id=tenant_id, projects=projects, staff=staff, as_of=as_of)
    tenant = await Tenant.select().where(Tenant.id == tenant_id).first()
    return {"tenant": tenant, "logins": await _logins_by_role(tenant_id), "created": True, "report": report}


async def _call(impl: Any, **kwargs: Any) -> Any:
    """One plugin's hook implementation, as `PluginRegistry.call` calls it."""
    import inspect

    value = impl.function(**{a: kwargs[a] for a in impl.argnames if a in kwargs})
    return await value if inspect.isawaitable(value) else value


async def _logins_by_role(tenant_id: int) -> dict[str, str]:
    """One login per role (the first staff member of each), in the order of ALL_ROLES."""
    from core.tables import Membership

    rows = await TenantScope(tenant_id).select(Membership, Membership.role, Membership.user_id.login.as_alias("login")
                                               ).order_by(Membership.id)
    first: dict[str, str] = {}
    for r in rows:
        first.setdefault(r["role"], r["login"])
    return {role: first[role] for role in ALL_ROLES if role in first}


TITLES = {
    "repair": ["厨房水管漏水", "客厅灯不亮", "卫生间下水道堵塞", "门禁卡失灵", "楼道灯损坏", "电梯异响"],
    "complaint": ["楼上装修噪音扰民", "垃圾清运不及时", "车位被占用", "宠物扰民", "绿化带有积水"],
    "inquiry": ["物业费缴纳方式", "快递代收时间", "停车月卡办理", "装修申请流程"],
    "suggestion": ["建议增加儿童游乐设施", "建议延长泳池开放时间", "建议增设快递柜"],
}


def demo_photo(rng: random.Random) -> bytes:
    """A drawn JPEG "photo" of a leaking pipe on a tiled wall (demo attachments)."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 480), (214, 218, 222))
    draw = ImageDraw.Draw(img)
    for x in range(0, 640, 80):
        for y in range(0, 480, 60):
            draw.rectangle([x + 2, y + 2, x + 78, y + 58], outline=(180, 186, 192), width=2)
    draw.rectangle([0, 200, 640, 236], fill=(150, 150, 155))
    draw.rectangle([300, 190, 340, 246], fill=(120, 110, 100))
    for _ in range(14):
        x, y = 320 + rng.randint(-12, 12), 250 + rng.randint(0, 200)
        draw.ellipse([x - 5, y - 8, x + 5, y + 8], fill=(70, 130, 200))
    draw.ellipse([250, 430, 390, 470], fill=(90, 150, 215))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def demo_pdf(title: str) -> bytes:
    """A one-page PDF work sheet (demo attachments), in Chinese when the server has a CJK font."""
    from core.pdf import cjk_font, document

    if cjk_font() is not None:
        pdf = document(title="维修单")
        pdf.add_page()
        lines = ("维修单", title, "更换配件: 角阀、软管", "维修人员签字: ________")
        font = "cjk"
    else:
        from fpdf import FPDF

        pdf = FPDF(format="A4")
        pdf.add_page()
        lines = ("Repair work sheet", "", "Parts replaced: angle valve, hose", "Technician signature: ________")
        font = "Helvetica"
    for i, line in enumerate(lines):
        pdf.set_font(font, size=16 if i == 0 else 11)
        pdf.cell(0, 12 if i == 0 else 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


async def _demo_attachments(desk: Any, repairs: list[dict[str, Any]], rng: random.Random) -> None:
    """A photo on the first repairs and a work sheet on the first one, as the desk would upload them."""
    from core import attachments

    for i, t in enumerate(repairs[:3]):
        at = t["created_at"] + timedelta(minutes=2)
        await attachments.add(desk, t["id"], f"现场照片{i + 1}.jpg", demo_photo(rng), now=at)
        if i == 0:
            await attachments.add(desk, t["id"], "维修单.pdf", demo_pdf(t["title"]), now=at + timedelta(minutes=1))

CATEGORY_OF = {"厨房水管漏水": "给排水", "卫生间下水道堵塞": "给排水", "客厅灯不亮": "电气照明", "楼道灯损坏": "电气照明",
               "门禁卡失灵": "门窗锁具", "电梯异响": "电梯"}


async def _demo_tickets(tenant_id: int, estate: dict, plaza: dict, staff: dict[str, int], occ_rows: list[dict],
                        rng: random.Random, as_of: datetime, count: int = 240) -> None:
    from core.defaults import REPAIR_CATEGORIES

    desk = await admin.principal_of(tenant_id, staff["front_desk"])
    butler = await admin.principal_of(tenant_id, staff["butler"])
    repairs: list[dict[str, Any]] = []
    for i in range(count):
        kind = rng.choices(["repair", "complaint", "inquiry", "suggestion"], weights=[5, 2, 4, 1])[0]
        occ = rng.choice(occ_rows)
        created = as_of - timedelta(days=rng.uniform(0, 120), hours=rng.uniform(0, 8))
        data = {"project_id": estate["id"], "kind": kind, "title": rng.choice(TITLES[kind]),
                "channel": rng.choice(["walk_in", "hotline", "wechat", "online", "patrol"]),
                "priority": "emergency" if kind == "repair" and rng.random() < 0.1 else "normal",
                "unit_id": occ["unit_id"], "customer_id": occ["customer_id"],
                "complexity": "complex" if kind == "complaint" and rng.random() < 0.2 else "general",
                "warranty": rng.choice(["in", "out"]) if kind == "repair" else None}
        if kind == "repair":
            data["data"] = {"category": CATEGORY_OF.get(data["title"]) or rng.choice(REPAIR_CATEGORIES)}
        t = await tickets.create_ticket(desk, data, now=created)
        if kind == "repair" or not repairs and i == count - 1:
            repairs.append(t)  # the photos go on repairs (on the last ticket when there is none)
        age = as_of - created
        step = created
        actor = desk
        if age < timedelta(days=1) and rng.random() < 0.6:
            continue  # fresh tickets stay open in the inbox
        if kind == "repair":
            step += timedelta(minutes=rng.randint(3, 40))
            await tickets.transition(actor, t["id"], "dispatched", executor_id=staff["technician"], now=step)
            step += timedelta(hours=rng.uniform(0.5, 30))
            await tickets.transition(actor, t["id"], "resolved", now=step)
        else:
            step += timedelta(minutes=rng.randint(1, 10) if kind == "inquiry" else rng.randint(60, 60 * 60))
            await tickets.transition(actor, t["id"], "resolved", now=step, own_fault=kind == "complaint" and rng.random() < 0.1)
        if kind in ("repair", "complaint"):
            if rng.random() < 0.1 and age < timedelta(days=7):
                continue  # waiting for its return visit
            step += timedelta(hours=rng.uniform(1, 30))
            await tickets.transition(actor, t["id"], "visited", satisfaction=rng.choice([5, 5, 4, 4, 3, 2]), now=step)
        step += timedelta(minutes=5)
        await tickets.transition(actor, t["id"], "closed", now=step)
    await _demo_attachments(desk, repairs, rng)
    _ = butler, plaza
