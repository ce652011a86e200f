"""Monthly reports (seeds 000/001/004: 每月维修分类汇总, 来电来访月度分析, 客服月报) and dashboard trends,
counted in SQL, with exact numbers for a month of fixed tickets; Excel and PDF exports through the API."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from core import reports, tickets
from tests.conftest import at, make_world

AS_OF = at("2026-11-05 12:00")


async def _ticket(w, now, role="front_desk", project=None, **fields):
    p = await w.principal(role)
    data = {"project_id": (project or w.project)["id"], "kind": "inquiry", "channel": "hotline", "title": "咨询",
            **fields}
    return await tickets.create_ticket(p, data, now=now)


async def _move(w, t, to, now, role="company_cs", **kw):
    return await tickets.transition(await w.principal(role), t["id"], to, now=now, **kw)


async def october(w) -> dict[str, int]:
    """October 2026 of project 1 (and a little of September and of project 2).

    Repairs of project 1 received in October (R1–R6):
      R1 10-02 private, in warranty, 给排水: done in 6 h, visited (5), closed
      R2 10-08 public, in warranty, 电气照明: done in 5 minutes (immediate), visited (4)
      R3 10-10 private, out of warranty, 给排水: done after 30 h (overdue), never visited
      R4 10-30 private, warranty unknown (unclassified): open when its 24 h passed (overdue)
      R5 10-31 private, in warranty, 给排水: open, due only in November (not judged)
      R6 10-15 emergency, public, in warranty, 电梯: on site after 12 minutes (late response), done in 1 h
    plus a cancelled repair (never counted), inquiries I1–I3, complaints C1–C2.
    """
    unit, building = w.units[0]["id"], w.building["id"]
    ids = {}

    async def repair(key, received, channel, title, **fields):
        t = await _ticket(w, at(received), kind="repair", channel=channel, title=title, **fields)
        ids[key] = t["id"]
        return t

    r1 = await repair("R1", "2026-10-02 09:00", "hotline", "厨房水管漏水", unit_id=unit, warranty="in",
                      data={"category": "给排水"})
    await _move(w, r1, "resolved", at("2026-10-02 15:00"))
    await _move(w, r1, "visited", at("2026-10-03 09:00"), satisfaction=5)
    await _move(w, r1, "closed", at("2026-10-03 09:05"))
    r2 = await repair("R2", "2026-10-08 09:00", "patrol", "楼道灯不亮", building_id=building, warranty="in",
                      data={"category": "电气照明"})
    await _move(w, r2, "dispatched", at("2026-10-08 09:02"), executor_id=w.staff["technician"])
    await _move(w, r2, "resolved", at("2026-10-08 09:05"))
    await _move(w, r2, "visited", at("2026-10-08 12:00"), satisfaction=4)
    r3 = await repair("R3", "2026-10-10 09:00", "hotline", "厨房水管漏水", unit_id=unit, warranty="out",
                      data={"category": "给排水"})
    await _move(w, r3, "resolved", at("2026-10-11 15:00"))
    await repair("R4", "2026-10-30 20:00", "wechat", "门锁坏了", unit_id=unit)
    await repair("R5", "2026-10-31 12:00", "hotline", "厨房水管漏水", unit_id=unit, warranty="in",
                 data={"category": "给排水"})
    r6 = await repair("R6", "2026-10-15 22:00", "hotline", "电梯困人", building_id=building, warranty="in",
                      priority="emergency", data={"category": "电梯"})
    await _move(w, r6, "in_progress", at("2026-10-15 22:12"))
    await _move(w, r6, "resolved", at("2026-10-15 23:00"))
    r0 = await repair("R0", "2026-10-05 10:00", "hotline", "重复登记", unit_id=unit, warranty="in")
    await _move(w, r0, "cancelled", at("2026-10-05 10:30"), reason="重复登记")

    for received, done, channel, title in (("2026-10-02 10:00", 3, "hotline", "物业费缴纳方式"),
                                           ("2026-10-02 11:00", 30, "hotline", "快递代收时间"),
                                           ("2026-10-09 14:00", 5, "walk_in", "物业费缴纳方式")):
        t = await _ticket(w, at(received), channel=channel, title=title)
        await _move(w, t, "resolved", at(received) + timedelta(minutes=done))
    c1 = await _ticket(w, at("2026-10-08 09:00"), kind="complaint", channel="walk_in", title="噪音扰民")
    await _move(w, c1, "resolved", at("2026-10-09 17:00"), own_fault=True)
    await _move(w, c1, "visited", at("2026-10-12 10:00"), satisfaction=3)
    await _ticket(w, at("2026-10-20 09:00"), kind="complaint", channel="hotline", title="噪音扰民")

    # September: one repair done on time but never visited, one inquiry closed at once.
    s1 = await _ticket(w, at("2026-09-29 09:00"), kind="repair", title="九月报修", unit_id=unit)
    await _move(w, s1, "resolved", at("2026-09-29 10:00"))
    s2 = await _ticket(w, at("2026-09-10 09:00"), title="九月咨询")
    await _move(w, s2, "resolved", at("2026-09-10 09:03"))
    # Project 2: one repair, unclassified place, category 其他, done in an hour.
    p2 = await _ticket(w, at("2026-10-12 09:00"), role="company_cs", project=w.other_project, kind="repair",
                       warranty="in", title="空调不制冷", data={"category": "其他"})
    await _move(w, p2, "resolved", at("2026-10-12 10:00"))
    return ids


@pytest.fixture(scope="module")
async def company():
    """Built once: these tests only read it. Another company's October repair is never counted."""
    w = await make_world()
    w.ids = await october(w)
    other = await make_world(login=False)
    t = await _ticket(other, at("2026-10-03 10:00"), kind="repair", title="厨房水管漏水", unit_id=other.units[0]["id"])
    await _move(other, t, "resolved", at("2026-10-05 11:00"))
    w.other = other
    return w


