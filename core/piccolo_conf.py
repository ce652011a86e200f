"""Piccolo configuration: the engine chosen by `DATABASE_URL`, and the apps of core and of every plugin."""
from __future__ import annotations

from core.db import make_engine
from core.plugins import discover_piccolo_apps
from piccolo.conf.apps import AppRegistry

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=["core.piccolo_app", *discover_piccolo_apps()])
