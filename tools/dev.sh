#!/usr/bin/env bash
# One entry point for the README's two commands (and CI):
#   tools/dev.sh bench       install deps, build Release, run the load benchmark
#   tools/dev.sh test        install deps, build, run the whole test suite (ctest)
#   tools/dev.sh test-asan   the test suite under AddressSanitizer + UBSan
#   tools/dev.sh test-tsan   io, wal, api, kv and the COW/LSM conformance suite under ThreadSanitizer
#   tools/dev.sh crash [N]   the proof of durability: N SIGKILL cycles per backend
#                            (default 1000) and the full durability sweeps (power
#                            loss, faults, faults during recovery, corruption)
#   tools/dev.sh deps        only install the Debian packages
# Build trees live under build/<preset>; the benchmark's default data
# directory is build/release/bench-data.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build pkg-config git
  liburing-dev libasio-dev librocksdb-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libssl-dev libzstd-dev liblz4-dev libxxhash-dev
  clang libclang-rt-14-dev)

JOBS="${ORBIT_JOBS:-$(nproc)}"

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure_and_build() {  # <dir> <cmake args...>
  local dir="$1"; shift
  local werror=OFF
  [ "${CI:-}" = "true" ] && werror=ON
  cmake -S . -B "$dir" -G Ninja -DORBIT_WERROR="$werror" "$@" >/dev/null
  cmake --build "$dir" -j "$JOBS"
}

run_tests() {  # <dir>
  ctest --test-dir "$1" --output-on-failure -j "$JOBS" --timeout 900
}

case "${1:-}" in
  deps) install_deps ;;
  bench)
    shift
    install_deps
    configure_and_build build/release -DCMAKE_BUILD_TYPE=Release
    ./build/release/perf/load/orbit-bench --data-dir build/release/bench-data "$@"
    ;;
  test)
    install_deps
    configure_and_build build/release -DCMAKE_BUILD_TYPE=Release
    run_tests build/release
    ;;
  test-asan)
    install_deps
    # clang, because it lowers coroutine symmetric transfer to a guaranteed tail
    # call at every optimisation level; g++ 12 does so only at -O2 without
    # sanitizers, so long await chains would overflow the stack under g++ ASan.
    configure_and_build build/asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
      -DORBIT_SANITIZE="address;undefined" -DORBIT_BUILD_PERF=OFF
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run_tests build/asan
    ;;
  crash)
    shift
    cycles="${1:-1000}"
    install_deps
    configure_and_build build/release -DCMAKE_BUILD_TYPE=Release
    status=0
    echo "== SIGKILL crash suite: $cycles cycles per backend (RocksDB is the control)"
    ORBIT_CRASH_CYCLES="$cycles" ./build/release/tests/crash/orbit-crash || status=1
    echo "== power-loss, fault, recovery-fault and corruption sweeps: every file operation, every engine on io/"
    log="build/release/durability-sweep.log"
    ORBIT_SWEEP_DENSE=1000000 ORBIT_SWEEP_STRIDE=1 ./build/release/tests/durability/orbit_durability_tests \
      >"$log" 2>&1 || status=1
    grep -E '^(power-loss|fault|recovery-fault) sweep|flips:|Failure|FAILED' "$log" || true
    exit "$status"
    ;;
  test-tsan)
    # g++ (clang 14 cannot compile our coroutines under TSan). The conformance
    # suite runs on the COW and LSM engines; RocksDB is left out: Debian's
    # librocksdb is not instrumented, so TSan reports races inside it that it
    # cannot see the synchronisation of.
    install_deps
    configure_and_build build/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORBIT_SANITIZE=thread -DORBIT_BUILD_PERF=OFF
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ctest --test-dir build/tsan --output-on-failure \
      -j "$JOBS" --timeout 900 -L '^(api|io|wal|metrics|util|kv|conformance)$' -E 'RocksDb'
    ;;
  *)
    echo "usage: tools/dev.sh bench [orbit-bench flags] | test | test-asan | test-tsan | crash [cycles] | deps" >&2
    exit 2
    ;;
esac
