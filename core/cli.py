"""The `guanjia` command."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from datetime import date, datetime, timezone

import click

os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")


def _run(coro):
    """Run a coroutine; a problem (bad input, conflict) becomes a one-line error and exit code 1."""
    from core.errors import Problem

    try:
        return asyncio.run(coro)
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """Guanjia (管家): customer service for property-management companies."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def migrate_all(quiet: bool = False) -> None:
    import contextlib
    import io

    from piccolo.apps.migrations.commands.forwards import run_forwards

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer if quiet else sys.stdout):
        result = await run_forwards(app_name="all")
    if not result.success:
        raise click.ClickException(f"migrations failed: {result.message}\n{buffer.getvalue()}")
    from core.db import engine

    if engine().engine_type == "sqlite":
        from core.tables import Tenant

        await Tenant.raw("PRAGMA journal_mode=WAL")


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (core and every installed plugin)."""
    _run(migrate_all())
    click.echo("database is up to date")


def _serve(host: str, port: int, workers: int) -> None:
    from core.settings import get_settings

    settings = get_settings()
    if workers > 1 and settings.jobs.embedded:
        raise click.ClickException("several web workers need REDIS_URL (the embedded job worker runs in one process)")
    from core.observability import configure_logging

    json_logs = os.environ.get("GUANJIA_LOG_FORMAT", "json") == "json"
    configure_logging(json_logs=json_logs)
    server = settings.server.http_server
    if server == "uvicorn":
        import uvicorn

        # uvicorn finishes in-flight requests on SIGTERM (graceful shutdown) before the app's shutdown hooks run
        uvicorn.run("core.app:create_served_app", factory=True, host=host, port=port, workers=workers,
                    log_level="info", proxy_headers=False, log_config=None, timeout_graceful_shutdown=20)
    elif server == "granian":
        from granian import Granian
        from granian.constants import Interfaces

        from core.observability import granian_logging

        # granian (Rust HTTP, the app on asyncio) stops accepting on SIGTERM, finishes in-flight requests, then
        # runs the app's shutdown hooks; a worker that has not stopped after 25 s is killed
        Granian("core.app:create_served_app", address=host, port=port, interface=Interfaces.ASGI, workers=workers,
                factory=True, log_dictconfig=granian_logging(json_logs), workers_kill_timeout=25,
                respawn_failed_workers=True).serve()
    else:
        raise click.ClickException(f"GUANJIA_HTTP_SERVER must be granian or uvicorn, not {server!r}")


@main.command()
@click.option("--host", default=None, help="Address to listen on (GUANJIA_HOST, default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (GUANJIA_PORT, default 8000).")
@click.option("--workers", default=None, type=int, help="Web worker processes (GUANJIA_WEB_WORKERS, default 1).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the API and the portal (with the in-process job worker when REDIS_URL is not set)."""
    from core.settings import get_settings

    s = get_settings().server
    _serve(host or s.host, port or s.port, workers or s.web_workers)


@main.command()
@click.option("--threads", default=None, type=int, help="Worker threads (GUANJIA_WORKER_THREADS).")
def worker(threads: int | None) -> None:
    """Run a Dramatiq worker on the Redis broker (REDIS_URL)."""
    import signal
    import threading

    from core.jobs import make_worker
    from core.settings import get_settings

    if get_settings().jobs.embedded:
        raise click.ClickException("set REDIS_URL: without it jobs run inside `guanjia serve`")
    w = make_worker(threads=threads)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    w.start()
    click.echo(f"worker running with queues: {', '.join(sorted(w.broker.get_declared_queues()))}")
    stop.wait()
    w.stop()


@main.command()
@click.option("--once", is_flag=True, help="Run one tick and exit.")
def scheduler(once: bool) -> None:
    """Enqueue periodic jobs on their schedule (safe to start twice: runs are claimed in the database)."""
    from core.scheduler import run_forever, tick
    from core.settings import get_settings

    if get_settings().jobs.embedded:
        raise click.ClickException("set REDIS_URL: without it the scheduler runs inside `guanjia serve`")

    async def go() -> None:
        if once:
            click.echo(json.dumps(await tick()))
            return
        import signal

        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(run_forever())
        for sig in (signal.SIGTERM, signal.SIGINT):  # a tick in progress finishes its current statement, then stops
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            click.echo("scheduler stopped")

    _run(go())


@main.command("run-job")
@click.argument("name")
@click.option("--as-of", "as_of", required=True, help="ISO date or date-time, e.g. 2026-12-01 or 2026-12-01T09:00+08:00.")
def run_job(name: str, as_of: str) -> None:
    """Run one periodic job by hand, now, in this process."""
    from core.jobs import get_broker, load_actor_modules
    from core.scheduler import periodic_jobs

    jobs = periodic_jobs()
    if name not in jobs:
        raise click.ClickException(f"unknown job {name!r}; known: {', '.join(sorted(jobs))}")
    moment = datetime.fromisoformat(as_of)
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    load_actor_modules()
    actor = get_broker().get_actor(jobs[name].actor_name)
    result = _run(actor.fn(moment.isoformat()))
    click.echo(json.dumps(result, default=str, ensure_ascii=False))


