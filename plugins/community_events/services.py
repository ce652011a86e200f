"""Rules of community events: the quarterly themed event, festival decoration tasks (lunar dates
computed), the pre-event survey, the plan with budget and safety measures, sign-up with a waiting
list and check-in, return visits to a reproducible ≥ 10 % sample, satisfaction, summary and greetings."""
from __future__ import annotations

import json
import random
import secrets
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from lunardate import LunarDate
from piccolo.columns.combination import WhereRaw
from piccolo.query.functions.aggregate import Count

from core import Principal, TenantScope, conflict, fetch, get_registry, invalid, is_postgres, not_found, notify
from core import tables as ct
from plugins.community_events.tables import Answer, Event, Greeting, Photo, Signup, Summary, Task, Visit

PLUGIN = "community_events"
BEIJING = ZoneInfo("Asia/Shanghai")
SAMPLE_PERCENT = 10  # return visits to at least 10 % of participants, rounded up (seed 001)
SATISFACTION_TARGET = 80  # an event below 80 % satisfied is flagged (seed 001)
SATISFIED_SCORE = 4  # scores 4 and 5 of 5 count as satisfied
FESTIVALS = {"new_year": "元旦", "spring_festival": "春节", "national_day": "国庆节", "mid_autumn": "中秋节"}
GREETING_CHANNEL = "sms"


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, (str, bytes)) else value


def _event(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "survey_questions": _json(row["survey_questions"])}


def clean(text: str) -> str:
    from core import schemas

    return schemas.clean_text(text)


# ---------------------------------------------------------------- calendar

def festival_dates(year: int) -> dict[str, date]:
    """The four festivals of a Gregorian year; Spring Festival (正月初一) and Mid-Autumn (八月十五) are
    converted from the lunar calendar."""
    return {
        "new_year": date(year, 1, 1),
        "spring_festival": LunarDate(year, 1, 1).to_solar_date(),
        "mid_autumn": LunarDate(year, 8, 15).to_solar_date(),
        "national_day": date(year, 10, 1),
    }