async def _report(w, kind, role="company_cs", project=True, month="2026-10"):
    p = await w.principal(role)
    return await reports.monthly(p, kind, month, project_id=w.project["id"] if project else None, as_of=AS_OF)


async def test_repair_classification_by_place_warranty_and_category_seed_000(company):
    got = await _report(company, "repairs")
    total = got["total"]
    assert (total["received"], total["emergency"], total["completed"]) == (6, 1, 4)
    # on time: R1, R2, R6; overdue: R3 (late) and R4 (open past its 24 h); R5 not yet due
    assert (total["on_time"], total["overdue"], total["on_time_rate"]) == (3, 2, 60.0)
    assert (total["immediate"], total["immediate_rate"]) == (1, 16.67)
    assert (total["visited"], total["satisfaction"]) == (2, 4.5)
    cells = {(r["area"], r["warranty"]): r["received"] for r in got["by_class"]}
    assert cells == {("private", "in"): 2, ("public", "in"): 2, ("private", "out"): 1, ("private", ""): 1}
    assert {r["category"]: r["received"] for r in got["by_category"]} == {"给排水": 3, "电气照明": 1, "电梯": 1, "": 1}
    assert (got["unclassified"], got["classified_rate"]) == (1, 83.33)
    water = [r for r in got["rows"] if r["category"] == "给排水" and r["warranty"] == "in"]
    assert [(r["received"], r["on_time"], r["overdue"], r["visited"]) for r in water] == [(2, 1, 0, 1)]


async def test_repair_summary_per_project_for_the_company_cs_department_seed_000(company):
    got = await _report(company, "repairs", project=False)
    by_project = {r["project_id"]: r for r in got["by_project"]}
    assert by_project[company.project["id"]]["received"] == 6
    assert by_project[company.other_project["id"]]["received"] == 1
    assert (got["total"]["received"], got["unclassified"]) == (7, 2)
    assert [p["name"] for p in got["projects"]] == ["项目一", "项目二"]


async def test_running_month_judges_only_what_is_due_before_as_of_seed_004(company):
    p = await company.principal("company_cs")
    got = await reports.monthly(p, "repairs", "2026-10", project_id=company.project["id"], as_of=at("2026-10-31 19:00"))
    # R4 is due at 20:00 on 10-31: not yet overdue at 19:00
    assert (got["total"]["overdue"], got["complete"]) == (1, False)


