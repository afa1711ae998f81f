#!/usr/bin/env bash
# Load engine benchmark against its peer, measured in the same run (not a timed unit test):
#   1. throughput: nginx (one worker, pinned to one core) serves a small static response;
#      wrk and `kgate load` (each pinned to another core, one thread, same connections and
#      duration) drive it; prints requests/s of both and the kgate/wrk ratio, and peak RSS.
#   2. memory: kgate holding 10,000 open connections (closed model, 10,000 VUs) – peak RSS.
#   3. accuracy: the open model at 20,000 rps – achieved rate vs the target.
# Installs nginx-light and wrk from Debian when missing. Usage: scripts/bench-load.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
KGATE="$BUILD/core/kgate"
DURATION="${BENCH_DURATION:-10}"
CONNS="${BENCH_CONNECTIONS:-64}"
[ -x "$KGATE" ] || { echo "bench: $KGATE not built (ninja -C $BUILD kgate)"; exit 2; }
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
CORES=$(nproc)
SERVER_CPU=$((CORES > 1 ? 1 : 0))
CLIENT_CPU=0

work="$(mktemp -d "${TMPDIR:-/tmp}/kgate-bench.XXXXXX")"
cleanup() { [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT INT TERM
port=$((20000 + RANDOM % 20000))
mkdir -p "$work/html" "$work/tmp"
printf 'ok\n' > "$work/html/index.html"
chmod -R a+rX "$work"  # nginx's worker runs as another user when started by root
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile 30000;
pid $work/nginx.pid;
error_log $work/error.log warn;
daemon on;
events { worker_connections 25000; multi_accept on; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server { listen 127.0.0.1:$port backlog=20000; root $work/html; location / { } }
}
CONF
taskset -c "$SERVER_CPU" "$NGINX" -c "$work/nginx.conf" -p "$work" 2>/dev/null
for _ in $(seq 50); do [ -s "$work/nginx.pid" ] && break; sleep 0.1; done
URL="http://127.0.0.1:$port/index.html"
ulimit -n 30000 2>/dev/null || true

rss_of() { awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$1"; }

ONLY="${BENCH_ONLY:-123}"  # which parts to run, e.g. BENCH_ONLY=3
if [[ "$ONLY" == *1* ]]; then
ROUNDS="${BENCH_ROUNDS:-2}"
echo "== 1. throughput: $CONNS connections, ${DURATION}s, one thread each, client on CPU $CLIENT_CPU, nginx on CPU $SERVER_CPU, $ROUNDS rounds (order alternates)"
run_wrk() {
  /usr/bin/time -v -o "$work/wrk.time" taskset -c "$CLIENT_CPU" \
    wrk -t1 -c"$CONNS" -d"${DURATION}s" "$URL" > "$work/wrk.out"
  if grep -q "Non-2xx" "$work/wrk.out"; then echo "bench: nginx answered errors"; cat "$work/wrk.out"; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$work/wrk.out"
}
run_kgate() {
  /usr/bin/time -v -o "$work/kgate.time" taskset -c "$CLIENT_CPU" \
    "$KGATE" load "$URL" --vus "$CONNS" --threads 1 --duration "${DURATION}s" \
    --out "$work/kgate.json" > "$work/kgate.out" 2>/dev/null
  python3 -c "import json,sys; r=json.load(open('$work/kgate.json')); sys.exit('bench: errors') if r['failed'] else print(round(r['rps'],1))"
}
cpu_of() { awk -F: '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$1"; }
sum_w=0; sum_k=0; cpu_w=0; cpu_k=0
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then
    w=$(run_wrk); cw=$(cpu_of "$work/wrk.time"); k=$(run_kgate); ck=$(cpu_of "$work/kgate.time")
  else
    k=$(run_kgate); ck=$(cpu_of "$work/kgate.time"); w=$(run_wrk); cw=$(cpu_of "$work/wrk.time")
  fi
  echo "round $round: wrk $w req/s (CPU ${cw}s), kgate $k req/s (CPU ${ck}s), ratio $(python3 -c "print(round($k/$w,3))")"
  sum_w=$(python3 -c "print($sum_w+$w)"); sum_k=$(python3 -c "print($sum_k+$k)")
  cpu_w=$(python3 -c "print($cpu_w+$cw)"); cpu_k=$(python3 -c "print($cpu_k+$ck)")
done
echo "peak RSS: wrk $(rss_of "$work/wrk.time") KiB, kgate $(rss_of "$work/kgate.time") KiB"
echo "ratio kgate/wrk = $(python3 -c "print(round($sum_k/$sum_w,3))")  (requests/s over all rounds; goal >= 1.0)"
# When nginx's one core is the ceiling both clients idle part of the time; requests per client
# CPU-second is then the figure that compares the generators themselves.
python3 -c "w=$sum_w/$cpu_w; k=$sum_k/$cpu_k; print(f'per client CPU-second: wrk {w*$DURATION:.0f}, kgate {k*$DURATION:.0f}, ratio {k/w:.3f}')"
fi
if [[ "$ONLY" == *2* ]]; then
echo "== 2. memory: 10,000 open connections (closed model, 10,000 VUs, think 1s)"
/usr/bin/time -v -o "$work/k10k.time" taskset -c "$CLIENT_CPU" \
  "$KGATE" load "$URL" --vus 10000 --think 1s --threads 1 --duration 8s \
  --connect-timeout 10s --out "$work/k10k.json" > /dev/null 2>&1 || true
peak=$(python3 -c "import json;print(json.load(open('$work/k10k.json'))['connections']['peak'])")
echo "peak open connections $peak, peak RSS $(rss_of "$work/k10k.time") KiB  (goal <= 65536 KiB)"

fi
if [[ "$ONLY" == *3* ]]; then
echo "== 3. open-model accuracy: 20,000 rps for ${DURATION}s"
taskset -c "$CLIENT_CPU" "$KGATE" load "$URL" --rate 20000 --connections 256 --threads 1 \
  --duration "${DURATION}s" --out "$work/k20k.json" > /dev/null 2>&1 || true
python3 - "$work/k20k.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
achieved = r["completed"] / r["duration_s"]
print(f"target 20000 rps, achieved {achieved:.1f} rps ({(achieved/20000-1)*100:+.2f}%), "
      f"dropped {r['dropped']}, failed {r['failed']} {r['errors'] or ''} "
      f"statuses {r['status_codes']}  (goal within 1%)")
PY
fi
