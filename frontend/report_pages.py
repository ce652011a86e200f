"""Portal pages of the monthly reports (ECharts charts, tables, Excel and PDF downloads) and the charts
over time of the dashboard. The figures come from `core.reports` (SQL); this module only lays them out."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Router, get
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import Redirect, Template

from core import report_files, reports
from core.errors import Problem
from core.tenancy import Principal
from frontend import csrf, i18n, services
from frontend.portal import _errors_of, _int, _now, page, portal_error

TREND_CHOICES = {"week": 12, "day": 30}


def _lang(request: Request) -> str:
    return "en" if i18n.language_of(request) == "en" else "zh"


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def _number(value: Any, unit: str = "n") -> str:
    if value is None:
        return "—"
    return f"{value:g}%" if unit == "%" else f"{value:g}"


def _change(value: Any, unit: str, lang: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{value:+g} pp" if lang == "en" else f"{value:+g} 个百分点"
    return f"{value:+g}"


# ---------------------------------------------------------------- charts (JSON for static/portal.js)

def _bar(key: str, title: str, categories: list[str], series: list[tuple[str, list[Any]]], *, stack: bool = True,
         kind: str = "bar", top: float | None = None) -> dict[str, Any]:
    return {"key": key, "title": title, "data": {"type": kind, "stack": stack, "max": top, "categories": categories,
                                                 "series": [{"name": n, "data": d} for n, d in series]}}


def _pie(key: str, title: str, items: list[tuple[str, int]]) -> dict[str, Any]:
    return {"key": key, "title": title, "data": {"type": "pie", "categories": [n for n, _ in items],
                                                 "series": [{"name": title, "data": [{"name": n, "value": v}
                                                                                     for n, v in items if v]}]}}


def report_charts(report: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The charts of one monthly report, labelled in the portal's language."""
    kind = report["kind"]
    t = lambda zh, en: en if lang == "en" else zh  # noqa: E731
    kinds = lambda k: report_files._kind_label(k, lang)  # noqa: E731
    channel = lambda c: report_files._channel_label(c, lang)  # noqa: E731
    if kind == "repairs":
        labels = [f"{_pick(reports.AREA_LABELS[r['area']], lang)} / {_pick(reports.WARRANTY_LABELS[r['warranty']], lang)}"
                  for r in report["by_class"]]
        pending = [r["received"] - r["on_time"] - r["overdue"] for r in report["by_class"]]
        return [
            _bar("repairs-class", t("按区域与保修", "By place and warranty"), labels, [
                (t("按时完成", "On time"), [r["on_time"] for r in report["by_class"]]),
                (t("超时", "Overdue"), [r["overdue"] for r in report["by_class"]]),
                (t("未到期", "Not yet due"), pending)]),
            _pie("repairs-category", t("按类别", "By category"),
                 [(r["category"] or _pick(reports.UNCLASSIFIED, lang), r["received"]) for r in report["by_category"]]),
        ]
    if kind == "calls":
        days = [d["date"][5:] for d in report["by_day"]]
        return [
            _bar("calls-day", t("每日来电来访", "Calls and visits per day"), days,
                 [(kinds(k), [d["kinds"][k] for d in report["by_day"]]) for k in report["kinds"]]),
            _pie("calls-channel", t("按渠道", "By channel"), [(channel(r["channel"]), r["total"]) for r in report["by_channel"]]),
            _bar("calls-hour", t("按时段", "By hour of the day"), [f"{h['hour']:02d}" for h in report["by_hour"]],
                 [(t("来电来访", "Calls and visits"), [h["total"] for h in report["by_hour"]])]),
        ]
    counts = [h for h in report["headlines"] if h["unit"] == "n" and h["key"] not in ("own_fault_complaints",)]
    rates = [h for h in report["headlines"] if h["unit"] == "%"]
    label = lambda h: h["label_en"] if lang == "en" else h["label_zh"]  # noqa: E731
    charts = [
        _bar("cs-counts", t("本月与上月", "This month and last month"), [label(h) for h in counts],
             [(t("本月", "This month"), [h["value"] for h in counts]), (t("上月", "Last month"), [h["previous"] for h in counts])],
             stack=False),
        _bar("cs-rates", t("指标(%)", "Rates (%)"), [label(h) for h in rates],
             [(t("本月", "This month"), [h["value"] for h in rates]), (t("上月", "Last month"), [h["previous"] for h in rates])],
             stack=False, top=100),
        _pie("cs-channel", t("来电来访渠道", "Calls and visits by channel"),
             [(channel(r["channel"]), r["total"]) for r in report["by_channel"]]),
    ]
    if len(report["by_project"]) > 1:
        charts.append(_bar("cs-projects", t("各项目受理与超时", "Received and breaches by project"),
                           [r["project_name"] for r in report["by_project"]],
                           [(t("受理工单", "Received"), [r["received"] for r in report["by_project"]]),
                            (t("超时", "Breaches"), [r["breaches"] for r in report["by_project"]])], stack=False))
    return charts