async def test_calls_and_visits_by_channel_kind_day_and_hour_seed_000(company):
    got = await _report(company, "calls")
    assert got["total"] == 11 and got["by_kind"] == {"repair": 6, "complaint": 2, "inquiry": 3, "suggestion": 0}
    channels = {r["channel"]: (r["total"], r["kinds"]["repair"], r["kinds"]["inquiry"], r["kinds"]["complaint"])
                for r in got["by_channel"]}
    assert channels == {"hotline": (7, 4, 2, 1), "walk_in": (2, 0, 1, 1), "patrol": (1, 1, 0, 0), "wechat": (1, 1, 0, 0)}
    days = {d["date"]: d["total"] for d in got["by_day"] if d["total"]}
    assert days == {"2026-10-02": 3, "2026-10-08": 2, "2026-10-09": 1, "2026-10-10": 1, "2026-10-15": 1,
                    "2026-10-20": 1, "2026-10-30": 1, "2026-10-31": 1}
    assert len(got["by_day"]) == 31
    hours = {h["hour"]: h["total"] for h in got["by_hour"] if h["total"]}
    assert hours == {9: 5, 10: 1, 11: 1, 12: 1, 14: 1, 20: 1, 22: 1}
    assert [(i["kind"], i["title"], i["n"]) for i in got["top_issues"][:3]] == [
        ("repair", "厨房水管漏水", 3), ("complaint", "噪音扰民", 2), ("inquiry", "物业费缴纳方式", 2)]


async def test_return_visits_satisfaction_and_sla_breaches_of_the_month_seed_000_004(company):
    s = (await _report(company, "calls"))["service"]
    assert (s["received"], s["resolved"], s["closed"], s["immediate"]) == (11, 8, 1, 3)
    assert (s["visits_due"], s["visits_done"], s["visit_rate"]) == (5, 3, 60.0)
    assert (s["scored"], s["satisfaction"], s["satisfied"], s["satisfied_rate"]) == (3, 4.0, 2, 66.67)
    # response: R6 on site after 12 minutes; resolution: R3, R4, C2; return visit: R3 and R6 never visited
    assert (s["response_breaches"], s["resolution_breaches"], s["visit_breaches"], s["breaches"]) == (1, 3, 2, 6)


async def test_cs_monthly_report_compares_with_last_month_seed_001_004(company):
    got = await _report(company, "cs")
    h = {x["key"]: (x["value"], x["previous"], x["change"]) for x in got["headlines"]}
    assert got["previous_month"] == "2026-09"
    assert h["received"] == (11, 2, 9)
    assert h["repairs"] == (6, 1, 5)
    assert h["immediate_closure"] == (66.67, 100.0, -33.33)
    assert h["return_visit"] == (60.0, 0.0, 60.0)
    assert h["complaint_tracking"] == (50.0, None, None)
    assert h["on_time"] == (80.0, 100.0, -20.0)
    assert h["repair_on_time"] == (60.0, 100.0, -40.0)
    assert h["satisfaction"] == (4.0, None, None)
    assert h["breaches"] == (6, 1, 5)
    assert h["own_fault_complaints"] == (1, 0, 1)
    assert {c["channel"]: c["total"] for c in got["by_channel"]} == {"hotline": 7, "walk_in": 2, "patrol": 1, "wechat": 1}


async def test_cs_monthly_report_per_project_for_the_company_seed_004(company):
    got = await _report(company, "cs", project=False)
    rows = {r["project_id"]: r for r in got["by_project"]}
    assert rows[company.project["id"]]["received"] == 11
    assert rows[company.other_project["id"]]["received"] == 1
    assert rows[company.other_project["id"]]["visit_breaches"] == 1
    assert got["total"]["received"] == 12


async def test_reports_need_kpi_rights_and_a_visible_project(company):
    from core.errors import Problem

    with pytest.raises(Problem) as exc:
        await _report(company, "cs", role="front_desk")
    assert exc.value.status == 403
    other = await company.other.principal("company_cs")
    with pytest.raises(Problem) as exc:
        await reports.monthly(other, "repairs", "2026-10", project_id=company.project["id"], as_of=AS_OF)
    assert exc.value.status == 404
    got = await reports.monthly(other, "repairs", "2026-10", as_of=AS_OF)
    assert got["total"]["received"] == 1  # its own repair only


