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
@click.option("--passwords-file", "passwords_file", default=None, type=click.Path(dir_okay=False),
              help="Where to write the generated initial passwords (default var/initial-passwords/<slug>-<time>.csv).")
def run(folder: str, check: bool, as_of: str | None, passwords_file: str | None) -> None:
    """Validate everything in FOLDER, then import all of it in one transaction (or nothing).

    New staff without an initial password in the sheet get a generated one, written once to a file only the
    current user can read; everyone changes the initial password at the first login."""
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
    if report.passwords:
        path = write_passwords(report.slug, report.passwords, passwords_file)
        click.echo(f"{len(report.passwords)} initial password(s) written to {path} (readable by you only); "
                   "hand each to its owner, who changes it at the first login, then delete the file")


def write_passwords(slug: str, passwords: dict[str, str], path: str | None = None) -> Path:
    """A CSV of login,initial password created with mode 0600 (never overwriting a file)."""
    import csv
    import io
    import os
    from datetime import datetime

    if path is None:
        base = Path(os.environ.get("GUANJIA_DATA_DIR") or "var") / "initial-passwords"
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = str(base / f"{slug}-{datetime.now():%Y%m%dT%H%M%S}.csv")
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["login", "initial_password"])
    writer.writerows(sorted(passwords.items()))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    return Path(path)


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