def trend_charts(trend: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    t = lambda zh, en: en if lang == "en" else zh  # noqa: E731
    points = trend["points"]
    labels = [p["label"] for p in points]
    return [
        _bar("trend-flow", t("新建与关闭工单", "Tickets created and closed"), labels,
             [(t("新建", "Created"), [p["created"] for p in points]), (t("关闭", "Closed"), [p["closed"] for p in points])],
             kind="line", stack=False),
        _bar("trend-breaches", t("超时(按到期时间)", "SLA breaches (by due time)"), labels,
             [(t("响应超时", "Response"), [p["response_breaches"] for p in points]),
              (t("处理超时", "Resolution"), [p["resolution_breaches"] for p in points])]),
        _bar("trend-satisfaction", t("回访满意度(1–5)", "Return-visit satisfaction (1–5)"), labels,
             [(t("平均满意度", "Average"), [p["satisfaction"] for p in points])], kind="line", stack=False, top=5),
    ]


async def dashboard_trends(principal: Principal, project_id: int | None, by: str | None, lang: str, now: Any) -> dict[str, Any]:
    """The dashboard's charts over time: the last 12 weeks (or 30 days)."""
    by = by if by in TREND_CHOICES else "week"
    trend = await reports.trends(principal, project_id=project_id, by=by, steps=TREND_CHOICES[by], as_of=now)
    return {"by": by, "choices": TREND_CHOICES, "charts": trend_charts(trend, lang), "points": trend["points"]}


# ---------------------------------------------------------------- pages

def _headline_cards(report: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    if report["kind"] == "cs":
        keys = ("received", "immediate_closure", "return_visit", "on_time", "satisfaction", "breaches")
        return [{"key": h["key"], "label": h["label_en"] if lang == "en" else h["label_zh"],
                 "value": _number(h["value"], h["unit"]), "previous": _number(h["previous"], h["unit"]),
                 "change": _change(h["change"], h["unit"], lang),
                 "missed": h["key"] == "breaches" and bool(h["value"])}
                for h in report["headlines"] if h["key"] in keys]
    t = lambda zh, en: en if lang == "en" else zh  # noqa: E731
    if report["kind"] == "repairs":
        total = report["total"]
        return [{"key": "received", "label": t("报修数", "Repairs received"), "value": _number(total["received"])},
                {"key": "on_time_rate", "label": t("按时完成率", "Completed on time"), "value": _number(total["on_time_rate"], "%"),
                 "missed": total["overdue"] > 0},
                {"key": "immediate_rate", "label": t("即时处理率", "Handled at once"), "value": _number(total["immediate_rate"], "%")},
                {"key": "classified_rate", "label": t("分类准确率", "Classified"), "value": _number(report["classified_rate"], "%"),
                 "missed": report["unclassified"] > 0},
                {"key": "satisfaction", "label": t("平均满意度", "Avg. satisfaction"), "value": _number(total["satisfaction"])}]
    service = report["service"]
    return [{"key": "total", "label": t("来电来访", "Calls and visits"), "value": _number(report["total"])},
            {"key": "immediate_rate", "label": t("即时处理率", "Handled at once"), "value": _number(service["immediate_rate"], "%")},
            {"key": "visit_rate", "label": t("回访率", "Return-visit rate"), "value": _number(service["visit_rate"], "%"),
             "missed": service["visits_due"] > service["visits_done"]},
            {"key": "satisfaction", "label": t("平均满意度", "Avg. satisfaction"), "value": _number(service["satisfaction"])},
            {"key": "breaches", "label": t("超时", "SLA breaches"), "value": _number(service["breaches"]),
             "missed": service["breaches"] > 0}]


@get("/portal/reports", include_in_schema=False)
async def reports_home() -> Redirect:
    return Redirect("/portal/reports/monthly/cs")


@get("/portal/reports/monthly/{kind:str}", include_in_schema=False)
async def monthly_page(request: Request, kind: str, month: str | None = Parameter(default=None, max_length=20),
                       project: str | None = Parameter(query="project_id", default=None, max_length=20)) -> Template:
    """One monthly report of a project or of every visible project: charts, tables and the export links."""
    me: Principal = request.user
    if kind not in reports.KINDS:
        raise Problem(404, "Not found", "No such report.")
    me.require("kpi.read")
    lang = _lang(request)
    project_id = _int(project)
    now = _now()
    month = (month or reports.month_of(now)).strip()
    errors: dict[str, str] = {}
    report = None
    try:
        report = await reports.monthly(me, kind, month, project_id=project_id, as_of=now)
    except Problem as exc:
        if exc.status != 422:
            raise
        errors = _errors_of(exc)
    query = {"month": month, **({"project_id": project_id} if project_id else {})}
    exports = {fmt: f"/api/v1/reports/monthly/{kind}?{urlencode({**query, 'format': fmt})}" for fmt in ("xlsx", "pdf")}
    return await page(request, "portal/report_monthly.html", status_code=422 if errors else 200, nav="reports",
                      kind=kind, kinds=reports.KINDS,
                      report=report, month=month, project_id=project_id, errors=errors, query=urlencode(query),
                      projects=await services.visible_projects(me), exports=exports,
                      tables=report_files.tables(report, lang) if report else [],
                      charts=report_charts(report, lang) if report else [],
                      cards=_headline_cards(report, lang) if report else [],
                      subtitle=report_files.subtitle(report, lang) if report else "")


REPORT_HANDLERS = [Router(path="/", route_handlers=[reports_home, monthly_page], guards=[csrf.csrf_guard],
                          exception_handlers={Problem: portal_error, HTTPException: portal_error},
                          include_in_schema=False)]
