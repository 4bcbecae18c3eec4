#!/usr/bin/env bash
# Export/import throughput and peak memory of orbit-cli at two store sizes,
# to show memory stays flat as the store grows. Usage:
#   tools/orbit-cli/perf.sh [orbit-cli binary] [work dir] [sizes...]
# Defaults: build/release/tools/orbit-cli/orbit-cli, /tmp/orbit-cli-perf, 100000 1000000.
# Generates the leases with python3 (JSON Lines), imports them (JSON), then
# times export and import in both formats with /usr/bin/time -v.
set -euo pipefail
cli=${1:-build/release/tools/orbit-cli/orbit-cli}
work=${2:-/tmp/orbit-cli-perf}
shift $(( $# > 2 ? 2 : $# )) || true
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100000 1000000)
backend=${ORBIT_PERF_BACKEND:-rocksdb}
mkdir -p "$work"

measure() {  # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" 2> "$work/time.txt" >/dev/null || { cat "$work/time.txt"; exit 1; }
  local wall rss
  wall=$(grep 'Elapsed (wall clock)' "$work/time.txt" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$work/time.txt" | awk '{print $NF}')
  printf '%-28s wall %8s  peak RSS %6d MB\n' "$label" "$wall" $((rss / 1024))
}

for n in "${sizes[@]}"; do
  python3 - "$n" > "$work/gen-$n.json" <<'PY'
import sys, json
n = int(sys.argv[1])
w = sys.stdout.write
w('{"format":"orbit-leases","version":1,"source_backend":"generated","count":%d}\n' % n)
for i in range(n):
    w('{"actor_type":"Type%d","actor_id":"%08x-0000-4000-8000-%012x","node_id":"node-%d","expires_at":%d,'
      '"lease_duration_ms":30000,"version":%d,"created_at":1700000000000000000,"last_renewed":1700000000000000000,'
      '"renewal_count":%d,"custom_data":"{\\"seq\\":%d}"}\n'
      % (i % 16, i, i * 2654435761 % (1 << 48), i % 64, 1700000030000000000 + i * 1000, 1 + i % 7, i % 5, i))
w('{"end":true,"count":%d}\n' % n)
PY
  rm -rf "$work/src-$n" "$work/dst-json-$n" "$work/dst-bin-$n"
  echo "== $n leases ($(du -h "$work/gen-$n.json" | cut -f1) of JSON), backend $backend"
  measure "import json (fresh store)" "$cli" import --backend="$backend" --data-dir="$work/src-$n" --input="$work/gen-$n.json"
  measure "export json" "$cli" export --backend="$backend" --data-dir="$work/src-$n" --output="$work/out-$n.json"
  measure "export binary" "$cli" export --backend="$backend" --data-dir="$work/src-$n" --format=binary --output="$work/out-$n.bin"
  # The same exports with the stores' block caches off: what orbit-cli itself holds.
  ORBIT_ROCKSDB_BLOCK_CACHE_MB=0 ORBIT_LSM_BLOCK_CACHE_MB=0 \
    measure "export json, no block cache" "$cli" export --backend="$backend" --data-dir="$work/src-$n" --output="$work/out-$n.json"
  ORBIT_ROCKSDB_BLOCK_CACHE_MB=0 ORBIT_LSM_BLOCK_CACHE_MB=0 \
    measure "export bin, no block cache" "$cli" export --backend="$backend" --data-dir="$work/src-$n" --format=binary --output="$work/out-$n.bin"
  measure "import json" "$cli" import --backend="$backend" --data-dir="$work/dst-json-$n" --input="$work/out-$n.json"
  measure "import binary" "$cli" import --backend="$backend" --data-dir="$work/dst-bin-$n" --input="$work/out-$n.bin"
  measure "validate" "$cli" validate --backend="$backend" --data-dir="$work/dst-bin-$n"
  ls -l "$work/out-$n.json" "$work/out-$n.bin" | awk '{printf "  %s %d MB\n", $NF, $5/1048576}'
  rm -rf "$work/src-$n" "$work/dst-json-$n" "$work/dst-bin-$n" "$work/out-$n.json" "$work/out-$n.bin" "$work/gen-$n.json"
done