async def test_monthly_report_api_json_and_problems(client, company):
    h = company.headers("supervisor")
    r = await client.get("/api/v1/reports/monthly/repairs", params={"project_id": company.project["id"], "month": "2026-10",
                                                                    "as_of": AS_OF.isoformat()}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["total"]["received"] == 6
    r = await client.get("/api/v1/reports/monthly/repairs", params={"month": "2026-13"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "month"
    r = await client.get("/api/v1/reports/monthly/repairs", params={"month": "2026-10", "format": "doc"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "format"
    r = await client.get("/api/v1/reports/monthly/weather", params={"month": "2026-10"}, headers=h)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/api/v1/reports/monthly/cs", params={"month": "2026-10",
                                                               "project_id": company.other.project["id"]}, headers=h)
    assert r.status_code == 404
    r = await client.get("/api/v1/reports/monthly/cs", params={"month": "2026-10"}, headers=company.headers("butler"))
    assert r.status_code == 403


async def test_repair_summary_xlsx_has_chinese_headers_and_totals_seed_000(client, company):
    from openpyxl import load_workbook

    r = await client.get("/api/v1/reports/monthly/repairs", params={"project_id": company.project["id"], "month": "2026-10",
                                                                    "format": "xlsx", "as_of": AS_OF.isoformat()},
                         headers=company.headers("company_cs"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "attachment" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    sheet = book.worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, row in enumerate(rows) if row[0] == "项目")
    assert rows[header][:9] == ["项目", "区域", "保修", "类别", "报修数", "紧急", "已完成", "按时完成", "超时"]
    total = next(row for row in rows if row[0] == "合计")
    assert total[4:9] == [6, 1, 4, 3, 2]
    assert "每月维修分类汇总" in str(rows[0][0])


async def test_cs_report_xlsx_and_pdf_exports(client, company):
    from openpyxl import load_workbook

    params = {"project_id": company.project["id"], "month": "2026-10", "as_of": AS_OF.isoformat()}
    r = await client.get("/api/v1/reports/monthly/cs", params={**params, "format": "xlsx"},
                         headers=company.headers("company_cs"))
    book = load_workbook(io.BytesIO(r.content))
    rows = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert ["指标", "本月", "上月", "环比变化"] in rows
    assert ["受理工单", 11, 2, 9] in rows
    for kind in ("cs", "repairs", "calls"):
        r = await client.get(f"/api/v1/reports/monthly/{kind}", params={**params, "format": "pdf"},
                             headers=company.headers("company_cs"))
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
        assert len(r.content) > 2000
    from core.tables import AuditLog

    logged = await company.principal("company_cs")
    assert await logged.scope.count(AuditLog).where(AuditLog.action == "export.report") >= 4


async def test_weekly_trends_created_closed_breaches_and_satisfaction(company):
    p = await company.principal("company_cs")
    got = await reports.trends(p, project_id=company.project["id"], by="week", steps=5, as_of=at("2026-10-31 23:00"))
    assert got["from"].startswith("2026-09-28T00:00:00+08:00")
    points = got["points"]
    assert [x["created"] for x in points] == [4, 4, 1, 1, 2]
    assert [x["closed"] for x in points] == [1, 0, 0, 0, 0]
    assert [x["satisfaction"] for x in points] == [5.0, 4.0, 3.0, None, None]
    assert [x["resolution_breaches"] for x in points] == [0, 1, 0, 1, 1]
    assert [x["response_breaches"] for x in points] == [0, 0, 1, 0, 0]


async def test_trends_of_a_technician_count_only_its_tickets(company):
    tech = await company.principal("technician")
    got = await reports.trends(tech, by="week", steps=5, as_of=at("2026-10-31 23:00"))
    assert [x["created"] for x in got["points"]] == [0, 1, 0, 0, 0]  # R2, dispatched to it


async def test_daily_trends_api(client, company):
    r = await client.get("/api/v1/reports/trends", params={"by": "day", "steps": 3, "as_of": "2026-10-10T12:00:00+08:00",
                                                           "project_id": company.project["id"]},
                         headers=company.headers("supervisor"))
    assert r.status_code == 200, r.text
    assert [(x["label"], x["created"]) for x in r.json()["points"]] == [("10-08", 2), ("10-09", 1), ("10-10", 1)]
    r = await client.get("/api/v1/reports/trends", params={"by": "month"}, headers=company.headers("supervisor"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "by"
