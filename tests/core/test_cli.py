"""The `guanjia` command: help everywhere, creating a company and a login, listing plugins."""
from __future__ import annotations

import asyncio
import json
import uuid

import click
import pytest
from click.testing import CliRunner

from core.cli import main
from tests.conftest import PASSWORD

REQUIRED = ["migrate", "serve", "worker", "scheduler", "demo", "tenant create", "user create", "plugins", "run-job",
            "calendar"]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, command in group.commands.items():
        out.append((*prefix, name))
        if isinstance(command, click.Group):
            out += _commands(command, (*prefix, name))
    return out


def test_every_required_command_exists():
    names = {" ".join(c) for c in _commands(main)}
    assert set(REQUIRED) <= names


@pytest.mark.parametrize("command", [(), *_commands(main)], ids=lambda c: " ".join(c) or "guanjia")
def test_help_of_every_command_exits_0(command):
    result = CliRunner().invoke(main, [*command, "--help"], prog_name="guanjia")
    assert result.exit_code == 0, result.output
    assert f"Usage: {' '.join(('guanjia', *command))}" in result.output
    command_obj = main
    for part in command:
        command_obj = command_obj.commands[part]
    summary = " ".join((command_obj.help or "").split("\n")[0].split())
    assert summary and summary in " ".join(result.output.split())  # each command explains itself


def test_migrate_is_idempotent_on_the_test_database():
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "database is up to date" in result.output


def test_tenant_create_and_user_create_work_against_the_database():
    from core import auth
    from core.tables import Membership, PluginState, Tenant

    slug = f"cli-{uuid.uuid4().hex[:8]}"
    runner = CliRunner()
    result = runner.invoke(main, ["tenant", "create", slug, "命令行物业", "--plugin", "dummy"])
    assert result.exit_code == 0, result.output
    assert f"company {slug} created" in result.output
    result = runner.invoke(main, ["tenant", "create", slug, "again"])
    assert result.exit_code == 1 and "already exists" in result.output and "Traceback" not in result.output

    async def check_tenant():
        tenant = await Tenant.select().where(Tenant.slug == slug).first()
        states = await PluginState.select(PluginState.plugin, PluginState.enabled).where(
            PluginState.tenant_id == tenant["id"])
        return tenant, states

    tenant, states = asyncio.run(check_tenant())
    assert tenant["name"] == "命令行物业" and states == [{"plugin": "dummy", "enabled": True}]

    login = f"{slug}-chief"
    result = runner.invoke(main, ["user", "create", login, "--name", "周总监", "--password", PASSWORD,
                                  "--tenant", slug, "--role", "company_cs"])
    assert result.exit_code == 0, result.output
    assert f"{login} is company_cs of {slug}" in result.output
    result = runner.invoke(main, ["user", "create", f"{login}-2", "--name", "x", "--password", PASSWORD,
                                  "--tenant", slug, "--role", "butler", "--project", "NOPE"])
    assert result.exit_code == 1 and "no project 'NOPE'" in result.output
    result = runner.invoke(main, ["user", "create", f"{login}-3", "--name", "x", "--password", PASSWORD,
                                  "--tenant", "no-such-company", "--role", "butler"])
    assert result.exit_code == 1 and "no company" in result.output
    result = runner.invoke(main, ["user", "create", f"{login}-4", "--name", "x", "--password", "short",
                                  "--tenant", slug, "--role", "butler"])
    assert result.exit_code == 1 and "password" in result.output

    async def check_login():
        token = await auth.login(login, PASSWORD, slug)
        members = await Membership.select(Membership.role).where(Membership.tenant_id == tenant["id"])
        return token, members

    token, members = asyncio.run(check_login())
    assert token["tenant"] == slug and token["role"] == "company_cs"
    assert members == [{"role": "company_cs"}]  # the refused ones wrote nothing


def test_plugins_json_lists_every_plugin_with_its_hooks_and_where_enabled():
    from core.plugins import get_registry

    slug = f"cli-{uuid.uuid4().hex[:8]}"
    assert CliRunner().invoke(main, ["tenant", "create", slug, "插件公司", "--plugin", "dummy"]).exit_code == 0
    result = CliRunner().invoke(main, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listed = {p["name"]: p for p in json.loads(result.output)}
    registry = get_registry()
    assert set(listed) == set(registry.metas)
    for name, meta in registry.metas.items():
        assert listed[name]["version"] == meta.version
        assert listed[name]["hooks"] == registry.hooks_of(name)
    from core import hookspecs

    specs = {n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "guanjia_spec")}
    assert specs <= set(listed["dummy"]["hooks"])
    assert slug in listed["dummy"]["enabled_for"] and listed["core"]["enabled_for"] == "everywhere"
    text = CliRunner().invoke(main, ["plugins"])
    assert text.exit_code == 0 and "dummy 1.0.0" in text.output and "hooks: " in text.output


def test_calendar_command_reports_coverage():
    result = CliRunner().invoke(main, ["calendar", "--as-of", "2026-09-30"])
    assert result.exit_code == 0, result.output
    assert "official statutory calendar data" in result.output
