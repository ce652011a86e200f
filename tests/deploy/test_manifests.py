"""The compose file and Kubernetes manifests are parsed and checked against the real app (no Docker engine here)."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _settings_env_names() -> set[str]:
    import core.settings as settings

    return set(re.findall(r'_env\("([A-Z_]+)"', inspect.getsource(settings)))


def _cli_commands() -> set[str]:
    from core.cli import main

    return set(main.commands)


def _k8s_docs():
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        yield from (d for d in yaml.safe_load_all(path.read_text()) if d)


def test_compose_services_run_real_commands_with_env_the_app_reads():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web1", "web2", "worker", "scheduler", "migrate", "postgres", "redis"} <= set(services)
    commands, names = _cli_commands(), _settings_env_names()
    for name in ("web1", "web2", "worker", "scheduler", "migrate"):
        cmd = services[name]["command"]
        assert cmd[0] == "guanjia" and cmd[1] in commands, (name, cmd)
        env = services[name]["environment"]
        assert set(env) <= names, set(env) - names
        assert env["DATABASE_URL"].startswith("postgresql://") and env["REDIS_URL"].startswith("redis://")
    assert services["migrate"]["restart"] == "no"


def test_k8s_probes_point_at_real_routes_and_scheduler_has_one_replica():
    from core.app import create_app

    app = create_app(embedded_worker=False)
    paths = {r.path for r in app.routes}
    kinds = {}
    for doc in _k8s_docs():
        kinds.setdefault(doc["kind"], []).append(doc)
        if doc["kind"] == "Deployment":
            c = doc["spec"]["template"]["spec"]["containers"][0]
            assert c["command"][0] == "guanjia" and c["command"][1] in _cli_commands()
            assert doc["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
            for probe in ("readinessProbe", "livenessProbe"):
                if probe in c:
                    assert c[probe]["httpGet"]["path"] in paths
    assert {"Deployment", "Service", "HorizontalPodAutoscaler", "Job", "ConfigMap", "Secret"} <= set(kinds)
    sched = [d for d in kinds["Deployment"] if d["metadata"]["name"] == "guanjia-scheduler"][0]
    assert sched["spec"]["replicas"] == 1
    web = [d for d in kinds["Deployment"] if d["metadata"]["name"] == "guanjia-web"][0]
    assert web["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env_names = _settings_env_names()
    for doc in kinds["ConfigMap"] + kinds["Secret"]:
        data = doc.get("data") or doc.get("stringData")
        assert set(data) <= env_names, set(data) - env_names


def test_dockerfile_is_multistage_non_root_without_compilers_in_final_image():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.split(r"(?m)^FROM ", text)[1:]
    assert len(stages) >= 2
    final = stages[-1]
    assert "USER guanjia" in final and "build-essential" not in final and "gcc" not in final


def test_every_environment_variable_the_code_reads_is_in_the_readme_table():
    read = set()
    for folder in ("core", "plugins", "frontend"):
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r'(?:_env|environ\.get|getenv)\(\s*"([A-Z][A-Z0-9_]+)"', path.read_text(encoding="utf-8")))
    table = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert read, "no environment variables found: the pattern is stale"
    assert not read - documented, f"add these to the table in README.md: {sorted(read - documented)}"
