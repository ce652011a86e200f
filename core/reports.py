"""Monthly reports and dashboard trends, counted in SQL (GROUP BY over ``core_ticket``; no ticket is
loaded into Python, only the grouped rows).

Seeds 000/001/004 ask for, every month and per project (the company CS department sees every project):

* **Repair classification summary** (每月维修分类汇总, ``repairs``): the repairs received in the month
  by place (public area / private unit), warranty (in / out) and category (``data.category``, the
  repair kind's form field), with completion within the SLA, immediate handling and return visits.
  A repair without place or warranty is "unclassified": dispatch accuracy must be 100 % (seed 000).
* **Call and visit analysis** (来电来访月度分析, ``calls``): every ticket received in the month by
  channel and kind, by day and by hour, the top issues, and the service figures below.
* **Customer-service monthly report** (客服月报, ``cs``): the headline figures of both, the KPIs of
  `core.kpi`, satisfaction and SLA breaches, each beside last month's value, and per project.

Definitions (cancelled tickets count nowhere; times are Beijing time; ``cutoff`` = the end of the
month, or ``as_of`` while the month is still running):

* *received* = created in the month; *completed* = a repair of the month resolved before the cutoff;
  *on time* = resolved by its resolution due time (policy clock or promised time); *overdue* =
  resolved after it, or still open when it passed before the cutoff. On-time rate = on time / (on
  time + overdue), so repairs still open and not yet due are not judged.
* *immediate* = resolved within `core.kpi.IMMEDIATE_MINUTES` (10) minutes of being received.
* *satisfaction* = the 1–5 score given at return visits made in the month: average, and the share
  of scores of 4 or 5 (satisfied).
* *SLA breaches* = response, resolution and return-visit due times that fell in the month (before
  the cutoff) and were missed (done late or not done).
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.db import fetch
from core.errors import invalid, not_found
from core.kpi import IMMEDIATE_MINUTES, _Sql
from core.roles import Role
from core.tenancy import Principal

BEIJING = ZoneInfo("Asia/Shanghai")
KINDS: dict[str, tuple[str, str]] = {
    "repairs": ("每月维修分类汇总", "Monthly repair classification summary"),
    "calls": ("来电来访月度分析", "Monthly call and visit analysis"),
    "cs": ("客服月报", "Monthly customer-service report"),
}
FORMATS = ("json", "xlsx", "pdf")
AREA_LABELS = {"public": ("公共部位", "Public area"), "private": ("业户私有部位", "Private unit"), "": ("未分类", "Unclassified")}
WARRANTY_LABELS = {"in": ("保修期内", "In warranty"), "out": ("保修期外", "Out of warranty"), "": ("未分类", "Unclassified")}
UNCLASSIFIED = ("未分类", "Unclassified")
TOP_ISSUES = 10
SATISFIED_SCORE = 4
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class _Q(_Sql):
    """`core.kpi`'s portable expressions, plus buckets of time, the repair category and the staff scope.

    Values become markers, so an expression may be built once and used several times in any order;
    `render` turns the finished text into `{}` placeholders with the values in the order they appear."""

    _MARK = re.compile("\x1e(\\d+)\x1f")

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return f"\x1e{len(self.args) - 1}\x1f"

    def render(self, sql: str) -> tuple[str, ...]:
        values: list[Any] = []

        def place(found: re.Match) -> str:
            values.append(self.args[int(found.group(1))])
            return "{}"

        return (self._MARK.sub(place, sql), *values)

    def bucket(self, column: str, origin: datetime, seconds: int) -> str:
        """Whole `seconds`-long steps from `origin` to `column` (0 for the first bucket)."""
        if self.pg:
            return f"CAST(FLOOR(EXTRACT(EPOCH FROM ({column} - CAST({self.arg(origin)} AS TIMESTAMPTZ))) / {int(seconds)}) AS INTEGER)"
        return f"(CAST(ROUND((julianday({column}) - julianday({self.arg(origin)})) * 86400) AS INTEGER) / {int(seconds)})"

    def before(self, column: str, moment: datetime) -> str:
        return f"{self.t(column)} < {self.t(self.arg(moment))}"

    def after(self, column: str, other: str) -> str:
        return f"{self.t(column)} > {self.t(other)}"

    def category(self) -> str:
        return "(t.data::json ->> 'category')" if self.pg else "json_extract(t.data, '$.category')"

    def staff(self, principal: Principal) -> str:
        """The tickets a butler or technician may see (others see whole projects: `Principal.ticket_filter`)."""
        if principal.role == Role.BUTLER:
            clause = f"t.responsible_id = {self.arg(principal.user_id)} OR t.first_receiver_id = {self.arg(principal.user_id)}"
            if principal.grid_ids:
                clause += " OR " + self.among("t.grid_id", list(principal.grid_ids))
            return f" AND ({clause})"
        if principal.role == Role.TECHNICIAN:
            return f" AND (t.executor_id = {self.arg(principal.user_id)} OR t.first_receiver_id = {self.arg(principal.user_id)})"
        return ""


# ---------------------------------------------------------------- periods and scope

def parse_month(text: str | None) -> tuple[datetime, datetime]:
    """'2026-10' → the Beijing month [start, end) as aware datetimes."""
    found = _MONTH.match((text or "").strip())
    if not found or not 2000 <= int(found.group(1)) <= 2100:
        raise invalid("month", "a month as YYYY-MM, e.g. 2026-10")
    start = datetime(int(found.group(1)), int(found.group(2)), 1, tzinfo=BEIJING)
    return start, next_month(start)


def next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def previous_month(start: datetime) -> datetime:
    return (start - timedelta(days=1)).replace(day=1)


def month_of(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y-%m")


async def _projects(principal: Principal, project_id: int | None) -> dict[int, str]:
    """The projects a report covers (id → name): one visible project (else 404) or every visible one."""
    from core.tables import Project

    if project_id is not None:
        row = await principal.scope.get_or_none(Project, project_id, Project.id, Project.name)
        if row is None or not principal.sees_project(project_id):
            raise not_found("project")
        return {row["id"]: row["name"]}
    query = principal.scope.select(Project, Project.id, Project.name)
    clause = principal.project_filter(Project.id)
    if clause is not None:
        query = query.where(clause)
    return {r["id"]: r["name"] for r in await query.order_by(Project.id)}


def _rate(count: int, of: int) -> float | None:
    return round(count * 100 / of, 2) if of else None


def _avg(total: int, n: int) -> float | None:
    return round(total / n, 2) if n else None


def _sum(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, int]:
    out = dict.fromkeys(keys, 0)
    for r in rows:
        for k in keys:
            out[k] += int(r.get(k) or 0)
    return out


# ---------------------------------------------------------------- repairs by classification

REPAIR_COUNTS = ("received", "emergency", "completed", "on_time", "overdue", "immediate", "visited", "scored",
                 "score_sum")


async def _repair_groups(principal: Principal, project_id: int | None, start: datetime, end: datetime,
                         cutoff: datetime) -> list[dict[str, Any]]:
    s = _Q()
    done = f"(t.resolved_at IS NOT NULL AND {s.before('t.resolved_at', cutoff)})"
    on_time = f"({done} AND t.resolution_due_at IS NOT NULL AND {s.by('t.resolved_at', 't.resolution_due_at')})"
    late_done = f"({done} AND t.resolution_due_at IS NOT NULL AND {s.after('t.resolved_at', 't.resolution_due_at')})"
    late_open = (f"(NOT {done} AND t.resolution_due_at IS NOT NULL AND {s.before('t.resolution_due_at', cutoff)})")
    visited = f"(t.return_visited_at IS NOT NULL AND {s.before('t.return_visited_at', cutoff)})"
    inner = f"""
        SELECT t.project_id AS project_id, COALESCE(t.repair_area, '') AS area, COALESCE(t.warranty, '') AS warranty,
          COALESCE({s.category()}, '') AS category,
          CASE WHEN t.priority = 'emergency' THEN 1 ELSE 0 END AS emergency,
          CASE WHEN {done} THEN 1 ELSE 0 END AS completed,
          CASE WHEN {on_time} THEN 1 ELSE 0 END AS on_time,
          CASE WHEN {late_done} OR {late_open} THEN 1 ELSE 0 END AS overdue,
          CASE WHEN {done} AND {s.within('t.created_at', 't.resolved_at', IMMEDIATE_MINUTES * 60)} THEN 1 ELSE 0 END AS immediate,
          CASE WHEN {visited} THEN 1 ELSE 0 END AS visited,
          CASE WHEN {visited} AND t.satisfaction IS NOT NULL THEN 1 ELSE 0 END AS scored,
          CASE WHEN {visited} AND t.satisfaction IS NOT NULL THEN t.satisfaction ELSE 0 END AS score
        FROM core_ticket t
        WHERE {s.scope(principal, project_id)} AND t.kind = 'repair' AND {s.during('t.created_at', start, end)}
    """
    query = f"""
        SELECT project_id, area, warranty, category, COUNT(*) AS received, SUM(emergency) AS emergency,
          SUM(completed) AS completed, SUM(on_time) AS on_time, SUM(overdue) AS overdue, SUM(immediate) AS immediate,
          SUM(visited) AS visited, SUM(scored) AS scored, SUM(score) AS score_sum
        FROM ({inner}) r
        GROUP BY project_id, area, warranty, category
        ORDER BY project_id, area, warranty, category
    """
    rows = await fetch(*s.render(query))
    return [{**r, **{k: int(r[k] or 0) for k in REPAIR_COUNTS}} for r in rows]


def _repair_figures(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "on_time_rate": _rate(counts["on_time"], counts["on_time"] + counts["overdue"]),
            "immediate_rate": _rate(counts["immediate"], counts["received"]),
            "visit_rate": _rate(counts["visited"], counts["completed"]),
            "satisfaction": _avg(counts["score_sum"], counts["scored"])}


def _group(rows: list[dict[str, Any]], keys: tuple[str, ...], counts: tuple[str, ...]) -> list[dict[str, Any]]:
    """Sum already-grouped rows over fewer keys."""
    out: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = tuple(r[k] for k in keys)
        entry = out.setdefault(key, {**{k: r[k] for k in keys}, **dict.fromkeys(counts, 0)})
        for c in counts:
            entry[c] += int(r[c] or 0)
    return [out[k] for k in sorted(out, key=lambda k: tuple((x == "", str(x)) for x in k))]


async def repairs_report(principal: Principal, month: str, *, project_id: int | None = None,
                         as_of: datetime) -> dict[str, Any]:
    """每月维修分类汇总: repairs of the month by place × warranty × category, per project and in total."""
    principal.require("kpi.read")
    start, end = parse_month(month)
    projects = await _projects(principal, project_id)
    cutoff = min(end, as_of)
    rows = await _repair_groups(principal, project_id, start, end, cutoff)
    for r in rows:
        r["project_name"] = projects.get(r["project_id"], str(r["project_id"]))
    detail = [{**r, **_repair_figures({k: r[k] for k in REPAIR_COUNTS})} for r in rows]
    by_class = [{**r, **_repair_figures({k: r[k] for k in REPAIR_COUNTS})}
                for r in _group(rows, ("area", "warranty"), REPAIR_COUNTS)]
    by_category = [{**r, **_repair_figures({k: r[k] for k in REPAIR_COUNTS})}
                   for r in _group(rows, ("category",), REPAIR_COUNTS)]
    by_project = []
    for pid, name in projects.items():
        counts = _sum([r for r in rows if r["project_id"] == pid], REPAIR_COUNTS)
        by_project.append({"project_id": pid, "project_name": name, **_repair_figures(counts)})
    unclassified = sum(r["received"] for r in rows if not r["area"] or not r["warranty"])
    total = _repair_figures(_sum(rows, REPAIR_COUNTS))
    return {**_head("repairs", month, start, end, as_of, project_id, projects), "rows": detail, "by_class": by_class,
            "by_category": by_category, "by_project": by_project, "total": total, "unclassified": unclassified,
            "classified_rate": _rate(total["received"] - unclassified, total["received"])}


def _head(kind: str, month: str, start: datetime, end: datetime, as_of: datetime, project_id: int | None,
          projects: dict[int, str]) -> dict[str, Any]:
    return {"kind": kind, "title_zh": KINDS[kind][0], "title_en": KINDS[kind][1], "month": month,
            "from": start.isoformat(), "to": end.isoformat(), "as_of": as_of.isoformat(),
            "complete": as_of >= end, "project_id": project_id,
            "projects": [{"id": k, "name": v} for k, v in projects.items()],
            "immediate_minutes": IMMEDIATE_MINUTES}


# ---------------------------------------------------------------- calls and visits

SERVICE_COUNTS = ("received", "resolved", "closed", "immediate", "visits_due", "visits_done", "scored", "score_sum",
                  "satisfied", "response_breaches", "resolution_breaches", "visit_breaches")


def _return_visit_kinds() -> list[str]:
    from core.kpi import _return_visit_kinds as kinds

    return kinds()


async def _service_groups(principal: Principal, project_id: int | None, start: datetime, end: datetime,
                          cutoff: datetime) -> list[dict[str, Any]]:
    """Per project and kind: received, resolved, closed, immediate, return visits, satisfaction, breaches."""
    s = _Q()
    rv = _return_visit_kinds()

    def missed(due: str, done: str) -> str:
        return (f"(t.{due} IS NOT NULL AND {s.during('t.' + due, start, cutoff)} AND "
                f"(t.{done} IS NULL OR {s.after('t.' + done, 't.' + due)}))")

    created = s.during("t.created_at", start, end)
    resolved = s.during("t.resolved_at", start, end)
    visited = s.during("t.return_visited_at", start, end)
    query = f"""
        SELECT t.project_id AS project_id, t.kind AS kind,
          SUM(CASE WHEN {created} THEN 1 ELSE 0 END) AS received,
          SUM(CASE WHEN {resolved} THEN 1 ELSE 0 END) AS resolved,
          SUM(CASE WHEN {s.during('t.closed_at', start, end)} THEN 1 ELSE 0 END) AS closed,
          SUM(CASE WHEN {s.during('t.created_at', start, end)} AND t.resolved_at IS NOT NULL
                   AND {s.within('t.created_at', 't.resolved_at', IMMEDIATE_MINUTES * 60)} THEN 1 ELSE 0 END) AS immediate,
          SUM(CASE WHEN {s.among('t.kind', rv)} AND {s.during('t.resolved_at', start, end)} THEN 1 ELSE 0 END) AS visits_due,
          SUM(CASE WHEN {s.among('t.kind', rv)} AND {s.during('t.resolved_at', start, end)}
                   AND t.return_visited_at IS NOT NULL THEN 1 ELSE 0 END) AS visits_done,
          SUM(CASE WHEN {visited} AND t.satisfaction IS NOT NULL THEN 1 ELSE 0 END) AS scored,
          SUM(CASE WHEN {s.during('t.return_visited_at', start, end)} AND t.satisfaction IS NOT NULL
                   THEN t.satisfaction ELSE 0 END) AS score_sum,
          SUM(CASE WHEN {s.during('t.return_visited_at', start, end)} AND t.satisfaction >= {SATISFIED_SCORE}
                   THEN 1 ELSE 0 END) AS satisfied,
          SUM(CASE WHEN {missed('response_due_at', 'responded_at')} THEN 1 ELSE 0 END) AS response_breaches,
          SUM(CASE WHEN {missed('resolution_due_at', 'resolved_at')} THEN 1 ELSE 0 END) AS resolution_breaches,
          SUM(CASE WHEN {missed('return_visit_due_at', 'return_visited_at')} THEN 1 ELSE 0 END) AS visit_breaches
        FROM core_ticket t
        WHERE {s.scope(principal, project_id)}
          AND ({s.during('t.created_at', start, end)} OR {s.during('t.resolved_at', start, end)}
               OR {s.during('t.closed_at', start, end)} OR {s.during('t.return_visited_at', start, end)}
               OR {s.during('t.response_due_at', start, cutoff)} OR {s.during('t.resolution_due_at', start, cutoff)}
               OR {s.during('t.return_visit_due_at', start, cutoff)})
        GROUP BY t.project_id, t.kind
    """
    rows = await fetch(*s.render(query))
    return [{**r, **{k: int(r[k] or 0) for k in SERVICE_COUNTS}} for r in rows]


def _service_figures(counts: dict[str, int]) -> dict[str, Any]:
    return {**counts, "immediate_rate": _rate(counts["immediate"], counts["received"]),
            "visit_rate": _rate(counts["visits_done"], counts["visits_due"]),
            "satisfaction": _avg(counts["score_sum"], counts["scored"]),
            "satisfied_rate": _rate(counts["satisfied"], counts["scored"]),
            "breaches": counts["response_breaches"] + counts["resolution_breaches"] + counts["visit_breaches"]}


async def _channel_kind(principal: Principal, project_id: int | None, start: datetime, end: datetime) -> list[dict[str, Any]]:
    s = _Q()
    query = f"""
        SELECT t.channel AS channel, t.kind AS kind, COUNT(*) AS n,
          SUM(CASE WHEN t.resolved_at IS NOT NULL AND {s.within('t.created_at', 't.resolved_at', IMMEDIATE_MINUTES * 60)}
              THEN 1 ELSE 0 END) AS immediate
        FROM core_ticket t
        WHERE {s.scope(principal, project_id)} AND {s.during('t.created_at', start, end)}
        GROUP BY t.channel, t.kind
    """
    return [{**r, "n": int(r["n"]), "immediate": int(r["immediate"] or 0)} for r in await fetch(*s.render(query))]


async def _by_step(principal: Principal, project_id: int | None, start: datetime, end: datetime, seconds: int,
                   *, modulo: int | None = None) -> list[dict[str, Any]]:
    """Tickets received per time step from `start` (and kind); `modulo` folds steps (hours of the day)."""
    s = _Q()
    inner = f"""
        SELECT {s.bucket('t.created_at', start, seconds)} AS step, t.kind AS kind
        FROM core_ticket t
        WHERE {s.scope(principal, project_id)} AND {s.during('t.created_at', start, end)}
    """
    step = f"(step % {int(modulo)})" if modulo else "step"
    query = f"SELECT {step} AS step, kind, COUNT(*) AS n FROM ({inner}) b GROUP BY {step}, kind ORDER BY {step}, kind"
    return [{"step": int(r["step"]), "kind": r["kind"], "n": int(r["n"])} for r in await fetch(*s.render(query))]


async def _top_issues(principal: Principal, project_id: int | None, start: datetime, end: datetime,
                      limit: int = TOP_ISSUES) -> list[dict[str, Any]]:
    s = _Q()
    query = f"""
        SELECT t.kind AS kind, t.title AS title, COUNT(*) AS n
        FROM core_ticket t
        WHERE {s.scope(principal, project_id)} AND {s.during('t.created_at', start, end)}
        GROUP BY t.kind, t.title
        ORDER BY COUNT(*) DESC, t.kind, t.title
        LIMIT {int(limit)}
    """
    return [{**r, "n": int(r["n"])} for r in await fetch(*s.render(query))]


def _kind_order(kinds: set[str]) -> list[str]:
    base = ["repair", "complaint", "inquiry", "suggestion"]
    return [k for k in base if k in kinds] + sorted(k for k in kinds if k not in base)


async def calls_report(principal: Principal, month: str, *, project_id: int | None = None,
                       as_of: datetime) -> dict[str, Any]:
    """来电来访月度分析: every ticket received in the month by channel × kind, day, hour; top issues; service."""
    from core.tickets import CHANNELS

    principal.require("kpi.read")
    start, end = parse_month(month)
    projects = await _projects(principal, project_id)
    cutoff = min(end, as_of)
    cells = await _channel_kind(principal, project_id, start, end)
    kinds = _kind_order({c["kind"] for c in cells} | {"repair", "complaint", "inquiry", "suggestion"})
    channels = [c for c in CHANNELS if any(x["channel"] == c for x in cells)] + sorted(
        {x["channel"] for x in cells} - set(CHANNELS))
    by_channel = []
    for ch in channels:
        mine = [c for c in cells if c["channel"] == ch]
        by_channel.append({"channel": ch, "kinds": {k: sum(c["n"] for c in mine if c["kind"] == k) for k in kinds},
                           "total": sum(c["n"] for c in mine), "immediate": sum(c["immediate"] for c in mine)})
    by_kind = {k: sum(c["n"] for c in cells if c["kind"] == k) for k in kinds}
    days = (end - start).days
    daily = await _by_step(principal, project_id, start, end, 86400)
    by_day = []
    for i in range(days):
        mine = [d for d in daily if d["step"] == i]
        by_day.append({"date": (start + timedelta(days=i)).strftime("%Y-%m-%d"),
                       "kinds": {k: sum(d["n"] for d in mine if d["kind"] == k) for k in kinds},
                       "total": sum(d["n"] for d in mine)})
    hourly = await _by_step(principal, project_id, start, end, 3600, modulo=24)
    by_hour = [{"hour": h, "total": sum(d["n"] for d in hourly if d["step"] == h)} for h in range(24)]
    service_rows = await _service_groups(principal, project_id, start, end, cutoff)
    service_by_project = []
    for pid, name in projects.items():
        service_by_project.append({"project_id": pid, "project_name": name, **_service_figures(
            _sum([r for r in service_rows if r["project_id"] == pid], SERVICE_COUNTS))})
    service_by_kind = [{"kind": k, **_service_figures(_sum([r for r in service_rows if r["kind"] == k], SERVICE_COUNTS))}
                       for k in _kind_order({r["kind"] for r in service_rows} | set(kinds))]
    return {**_head("calls", month, start, end, as_of, project_id, projects), "kinds": kinds, "by_channel": by_channel,
            "by_kind": by_kind, "total": sum(by_kind.values()), "by_day": by_day, "by_hour": by_hour,
            "top_issues": await _top_issues(principal, project_id, start, end),
            "service_by_project": service_by_project, "service_by_kind": service_by_kind,
            "service": _service_figures(_sum(service_rows, SERVICE_COUNTS))}


# ---------------------------------------------------------------- the customer-service monthly report

HEADLINES: tuple[tuple[str, str, str, str], ...] = (
    # key, zh, en, unit ("n" count, "%" percent, "avg" score)
    ("received", "受理工单", "Tickets received", "n"),
    ("repairs", "报修", "Repairs", "n"),
    ("complaints", "投诉", "Complaints", "n"),
    ("inquiries", "咨询", "Inquiries", "n"),
    ("suggestions", "建议", "Suggestions", "n"),
    ("resolved", "完成工单", "Tickets resolved", "n"),
    ("closed", "关闭工单", "Tickets closed", "n"),
    ("immediate_closure", "即时结案率(咨询)", "Immediate closure (inquiries)", "%"),
    ("return_visit", "回访率", "Return-visit rate", "%"),
    ("complaint_tracking", "投诉跟踪率", "Complaint tracking rate", "%"),
    ("on_time", "及时处理率", "On-time handling", "%"),
    ("repair_on_time", "维修按时完成率", "Repairs completed on time", "%"),
    ("repair_classified", "维修分类准确率", "Repairs classified", "%"),
    ("satisfaction", "平均满意度", "Average satisfaction", "avg"),
    ("satisfied_rate", "满意率(4–5分)", "Satisfied (4–5)", "%"),
    ("breaches", "超时(合计)", "SLA breaches (total)", "n"),
    ("response_breaches", "响应超时", "Response breaches", "n"),
    ("resolution_breaches", "处理超时", "Resolution breaches", "n"),
    ("visit_breaches", "回访超时", "Return-visit breaches", "n"),
    ("own_fault_complaints", "有效投诉", "Own-fault complaints", "n"),
)


def _kpi_percent(rate: dict[str, Any]) -> float | None:
    return rate.get("percent")


def _headline(service: dict[str, Any], by_kind: dict[str, int], repairs: dict[str, Any], unclassified: int,
              kpis: dict[str, Any] | None) -> dict[str, Any]:
    on_time = list((kpis or {}).get("on_time", {}).values())
    done = sum(r["resolution"]["count"] for r in on_time)
    due = sum(r["resolution"]["of"] for r in on_time)
    return {
        "received": service["received"], "repairs": by_kind.get("repair", 0), "complaints": by_kind.get("complaint", 0),
        "inquiries": by_kind.get("inquiry", 0), "suggestions": by_kind.get("suggestion", 0),
        "resolved": service["resolved"], "closed": service["closed"],
        "immediate_closure": _kpi_percent(kpis["immediate_closure"]) if kpis else None,
        "return_visit": _kpi_percent(kpis["return_visit"]) if kpis else None,
        "complaint_tracking": _kpi_percent(kpis["complaint_tracking"]) if kpis else None,
        "on_time": _rate(done, due),
        "repair_on_time": repairs["on_time_rate"],
        "repair_classified": _rate(repairs["received"] - unclassified, repairs["received"]),
        "satisfaction": service["satisfaction"], "satisfied_rate": service["satisfied_rate"],
        "breaches": service["breaches"], "response_breaches": service["response_breaches"],
        "resolution_breaches": service["resolution_breaches"], "visit_breaches": service["visit_breaches"],
        "own_fault_complaints": kpis["own_fault_complaints"]["count"] if kpis else 0,
    }


async def _month_figures(principal: Principal, project_id: int | None, projects: dict[int, str], start: datetime,
                         end: datetime, as_of: datetime) -> dict[str, Any]:
    """Headline figures of one month: in total and per project."""
    from core import kpi

    cutoff = min(end, as_of)
    service_rows = await _service_groups(principal, project_id, start, end, cutoff)
    repair_rows = await _repair_groups(principal, project_id, start, end, cutoff)
    kpis = await kpi.kpis(principal, start, end, project_id=project_id)
    kpi_rows = {r["project_id"]: r for r in kpis["rows"]}

    def figures(service: list[dict[str, Any]], repairs: list[dict[str, Any]], k: dict[str, Any] | None) -> dict[str, Any]:
        by_kind = {}
        for r in service:
            by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + r["received"]
        unclassified = sum(r["received"] for r in repairs if not r["area"] or not r["warranty"])
        return _headline(_service_figures(_sum(service, SERVICE_COUNTS)), by_kind,
                         _repair_figures(_sum(repairs, REPAIR_COUNTS)), unclassified, k)

    per_project = {pid: figures([r for r in service_rows if r["project_id"] == pid],
                                [r for r in repair_rows if r["project_id"] == pid], kpi_rows.get(pid))
                   for pid in projects}
    return {"total": figures(service_rows, repair_rows, kpis["total"]), "projects": per_project,
            "by_class": [{**r, **_repair_figures({k: r[k] for k in REPAIR_COUNTS})}
                         for r in _group(repair_rows, ("area", "warranty"), REPAIR_COUNTS)]}


def _change(now: Any, before: Any) -> Any:
    if now is None or before is None:
        return None
    return round(now - before, 2)


async def cs_report(principal: Principal, month: str, *, project_id: int | None = None,
                    as_of: datetime) -> dict[str, Any]:
    """客服月报: the month's headline figures beside last month's, per project and in total."""
    principal.require("kpi.read")
    start, end = parse_month(month)
    projects = await _projects(principal, project_id)
    prev_start = previous_month(start)
    this = await _month_figures(principal, project_id, projects, start, end, as_of)
    last = await _month_figures(principal, project_id, projects, prev_start, start, as_of)
    headlines = [{"key": key, "label_zh": zh, "label_en": en, "unit": unit, "value": this["total"][key],
                  "previous": last["total"][key], "change": _change(this["total"][key], last["total"][key])}
                 for key, zh, en, unit in HEADLINES]
    by_project = [{"project_id": pid, "project_name": name, **this["projects"][pid],
                   "previous": last["projects"][pid]} for pid, name in projects.items()]
    calls = await _channel_kind(principal, project_id, start, end)
    from core.tickets import CHANNELS

    channels = {}
    for c in calls:
        channels[c["channel"]] = channels.get(c["channel"], 0) + c["n"]
    by_channel = [{"channel": ch, "total": channels[ch]} for ch in [*CHANNELS, *sorted(set(channels) - set(CHANNELS))]
                  if ch in channels]
    return {**_head("cs", month, start, end, as_of, project_id, projects), "previous_month": month_of(prev_start),
            "headlines": headlines, "total": this["total"], "previous": last["total"], "by_project": by_project,
            "by_class": this["by_class"], "by_channel": by_channel,
            "top_issues": await _top_issues(principal, project_id, start, end, limit=5)}


async def monthly(principal: Principal, kind: str, month: str, *, project_id: int | None = None,
                  as_of: datetime) -> dict[str, Any]:
    """One monthly report by its kind: ``repairs``, ``calls`` or ``cs``."""
    if kind not in KINDS:
        raise not_found("report")
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise invalid("as_of", "needs a time zone")
    build = {"repairs": repairs_report, "calls": calls_report, "cs": cs_report}[kind]
    return await build(principal, month, project_id=project_id, as_of=as_of)


# ---------------------------------------------------------------- trends for the dashboard

TREND_STEPS = {"week": 7 * 86400, "day": 86400}
MAX_STEPS = {"week": 104, "day": 366}


def trend_window(as_of: datetime, by: str, steps: int) -> tuple[datetime, datetime]:
    """[start, end) of `steps` whole Beijing weeks (Monday first) or days ending with the one holding `as_of`."""
    local = as_of.astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    if by == "week":
        local -= timedelta(days=local.weekday())
    size = timedelta(seconds=TREND_STEPS[by])
    end = local + size
    return end - size * steps, end


async def trends(principal: Principal, *, project_id: int | None = None, by: str = "week", steps: int = 12,
                 as_of: datetime) -> dict[str, Any]:
    """Per week (or day): tickets created and closed, SLA breaches (by due time) and satisfaction, for the
    tickets this staff member may see; one GROUP BY query per series."""
    principal.require("ticket.read")
    if by not in TREND_STEPS:
        raise invalid("by", "week or day")
    if not 1 <= steps <= MAX_STEPS[by]:
        raise invalid("steps", f"from 1 to {MAX_STEPS[by]}")
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise invalid("as_of", "needs a time zone")
    projects = await _projects(principal, project_id)
    start, end = trend_window(as_of, by, steps)
    seconds = TREND_STEPS[by]

    async def series(column: str, measures: str, extra: Any = None, until: datetime | None = None) -> dict[int, dict[str, Any]]:
        s = _Q()
        inner = f"""
            SELECT {s.bucket('t.' + column, start, seconds)} AS step, t.satisfaction AS satisfaction FROM core_ticket t
            WHERE {s.scope(principal, project_id)}{s.staff(principal)} AND {s.during('t.' + column, start, until or end)}
              {extra(s) if extra else ''}
        """
        query = f"SELECT step, {measures} FROM ({inner}) b GROUP BY step"
        return {int(r["step"]): r for r in await fetch(*s.render(query))}

    cutoff = min(as_of, end)
    created = await series("created_at", "COUNT(*) AS n")
    closed = await series("closed_at", "COUNT(*) AS n")
    scores = await series("return_visited_at", "COUNT(*) AS n, SUM(satisfaction) AS total",
                          lambda s: "AND t.satisfaction IS NOT NULL")
    resolution = await series("resolution_due_at", "COUNT(*) AS n", lambda s: (
        f"AND (t.resolved_at IS NULL OR {s.after('t.resolved_at', 't.resolution_due_at')})"), until=cutoff)
    response = await series("response_due_at", "COUNT(*) AS n", lambda s: (
        f"AND (t.responded_at IS NULL OR {s.after('t.responded_at', 't.response_due_at')})"), until=cutoff)
    points = []
    for i in range(steps):
        at = start + timedelta(seconds=seconds * i)
        score = scores.get(i)
        n = int(score["n"]) if score else 0
        points.append({"start": at.isoformat(), "label": at.strftime("%m-%d"),
                       "created": int(created[i]["n"]) if i in created else 0,
                       "closed": int(closed[i]["n"]) if i in closed else 0,
                       "resolution_breaches": int(resolution[i]["n"]) if i in resolution else 0,
                       "response_breaches": int(response[i]["n"]) if i in response else 0,
                       "scored": n, "satisfaction": _avg(int(score["total"] or 0), n) if score else None})
    return {"by": by, "steps": steps, "from": start.isoformat(), "to": end.isoformat(), "as_of": as_of.isoformat(),
            "project_id": project_id, "projects": [{"id": k, "name": v} for k, v in projects.items()],
            "points": points}
