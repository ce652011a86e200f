"""Writes the demo company's data files (deterministic): `python tenants/demo/generate.py`.

和苑小区 Heyuan Estate: 12 buildings × 2 entrances × 21 floors × 4 rooms = 2,016 homes, most with an owner,
some with renters; 中心广场 Central Plaza: a 40-floor tower (retail 1–4, offices 5–28, hotel 29–40), a lobby
and a two-level garage, with company tenants. Staff in every role.
"""
from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍红玲"
COMPANIES = ["深圳市华信科技有限公司", "南山律师事务所", "前海投资咨询有限公司", "鹏城建筑设计院", "海岸贸易有限公司",
             "星河文化传媒有限公司", "中心广场酒店管理有限公司", "蓝天教育培训中心", "粤港物流有限公司", "恒通会计师事务所"]


def write(name: str, rows: list[list[str]]) -> None:
    from core.onboarding.sheets import SHEET_BY_NAME

    with open(HERE / f"{name}.csv", "w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow([c.header for c in SHEET_BY_NAME[name].columns])
        w.writerows(rows)


def main() -> None:
    rng = random.Random(2026)
    name = lambda: rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))  # noqa: E731
    phones: set[str] = set()

    def phone() -> str:
        while True:
            p = "1" + rng.choice("3589") + "".join(str(rng.randint(0, 9)) for _ in range(9))
            if p not in phones:
                phones.add(p)
                return p

    staff = [["demo-company-cs", "周总监", phone(), "company_cs", "", "客户服务部总监"],
             ["demo-project-manager", "陈经理", phone(), "project_manager", "HY,ZX", "管理处经理"],
             ["demo-supervisor", "林主管", phone(), "supervisor", "HY,ZX", "客服主管"],
             ["demo-team-lead", "郭组长", phone(), "team_lead", "HY,ZX", "客服组长"],
             ["demo-front-desk", "许前台", phone(), "front_desk", "HY,ZX", "客服前台"],
             ["demo-butler", "王管家", phone(), "butler", "HY,ZX", "客服管家"],
             ["demo-technician", "刘师傅", phone(), "technician", "HY,ZX", "维修工"],
             ["demo-finance", "何会计", phone(), "finance", "HY,ZX", "财务"]]
    for i in range(1, 12):
        staff.append([f"demo-butler-{i}", name() + "管家", phone(), "butler", "HY", "客服管家"])
    for i in range(1, 5):
        staff.append([f"demo-technician-{i}", name() + "师傅", phone(), "technician", "HY,ZX", "维修工"])
    staff.append(["demo-zx-manager", "黄经理", phone(), "project_manager", "ZX", "写字楼管理处经理"])
    write("staff", staff)

    buildings = [["HY", str(b), f"{b}栋", "21"] for b in range(1, 13)]
    buildings += [["ZX", "T1", "中心广场大厦", "40"], ["ZX", "L", "大堂", "1"], ["ZX", "P", "地下车库", "2"]]
    write("buildings", buildings)

    butlers = ["demo-butler"] + [f"demo-butler-{i}" for i in range(1, 12)]
    grids = [["HY", f"G{b}", f"{b}栋网格", butlers[b - 1]] for b in range(1, 13)]
    grids.append(["ZX", "GT", "大厦网格", "demo-butler"])
    write("grids", grids)

    units, customers = [], []
    ids: set[str] = set()

    def id_number() -> str:
        while True:
            n = f"4403{rng.randint(0, 99):02d}{rng.randint(1950, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" \
                f"{rng.randint(0, 999):03d}{rng.choice('0123456789X')}"
            if n not in ids:
                ids.add(n)
                return n

    for b in range(1, 13):
        for entrance in ("1", "2"):
            for floor in range(1, 22):
                for r in range(1, 5):
                    room = f"{floor}{r:02d}"
                    status = rng.choice(["occupied"] * 7 + ["sold"] * 2 + ["vacant"])
                    units.append(["HY", str(b), entrance, str(floor), room, rng.choice(["89.50", "96.20", "118.60", "143.00"]),
                                  "residential", status, f"G{b}"])
                    if status == "vacant":
                        continue
                    year = rng.randint(2012, 2025)
                    customers.append([name(), "person", phone(), id_number(), "", "HY", str(b), entrance, room, "owner",
                                      f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])
                    if status == "occupied" and rng.random() < 0.12:
                        customers.append([name(), "person", phone(), "", "", "HY", str(b), entrance, room, "renter",
                                          f"2025-{rng.randint(1, 12):02d}-01"])
    for floor in range(1, 41):
        use = "retail" if floor <= 4 else ("office" if floor <= 28 else "hotel")
        for r in range(1, 9 if use != "hotel" else 21):
            room = f"{floor}{r:02d}"
            area = {"retail": "220.00", "office": "160.00", "hotel": "36.00"}[use]
            units.append(["ZX", "T1", "", str(floor), room, area, use, "occupied" if use != "office" or r % 5 else "vacant",
                          "GT"])
            if use in ("retail", "office") and (use != "office" or r % 5):
                company = rng.choice(COMPANIES)
                customers.append([company, "company", f"0755-{rng.randint(20000000, 89999999)}",
                                  f"91440300MA5{rng.randint(1000000, 9999999)}", "", "ZX", "T1", "", room, "company",
                                  "2023-03-01"])
    units.append(["ZX", "L", "", "1", "大堂", "850.00", "other", "occupied", "GT"])
    for level in (1, 2):
        units.append(["ZX", "P", "", str(-level), f"B{level}", "6200.00", "parking", "occupied", "GT"])
    write("units", units)
    write("customers", customers)
    print(f"{len(units)} units, {len(customers)} customer rows, {len(staff)} staff")


if __name__ == "__main__":
    main()