@main.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--no-serve", is_flag=True, help="Only migrate and create the demo company.")
def demo(host: str | None, port: int | None, no_serve: bool) -> None:
    """Migrate, import the demo company from tenants/demo if absent (then each plugin's demo activity), print
    its logins and serve."""
    import time

    from core.demo import demo_folder, ensure_demo, ensure_demo_from_folder
    from core.settings import get_settings

    settings = get_settings()
    started = time.monotonic()

    async def prepare():
        await migrate_all(quiet=True)
        folder = demo_folder()
        if folder is None:  # installed without the tenants/ folder: the built-in demo company
            return await ensure_demo(settings.demo.password)
        return await ensure_demo_from_folder(settings.demo.password, folder)

    result = _run(prepare())
    s = settings.server
    url = f"http://{host or s.host}:{port or s.port}"
    click.echo(f"\n管家 Guanjia demo — company '{result['tenant']['slug']}' "
               f"({'imported from tenants/demo' if result.get('report') else 'created' if result['created'] else 'already there'}, "
               f"{time.monotonic() - started:.1f} s)")
    click.echo(f"Portal {url}/portal   API {url}/api/v1   OpenAPI {url}/schema")
    click.echo(f"Password for every demo login: {settings.demo.password}")
    for role, login in result["logins"].items():
        click.echo(f"  {role:<16} {login}")
    _warn_calendar()
    if not no_serve:
        _serve(host or s.host, port or s.port, 1)


def _warn_calendar(as_of: date | None = None) -> None:
    from core.calendar import WorkCalendar

    warning = WorkCalendar().coverage_warning(as_of or date.today())
    if warning:
        click.secho(f"WARNING: {warning}", fg="yellow", err=True)


@main.group()
def tenant() -> None:
    """Property companies (tenants)."""


@tenant.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--plugin", "plugins", multiple=True, help="Enable this plugin (repeat); default: all installed.")
def tenant_create(slug: str, name: str, plugins: tuple[str, ...]) -> None:
    """Create a company SLUG named NAME."""
    from core.admin import create_tenant

    t = _run(create_tenant(slug, name, plugins=list(plugins) or None))
    click.echo(f"company {t['slug']} created (id {t['id']})")


@main.group()
def user() -> None:
    """Staff logins."""


@user.command("create")
@click.argument("login")
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--tenant", "tenant_slug", required=True, help="Company slug.")
@click.option("--role", required=True, type=click.Choice(["company_cs", "project_manager", "supervisor", "team_lead",
                                                          "front_desk", "butler", "technician", "finance"]))
@click.option("--project", "projects", multiple=True, help="Project code the role covers (repeat).")
def user_create(login: str, name: str, password: str, tenant_slug: str, role: str, projects: tuple[str, ...]) -> None:
    """Create a staff login with a role in a company."""
    from core.admin import add_membership, create_user
    from core.tables import Project, Tenant, User

    async def go() -> str:
        t = await Tenant.select().where(Tenant.slug == tenant_slug).first()
        if t is None:
            raise click.ClickException(f"no company {tenant_slug!r}")
        ids = []
        for code in projects:
            p = await Project.select(Project.id).where((Project.tenant_id == t["id"]) & (Project.code == code)).first()
            if p is None:
                raise click.ClickException(f"no project {code!r} in {tenant_slug}")
            ids.append(p["id"])
        u = await User.select().where(User.login == login).first() or await create_user(login, name, password)
        await add_membership(t["id"], u["id"], role, ids)
        return f"{login} is {role} of {tenant_slug}"

    click.echo(_run(go()))


@main.command()
@click.option("--json", "as_json", is_flag=True)
def plugins(as_json: bool) -> None:
    """List installed plugins: version, hooks implemented, and where each is enabled."""
    from core.plugins import get_registry
    from core.tables import PluginState, Tenant

    registry = get_registry()

    async def where() -> dict[str, list[str]]:
        try:
            rows = await PluginState.select(PluginState.plugin, PluginState.enabled, PluginState.project_id,
                                            PluginState.tenant_id.slug.as_alias("tenant"))
        except Exception:  # noqa: BLE001 - database not migrated yet
            return {}
        out: dict[str, list[str]] = {}
        for r in rows:
            if r["enabled"]:
                out.setdefault(r["plugin"], []).append(r["tenant"] + (f"/project {r['project_id']}" if r["project_id"] else ""))
        return out

    enabled = _run(where())
    items = [{"name": m.name, "version": m.version, "title": m.title, "dependencies": list(m.dependencies),
              "hooks": registry.hooks_of(m.name), "enabled_for": "everywhere" if m.name == "core" else enabled.get(m.name, [])}
             for m in registry.metas.values()]
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    for it in items:
        click.echo(f"{it['name']} {it['version']}  {it['title']}")
        click.echo(f"  hooks: {', '.join(it['hooks']) or '-'}")
        where_ = it["enabled_for"] if isinstance(it["enabled_for"], str) else (", ".join(it["enabled_for"]) or "nowhere")
        click.echo(f"  enabled for: {where_}")


@main.command()
@click.option("--as-of", "as_of", default=None, help="ISO date (default today).")
def calendar(as_of: str | None) -> None:
    """Show the working-day calendar's coverage and warn when next year's official data is missing."""
    from core.calendar import WorkCalendar

    cal = WorkCalendar()
    first, last = cal.covered_years()
    click.echo(f"official statutory calendar data: {first}–{last}")
    day = date.fromisoformat(as_of) if as_of else date.today()
    warning = cal.coverage_warning(day)
    click.echo(f"WARNING: {warning}" if warning else "calendar data covers this year and the next")


from core.onboarding.cli import onboard as _onboard, plugin as _plugin  # noqa: E402

main.add_command(_onboard)
main.add_command(_plugin)

from core.backup import backup_command as _backup, restore_command as _restore  # noqa: E402

main.add_command(_backup)
main.add_command(_restore)


if __name__ == "__main__":  # pragma: no cover
    main()