def local_date(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    return moment.astimezone(BEIJING).date()


def quarter_bounds(year: int, quarter: int) -> tuple[datetime, datetime]:
    """[start, end) of a quarter in Beijing time, as aware datetimes."""
    start = datetime(year, 3 * quarter - 2, 1, tzinfo=BEIJING)
    end = datetime(year + 1, 1, 1, tzinfo=BEIJING) if quarter == 4 else datetime(year, 3 * quarter + 1, 1, tzinfo=BEIJING)
    return start, end


# ---------------------------------------------------------------- access

async def is_enabled(tenant_id: int, project_id: int) -> bool:
    return PLUGIN in await get_registry().enabled(tenant_id, project_id)


async def project_for(principal: Principal, project_id: int, *, field: str | None = None,
                      permission: str = "community_events.view") -> dict[str, Any]:
    """A project this staff member sees with community events enabled (404, or 422 on a body field)."""
    project = await principal.scope.get_or_none(ct.Project, project_id)
    if project is None or not principal.sees_project(project_id) or not await is_enabled(principal.tenant_id, project_id):
        if field:
            raise invalid(field, "no such project (or community events are off there)")
        raise not_found("project")
    principal.require(permission)
    return project


async def event_for(principal: Principal, event_id: int, permission: str = "community_events.view") -> dict[str, Any]:
    event = await principal.scope.get(Event, event_id, what="event")
    if not principal.sees_project(event["project_id"]) or not await is_enabled(principal.tenant_id, event["project_id"]):
        raise not_found("event")
    principal.require(permission)
    return _event(event)


async def _row_of_event(principal: Principal, table: Any, row_id: int, what: str,
                        permission: str = "community_events.view") -> tuple[dict[str, Any], dict[str, Any]]:
    row = await principal.scope.get(table, row_id, what=what)
    event = await principal.scope.get(Event, row["event_id"], what=what)
    if not principal.sees_project(event["project_id"]) or not await is_enabled(principal.tenant_id, event["project_id"]):
        raise not_found(what)
    principal.require(permission)
    return row, event


# ---------------------------------------------------------------- annual plan

async def quarter_check(scope: TenantScope, project_id: int, year: int, as_of: datetime) -> list[dict[str, Any]]:
    """One row per quarter: its events (not cancelled) and a status — `ok`, `at_risk` (no event yet and the
    quarter has not ended: flagged before it ends) or `missed` (ended without one)."""
    start, _ = quarter_bounds(year, 1)
    _, end = quarter_bounds(year, 4)
    rows = await scope.select(Event, Event.id, Event.title, Event.theme, Event.starts_at, Event.status).where(
        (Event.project_id == project_id) & (Event.status != "cancelled") & (Event.starts_at >= start)
        & (Event.starts_at < end)).order_by(Event.starts_at)
    out = []
    for q in range(1, 5):
        q_start, q_end = quarter_bounds(year, q)
        events = [r for r in rows if q_start <= r["starts_at"] < q_end]
        status = "ok" if events else ("missed" if as_of >= q_end else "at_risk")
        out.append({"quarter": q, "starts": q_start.date().isoformat(), "ends": (q_end - timedelta(days=1)).date().isoformat(),
                    "events": events, "status": status, "current": q_start <= as_of < q_end})
    return out


async def annual_plan(principal: Principal, project_id: int, year: int, as_of: datetime) -> dict[str, Any]:
    """The project's plan for a year: events by quarter with the one-a-quarter check, festival tasks."""
    await project_for(principal, project_id)
    quarters = await quarter_check(principal.scope, project_id, year, as_of)
    tasks = await principal.scope.select(Task).where(
        (Task.project_id == project_id) & (Task.festival_date >= date(year, 1, 1))
        & (Task.festival_date <= date(year, 12, 31))).order_by(Task.festival_date)
    return {"project_id": project_id, "year": year, "quarters": quarters, "tasks": tasks,
            "festivals": {k: v.isoformat() for k, v in festival_dates(year).items()}}


async def quarters_without_event(tenant_id: int, as_of: datetime, project_ids: list[int] | None = None
                                 ) -> list[dict[str, Any]]:
    """Projects (with the plugin on) whose current quarter has no themed event yet — the dashboard flag.
    One grouped query for all projects."""
    scope = TenantScope(tenant_id)
    d = local_date(as_of)
    quarter = (d.month - 1) // 3 + 1
    q_start, q_end = quarter_bounds(d.year, quarter)
    query = scope.select(ct.Project, ct.Project.id, ct.Project.name)
    if project_ids is not None:
        query = query.where(ct.Project.id.is_in(project_ids or [0]))
    projects = [p for p in await query.order_by(ct.Project.id) if await is_enabled(tenant_id, p["id"])]
    counts = {r["project_id"]: r["n"] for r in await scope.select(
        Event, Event.project_id, Count(Event.id, alias="n")).where(
        (Event.status != "cancelled") & (Event.starts_at >= q_start) & (Event.starts_at < q_end)).group_by(Event.project_id)}
    days_left = (q_end.date() - d).days
    return [{"project_id": p["id"], "name": p["name"], "year": d.year, "quarter": quarter, "days_left": days_left}
            for p in projects if not counts.get(p["id"])]


async def ensure_festival_tasks(tenant_id: int, as_of: datetime) -> dict[str, int]:
    """Create the decoration tasks of the festivals of this year and the next for every project with the
    plugin on, due the day before the festival. Running twice writes nothing new."""
    scope = TenantScope(tenant_id)
    year = local_date(as_of).year
    wanted = [(name, day) for y in (year, year + 1) for name, day in festival_dates(y).items()]
    projects = [p["id"] for p in await scope.select(ct.Project, ct.Project.id) if await is_enabled(tenant_id, p["id"])]
    if not projects:
        return {"tasks": 0}
    existing = {(r["project_id"], r["festival"], r["festival_date"]) for r in await scope.select(
        Task, Task.project_id, Task.festival, Task.festival_date).where(
        Task.festival_date >= date(year, 1, 1))}
    rows = [{"project_id": pid, "festival": name, "festival_date": day, "due_date": day - timedelta(days=1)}
            for pid in projects for name, day in wanted if (pid, name, day) not in existing]
    await scope.insert_many(Task, rows)
    return {"tasks": len(rows)}


async def list_tasks(principal: Principal, project_id: int) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    return await principal.scope.select(Task).where(Task.project_id == project_id).order_by(Task.festival_date)


async def complete_task(principal: Principal, task_id: int) -> dict[str, Any]:
    task = await principal.scope.get(Task, task_id, what="task")
    await project_for(principal, task["project_id"], permission="community_events.handle")
    await principal.scope.update(Task, {Task.status: "done"}).where(Task.id == task_id)
    return {**task, "status": "done"}


# ---------------------------------------------------------------- events and their plan

async def create_event(principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    await project_for(principal, data["project_id"], field="project_id", permission="community_events.manage")
    _check_times(data["starts_at"], data["ends_at"])
    return _event(await principal.scope.insert(Event, status="draft", **data))


def _check_times(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is None:
        raise invalid("starts_at", "give a time zone")
    if ends_at.tzinfo is None or ends_at <= starts_at:
        raise invalid("ends_at", "must be after starts_at (with a time zone)")


async def update_event(principal: Principal, event_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Change the plan; a change after approval sends it back to draft for a new approval."""
    event = await event_for(principal, event_id, "community_events.manage")
    if event["status"] in ("published", "finished", "cancelled"):
        raise conflict(f"the event is {event['status']}; its plan can no longer change")
    _check_times(data.get("starts_at", event["starts_at"]), data.get("ends_at", event["ends_at"]))
    if data:
        values = {getattr(Event, k): v for k, v in data.items()}
        values.update({Event.status: "draft", Event.approved_by: None, Event.approved_at: None})
        await principal.scope.update(Event, values).where(Event.id == event_id)
    return _event(await principal.scope.get(Event, event_id))


async def approve_event(principal: Principal, event_id: int, now: datetime) -> dict[str, Any]:
    """Approve the plan: it needs a plan text and safety measures (seed 001)."""
    event = await event_for(principal, event_id, "community_events.manage")
    if event["status"] != "draft":
        raise conflict(f"the event is {event['status']}, not a draft")
    if not event["safety_measures"].strip():
        raise invalid("safety_measures", "fill in the safety measures before approval")
    if not event["plan"].strip():
        raise invalid("plan", "fill in the plan before approval")
    await principal.scope.update(Event, {Event.status: "approved", Event.approved_by: principal.user_id,
                                         Event.approved_at: now}).where(Event.id == event_id)
    return _event(await principal.scope.get(Event, event_id))


async def publish_event(principal: Principal, event_id: int, now: datetime) -> dict[str, Any]:
    """Open the event for sign-up; only an approved plan with safety measures may be published (409)."""
    event = await event_for(principal, event_id, "community_events.manage")
    if event["status"] != "approved" or not event["safety_measures"].strip():
        raise conflict("the plan with its safety measures must be approved before the event is published")
    await principal.scope.update(Event, {Event.status: "published", Event.published_at: now}).where(Event.id == event_id)
    return _event(await principal.scope.get(Event, event_id))


async def cancel_event(principal: Principal, event_id: int) -> dict[str, Any]:
    event = await event_for(principal, event_id, "community_events.manage")
    if event["status"] == "finished":
        raise conflict("a finished event cannot be cancelled")
    await principal.scope.update(Event, {Event.status: "cancelled"}).where(Event.id == event_id)
    return _event(await principal.scope.get(Event, event_id))


async def list_events(principal: Principal, project_id: int, limit: int = 50, after: int = 0) -> list[dict[str, Any]]:
    await project_for(principal, project_id)
    rows = await principal.scope.select(Event).where((Event.project_id == project_id) & (Event.id > after)).order_by(
        Event.id).limit(limit + 1)
    return [_event(r) for r in rows]


# ---------------------------------------------------------------- survey

async def project_customers(scope: TenantScope, project_id: int, on: date) -> list[int]:
    """Customers holding a unit of the project on a day (one query)."""
    rows = await scope.select(ct.Occupancy, ct.Occupancy.customer_id).where(
        (ct.Occupancy.unit_id.project_id == project_id) & (ct.Occupancy.start_date <= on)
        & (ct.Occupancy.end_date.is_null() | (ct.Occupancy.end_date >= on))).distinct()
    return sorted({r["customer_id"] for r in rows})


async def send_survey(principal: Principal, event_id: int, questions: list[str], now: datetime) -> dict[str, Any]:
    """Send the short pre-event survey to the project's customers (once per event)."""
    event = await event_for(principal, event_id, "community_events.handle")
    if event["survey_sent_at"] is not None:
        raise conflict("the survey of this event was already sent")
    if event["status"] in ("finished", "cancelled"):
        raise conflict(f"the event is {event['status']}")
    customers = await project_customers(principal.scope, event["project_id"], local_date(now))
    await principal.scope.update(Event, {Event.survey_questions: questions, Event.survey_sent_at: now}).where(
        Event.id == event_id)
    body = "\n".join(f"{i + 1}. {q}" for i, q in enumerate(questions))
    for customer_id in customers:
        await notify.send(principal.tenant_id, template="community_events.survey",
                          subject=f"活动意见征询：{event['title']}", body=body,
                          key=f"community_events.survey:{event_id}", customer_id=customer_id, channel="wechat")
    return {"event_id": event_id, "questions": questions, "sent_to": len(customers)}


async def record_answer(principal: Principal, event_id: int, customer_id: int, answers: list[str]) -> dict[str, Any]:
    event = await event_for(principal, event_id, "community_events.handle")
    if event["survey_sent_at"] is None:
        raise conflict("the survey of this event has not been sent")
    questions = _json(event["survey_questions"]) or []
    if len(answers) != len(questions):
        raise invalid("answers", f"give one answer to each of the {len(questions)} questions")
    await _customer_of_project(principal, customer_id, event["project_id"])
    if await principal.scope.exists(Answer).where((Answer.event_id == event_id) & (Answer.customer_id == customer_id)):
        raise conflict("this customer's answers are already recorded")
    row = await principal.scope.insert(Answer, event_id=event_id, customer_id=customer_id, answers=answers)
    return {**row, "answers": _json(row["answers"])}


async def list_answers(principal: Principal, event_id: int) -> list[dict[str, Any]]:
    await event_for(principal, event_id)
    rows = await principal.scope.select(Answer).where(Answer.event_id == event_id).order_by(Answer.id)
    return [{**r, "answers": _json(r["answers"])} for r in rows]


async def _customer_of_project(principal: Principal, customer_id: int, project_id: int) -> None:
    held = await principal.scope.exists(ct.Occupancy).where(
        (ct.Occupancy.customer_id == customer_id) & (ct.Occupancy.unit_id.project_id == project_id))
    if not held:
        raise invalid("customer_id", "no such customer in this project")


# ---------------------------------------------------------------- sign-up

async def sign_up(principal: Principal, event_id: int, customer_id: int, now: datetime) -> dict[str, Any]:
    """Sign a customer up: confirmed while places are left, otherwise on the waiting list."""
    event = await event_for(principal, event_id, "community_events.handle")
    if event["status"] != "published":
        raise conflict("sign-up is open only for a published event")
    if now >= event["starts_at"]:
        raise conflict("the event has started")
    await _customer_of_project(principal, customer_id, event["project_id"])
    existing = await principal.scope.select(Signup).where(
        (Signup.event_id == event_id) & (Signup.customer_id == customer_id)).first()
    if existing and existing["status"] != "cancelled":
        raise conflict("this customer is already signed up")
    taken = await principal.scope.count(Signup).where((Signup.event_id == event_id) & (Signup.status == "confirmed"))
    status = "confirmed" if taken < event["capacity"] else "waiting"
    if existing:
        await principal.scope.update(Signup, {Signup.status: status, Signup.signed_up_at: now,
                                              Signup.cancelled_at: None}).where(Signup.id == existing["id"])
        return await principal.scope.get(Signup, existing["id"])
    return await principal.scope.insert(Signup, event_id=event_id, customer_id=customer_id, status=status,
                                        token=secrets.token_urlsafe(18), signed_up_at=now)


async def cancel_signup(principal: Principal, signup_id: int, now: datetime) -> dict[str, Any]:
    """Cancel a sign-up; a freed place goes to the first on the waiting list."""
    signup, event = await _row_of_event(principal, Signup, signup_id, "signup", "community_events.handle")
    if signup["status"] == "cancelled":
        raise conflict("the sign-up is already cancelled")
    if signup["checked_in_at"] is not None:
        raise conflict("the customer has checked in")
    await principal.scope.update(Signup, {Signup.status: "cancelled", Signup.cancelled_at: now}).where(
        Signup.id == signup_id)
    promoted = None
    if signup["status"] == "confirmed":
        first = await principal.scope.select(Signup).where(
            (Signup.event_id == event["id"]) & (Signup.status == "waiting")).order_by(
            Signup.signed_up_at).order_by(Signup.id).first()
        if first:
            await principal.scope.update(Signup, {Signup.status: "confirmed"}).where(Signup.id == first["id"])
            promoted = first["id"]
            await notify.send(principal.tenant_id, template="community_events.promoted",
                              subject=f"您已获得活动名额：{event['title']}",
                              key=f"community_events.promoted:{first['id']}", customer_id=first["customer_id"],
                              channel="sms")
    return {**await principal.scope.get(Signup, signup_id), "promoted_signup_id": promoted}


async def list_signups(principal: Principal, event_id: int) -> list[dict[str, Any]]:
    await event_for(principal, event_id)
    return await principal.scope.select(
        Signup, *Signup.all_columns(), Signup.customer_id.name.as_alias("customer_name")).where(
        Signup.event_id == event_id).order_by(Signup.signed_up_at).order_by(Signup.id)


async def check_in(principal: Principal, event_id: int, *, token: str | None, signup_id: int | None,
                   now: datetime) -> dict[str, Any]:
    """Check a confirmed participant in, by the QR code's token or from the list; twice is harmless."""
    event = await event_for(principal, event_id, "community_events.handle")
    if event["status"] not in ("published", "finished"):
        raise conflict("check-in is open only for a published event")
    query = principal.scope.select(Signup).where(Signup.event_id == event_id)
    if token:
        signup = await query.where(Signup.token == token).first()
        if signup is None:
            raise invalid("token", "no sign-up of this event has this code")
    elif signup_id:
        signup = await query.where(Signup.id == signup_id).first()
        if signup is None:
            raise invalid("signup_id", "no such sign-up in this event")
    else:
        raise invalid("token", "give the QR code's token or a signup_id")
    if signup["status"] != "confirmed":
        raise conflict(f"the sign-up is {signup['status']}")
    if signup["checked_in_at"] is None:
        await principal.scope.update(Signup, {Signup.checked_in_at: now, Signup.checked_in_by: principal.user_id}).where(
            Signup.id == signup["id"])
    return await principal.scope.get(Signup, signup["id"])


# ---------------------------------------------------------------- after the event

def sample_size(participants: int) -> int:
    """At least 10 % of participants, and at least one (none when nobody took part)."""
    return 0 if participants <= 0 else max(1, -(-participants * SAMPLE_PERCENT // 100))


async def draw_return_visits(principal: Principal, event_id: int, now: datetime) -> list[dict[str, Any]]:
    """After the event ends, pick the return-visit sample from the checked-in participants, seeded by the
    event id so the draw is reproducible; drawing again returns the same visits."""
    event = await event_for(principal, event_id, "community_events.handle")
    if event["status"] not in ("published", "finished"):
        raise conflict("only a published event has participants")
    if now < event["ends_at"]:
        raise conflict("the event has not ended yet")
    visits = await principal.scope.select(Visit).where(Visit.event_id == event_id).order_by(Visit.id)
    if visits:
        return visits
    participants = await principal.scope.select(Signup, Signup.id, Signup.customer_id).where(
        (Signup.event_id == event_id) & Signup.checked_in_at.is_not_null()).order_by(Signup.id)
    if not participants:
        raise conflict("nobody checked in; there is nobody to visit")
    chosen = random.Random(event_id).sample(participants, sample_size(len(participants)))
    await principal.scope.insert_many(Visit, [{"event_id": event_id, "signup_id": s["id"], "customer_id": s["customer_id"]}
                                              for s in sorted(chosen, key=lambda s: s["id"])])
    await principal.scope.update(Event, {Event.status: "finished"}).where(Event.id == event_id)
    return await principal.scope.select(Visit).where(Visit.event_id == event_id).order_by(Visit.id)


async def record_visit(principal: Principal, visit_id: int, score: int, comment: str, now: datetime) -> dict[str, Any]:
    visit, _ = await _row_of_event(principal, Visit, visit_id, "visit", "community_events.handle")
    if not 1 <= score <= 5:
        raise invalid("score", "a score from 1 to 5")
    await principal.scope.update(Visit, {Visit.status: "done", Visit.score: score, Visit.comment: comment,
                                         Visit.visited_by: principal.user_id, Visit.visited_at: now}).where(
        Visit.id == visit_id)
    return await principal.scope.get(Visit, visit_id)


async def satisfaction(scope: TenantScope, event_id: int) -> dict[str, Any]:
    """Share of visited participants who scored 4 or 5; below 80 % the event is flagged with its comments."""
    visits = await scope.select(Visit).where(Visit.event_id == event_id).order_by(Visit.id)
    done = [v for v in visits if v["status"] == "done"]
    pct = round(100 * sum(1 for v in done if v["score"] >= SATISFIED_SCORE) / len(done)) if done else None
    flagged = pct is not None and pct < SATISFACTION_TARGET
    return {"event_id": event_id, "sampled": len(visits), "visited": len(done), "satisfaction_pct": pct,
            "target_pct": SATISFACTION_TARGET, "flagged": flagged,
            "comments": [{"visit_id": v["id"], "score": v["score"], "comment": v["comment"]}
                         for v in done if v["comment"]] if flagged else []}


async def event_report(principal: Principal, event_id: int) -> dict[str, Any]:
    event = await event_for(principal, event_id)
    sat = await satisfaction(principal.scope, event_id)
    participants = await principal.scope.count(Signup).where(
        (Signup.event_id == event_id) & Signup.checked_in_at.is_not_null())
    return {"event": _event(event), "participants": participants, "satisfaction": sat,
            "visits": await principal.scope.select(Visit).where(Visit.event_id == event_id).order_by(Visit.id),
            "summary": await principal.scope.select(Summary).where(Summary.event_id == event_id).first(),
            "photos": await principal.scope.select(Photo, Photo.id, Photo.filename, Photo.content_type, Photo.size).where(
                Photo.event_id == event_id).order_by(Photo.id)}


async def save_summary(principal: Principal, event_id: int, cost_fen: int, notes: str) -> dict[str, Any]:
    """Store the summary: participants and satisfaction computed, cost against the budget."""
    event = await event_for(principal, event_id, "community_events.handle")
    if event["status"] != "finished":
        raise conflict("summarise the event after it has ended and its return visits are drawn")
    if cost_fen < 0:
        raise invalid("cost_fen", "cannot be negative")
    sat = await satisfaction(principal.scope, event_id)
    participants = await principal.scope.count(Signup).where(
        (Signup.event_id == event_id) & Signup.checked_in_at.is_not_null())
    values = {"participants": participants, "satisfaction_pct": sat["satisfaction_pct"], "cost_fen": cost_fen,
              "budget_fen": event["budget_fen"], "notes": notes, "created_by": principal.user_id}
    existing = await principal.scope.select(Summary, Summary.id).where(Summary.event_id == event_id).first()
    if existing:
        await principal.scope.update(Summary, {getattr(Summary, k): v for k, v in values.items()}).where(
            Summary.id == existing["id"])
        row = await principal.scope.get(Summary, existing["id"])
    else:
        row = await principal.scope.insert(Summary, event_id=event_id, **values)
    return {**row, "over_budget_fen": max(0, cost_fen - event["budget_fen"]), "satisfaction": sat}


async def add_photo(principal: Principal, event_id: int, filename: str, content: bytes, content_type: str
                    ) -> dict[str, Any]:
    await event_for(principal, event_id, "community_events.handle")
    if not content_type.startswith("image/"):
        raise invalid("file", "attach an image")
    row = await principal.scope.insert(Photo, event_id=event_id, filename=clean(filename)[:200], content=content,
                                       content_type=content_type[:100], size=len(content))
    return {k: v for k, v in row.items() if k != "content"}


async def get_photo(principal: Principal, photo_id: int) -> dict[str, Any]:
    photo, _ = await _row_of_event(principal, Photo, photo_id, "photo")
    return photo


# ---------------------------------------------------------------- greetings

def _birthday_clause(days: list[date]) -> Any:
    """Customers whose birthday (month-day) is one of these days, in the database's own dialect."""
    keys = [d.strftime("%m-%d") for d in days]
    marks = ", ".join("{}" for _ in keys)
    if is_postgres():
        return WhereRaw(f"to_char(birthday, 'MM-DD') IN ({marks})", *keys)
    return WhereRaw(f"strftime('%m-%d', birthday) IN ({marks})", *keys)


async def send_greetings(tenant_id: int, as_of: datetime) -> dict[str, int]:
    """Birthday and festival greetings of the day to customers who opted in, by SMS; an occasion
    (birthday:2026, mid_autumn:2026 …) is greeted once per customer, however often the job runs."""
    scope = TenantScope(tenant_id)
    if not any([await is_enabled(tenant_id, p["id"]) for p in await scope.select(ct.Project, ct.Project.id)]):
        return {"birthday": 0, "festival": 0}
    today = local_date(as_of)
    days = [today]
    if today.month == 2 and today.day == 28 and not _leap(today.year):
        days.append(date(2000, 2, 29))  # born on 29 February: greeted on the 28th in common years
    opted = ct.Customer.greetings_opt_in == True  # noqa: E712
    result = {"birthday": 0, "festival": 0}
    batches: list[tuple[str, str, list[dict[str, Any]]]] = []
    born = await scope.select(ct.Customer, ct.Customer.id, ct.Customer.name).where(
        opted & ct.Customer.birthday.is_not_null() & _birthday_clause(days))
    batches.append(("birthday", f"birthday:{today.year}", born))
    for festival, day in festival_dates(today.year).items():
        if day == today:
            everyone = await scope.select(ct.Customer, ct.Customer.id, ct.Customer.name).where(opted)
            batches.append(("festival", f"{festival}:{today.year}", everyone))
    for kind, occasion, customers in batches:
        if not customers:
            continue
        ids = [c["id"] for c in customers]
        done = {r["customer_id"] for r in await scope.select(Greeting, Greeting.customer_id).where(
            (Greeting.occasion == occasion) & Greeting.customer_id.is_in(ids))}
        fresh = [c for c in customers if c["id"] not in done]
        await scope.insert_many(Greeting, [{"customer_id": c["id"], "occasion": occasion, "channel": GREETING_CHANNEL,
                                            "sent_on": today} for c in fresh])
        for c in fresh:
            name = occasion.split(":")[0]
            subject = "生日快乐" if kind == "birthday" else f"{FESTIVALS[name]}快乐"
            await notify.send(tenant_id, template=f"community_events.greeting.{name}", subject=subject,
                              body=f"{c['name']}：物业服务中心祝您{subject}！",
                              key=f"community_events.greeting:{occasion}", customer_id=c["id"],
                              channel=GREETING_CHANNEL)
        result[kind] += len(fresh)
    return result


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


async def daily(tenant_id: int, as_of: datetime) -> dict[str, int]:
    """The daily job of one company: festival decoration tasks and greetings."""
    return {**await ensure_festival_tasks(tenant_id, as_of), **await send_greetings(tenant_id, as_of)}


async def tenants_with_plugin() -> list[int]:
    rows = await fetch("SELECT DISTINCT s.tenant_id AS id FROM core_plugin_state s JOIN core_tenant t ON t.id = s.tenant_id "
                       "WHERE s.plugin = {} AND s.enabled = {} AND t.is_active = {} ORDER BY s.tenant_id",
                       PLUGIN, True, True)
    return [r["id"] for r in rows]


async def run_for_tenants(job, as_of: datetime) -> dict[str, int]:
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    total: dict[str, int] = {}
    for tenant_id in await tenants_with_plugin():
        for k, v in (await job(tenant_id, as_of)).items():
            total[k] = total.get(k, 0) + v
    return total


def beijing(day: date, hh: int = 0, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=BEIJING).astimezone(timezone.utc)
