"""`guanjia onboard …` and `guanjia plugin new …`."""
from __future__ import annotations

import asyncio
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator

import click


@contextmanager
def _bar(label: str, total: int) -> Iterator[Any]:
    if total < 2000:
        from core.onboarding.service import _NoBar

        yield _NoBar()
        return
    with click.progressbar(length=total, label=f"importing {label}", file=click.get_text_stream("stderr")) as bar:
        yield bar


class _OnboardGroup(click.Group):
    """`guanjia onboard DIR` runs the import; `guanjia onboard template|run|export …` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_OnboardGroup)
def onboard() -> None:
    """Onboard a company from tenants/<slug>/ (tenant.toml + Excel/CSV files)."""


@onboard.command("template")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
def template(folder: str, fmt: str) -> None:
    """Write tenant.toml and empty spreadsheets with example rows into FOLDER."""
    from core.onboarding import write_templates

    for path in write_templates(folder, fmt):
        click.echo(f"wrote {path}")


@onboard.command("run")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--check", is_flag=True, help="Validate only; write nothing.")
@click.option("--as-of", "as_of", default=None, help="Move-in date for customer rows without one (YYYY-MM-DD; default today).")
def run(folder: str, check: bool, as_of: str | None) -> None:
    """Validate everything in FOLDER, then import all of it in one transaction (or nothing)."""
    from core.onboarding import OnboardingInvalid, load_folder, onboard as do_onboard

    day = date.fromisoformat(as_of) if as_of else date.today()
    bundle = load_folder(folder)

    async def go():
        from core.db import close_pool, start_pool

        await start_pool()
        try:
            return await do_onboard(bundle, as_of=day, progress=_bar, dry_run=check)
        finally:
            await close_pool()

    try:
        report = asyncio.run(go())
    except OnboardingInvalid as exc:
        for err in exc.errors:
            click.echo(str(err), err=True)
        raise click.ClickException(f"{len(exc.errors)} problem(s) found; nothing was imported.") from exc
    if check:
        click.echo("all rows are valid")
        return
    click.echo(f"company {report.slug} (id {report.tenant_id}) onboarded")
    for what in sorted(set(report.created) | set(report.updated)):
        click.echo(f"  {what}: {report.created.get(what, 0)} created, {report.updated.get(what, 0)} updated")


@onboard.command("export")
@click.argument("slug")
@click.argument("project")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
def export(slug: str, project: str, folder: str, fmt: str) -> None:
    """Write project PROJECT of company SLUG to FOLDER in the onboarding layout."""
    from core.onboarding import export_project
    from core.onboarding.files import tenant_toml
    from core.tables import Tenant

    async def go() -> list[Path]:
        t = await Tenant.select(Tenant.id).where(Tenant.slug == slug).first()
        if t is None:
            raise click.ClickException(f"no company {slug!r}")
        paths = await export_project(t["id"], project, folder, fmt)
        toml = Path(folder) / "tenant.toml"
        toml.write_text(await tenant_toml(t["id"]), encoding="utf-8")
        return [toml, *paths]

    for path in asyncio.run(go()):
        click.echo(f"wrote {path}")


@click.group("plugin")
def plugin() -> None:
    """The plugin author's kit."""


@plugin.command("new")
@click.argument("name")
@click.option("--into", "into", type=click.Path(file_okay=False), default="plugins", show_default=True,
              help="Folder that will hold the new package.")
def plugin_new(name: str, into: str) -> None:
    """Scaffold a working plugin NAME (metadata, hooks, table, migration, route, job, template, test)."""
    from core.scaffold import scaffold

    try:
        paths = scaffold(name, into)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    for path in paths:
        click.echo(f"wrote {path}")
