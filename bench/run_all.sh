#!/usr/bin/env bash
# Run every benchmark in bench/ one after another against PostgreSQL + Redis on this machine, then print
# their tables. Benchmarks are not tests: each drops and rebuilds its own database.
#
#   bench/run_all.sh                      # all benchmarks present
#   bench/run_all.sh api_bench sla_sweep  # only these
#
# Any other bench/NAME.py runs on a fresh database: DATABASE_URL=$BENCH_PG/guanjia_bench_NAME, and REDIS_URL.
# Environment: BENCH_PG (server, default postgresql://postgres@127.0.0.1:5432), REDIS_URL
# (default redis://127.0.0.1:6379/0), PYTHON (default .venv/bin/python).
set -uo pipefail
cd "$(dirname "$0")/.."
PG="${BENCH_PG:-postgresql://postgres@127.0.0.1:5432}"
REDIS="${REDIS_URL:-redis://127.0.0.1:6379/0}"
PY="${PYTHON:-.venv/bin/python}"
# what the benchmarks need: the project's virtualenv (made by the test command) and wrk
if [ ! -x "$PY" ]; then
  bash tests/run.sh --collect-only -q >/dev/null || { echo "could not install the virtualenv"; exit 1; }
fi
if ! command -v wrk >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; } >/dev/null 2>&1 || echo "could not install wrk"
fi
mkdir -p bench/results
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then  # the known ones first, then any other benchmark script in bench/
  wanted=(sla_sweep arrears_ladder api_bench app_cpu)
  for f in bench/*.py; do
    n="$(basename "$f" .py)"
    [[ " ${wanted[*]} " == *" $n "* ]] || wanted+=("$n")
  done
fi
declare -A status

run() {  # name, then the command
  local name="$1"; shift
  [ -f "bench/$name.py" ] || { echo "== $name: bench/$name.py not present, skipped"; status[$name]="absent"; return; }
  local log="bench/results/run_all-$stamp-$name.log"
  echo "== $name  ($(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1 /proc/loadavg)) → $log"
  "$@" 2>&1 | tee "$log"
  status[$name]="exit ${PIPESTATUS[0]}"
}

for name in "${wanted[@]}"; do
  case "$name" in
    sla_sweep) run sla_sweep env DATABASE_URL="$PG/guanjia_bench" "$PY" bench/sla_sweep.py ;;
    arrears_ladder) run arrears_ladder env BENCH_ADMIN_URL="$PG/postgres" "$PY" bench/arrears_ladder.py ;;
    api_bench) run api_bench env DATABASE_URL="$PG/guanjia_bench_api" REDIS_URL="$REDIS" "$PY" bench/api_bench.py ;;
    app_cpu) run app_cpu env DATABASE_URL="$PG/guanjia_bench_api" REDIS_URL="$REDIS" "$PY" bench/app_cpu.py ;;  # api_bench's database
    *) [ -f "bench/$name.py" ] && "$PY" -c "import asyncio, asyncpg, sys
async def main(url, name):
    conn = await asyncpg.connect(url)
    await conn.execute(f'DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)')
    await conn.execute(f'CREATE DATABASE \"{name}\"')
    await conn.close()
asyncio.run(main(sys.argv[1], sys.argv[2]))" "$PG/postgres" "guanjia_bench_$name"  # a fresh database of its own
       run "$name" env DATABASE_URL="$PG/guanjia_bench_$name" REDIS_URL="$REDIS" "$PY" "bench/$name.py" ;;
  esac
done

echo
echo "================ summary ($stamp; the machine's other work makes figures noisy: compare ratios to the ceilings) ================"
for name in "${wanted[@]}"; do
  echo
  echo "## $name: ${status[$name]}"
  log="bench/results/run_all-$stamp-$name.log"
  [ -f "$log" ] && grep -E '^\||^RESULT|ms of this process|: [0-9.]+ s |^Workers:|^Tickets in|^Errors:|^sweep|^ceilings|^escalation' "$log"
done
