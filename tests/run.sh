#!/usr/bin/env bash
# Install what the tests need (into .venv) and run them.
#   bash tests/run.sh                 # SQLite + in-process jobs
#   DATABASE_URL=postgresql://postgres@127.0.0.1:5432/guanjia REDIS_URL=redis://127.0.0.1:6379/0 bash tests/run.sh
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "installing into .venv (log: .venv/install.log)"
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[test]'; } > .venv/install.log 2>&1; then
    tail -30 .venv/install.log
    exit 1
  fi
  touch "$stamp"
fi
exec .venv/bin/python -m pytest "$@"
