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
# The example third-party plugin is installed too (its own pyproject and entry point), so tests/examples run.
stamp=.venv/.installed-$(cat pyproject.toml examples/elevator_ledger/pyproject.toml | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  echo "installing into .venv (log: .venv/install.log)"
  if ! { .venv/bin/python -m pip install --upgrade pip && .venv/bin/python -m pip install -e '.[test]' \
         && .venv/bin/python -m pip install -e examples/elevator_ledger; } > .venv/install.log 2>&1; then
    tail -30 .venv/install.log
    exit 1
  fi
  touch "$stamp"
fi
# System packages the tests use: Debian's chromium for the browser tests, a CJK font for PDFs.
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} from Debian's packages"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"; } > .venv/apt.log 2>&1 \
    || { echo "could not install ${need[*]}; tests that need them will say so"; tail -5 .venv/apt.log; }
fi
exec .venv/bin/python -m pytest "$@"
