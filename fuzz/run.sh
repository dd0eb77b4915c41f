#!/usr/bin/env bash
# Longer fuzzing sessions outside CI (scripts/dev.sh test runs each target for 20 s only).
#
#   fuzz/run.sh build                     configure and build build-fuzz (clang, libFuzzer)
#   fuzz/run.sh run SECONDS [TARGET...]   run targets (default: all) for SECONDS each, two at a
#                                         time at nice 19; corpora and logs in $FUZZ_WORK
#   fuzz/run.sh merge [TARGET...]         minimise $FUZZ_WORK/TARGET into fuzz/corpus/TARGET
#   fuzz/run.sh repro TARGET FILE         run one input (a crash) and print the report
#
# FUZZ_WORK defaults to /tmp/capgap-fuzz; it is outside the repository on purpose, so seeds
# taken from captures that must not be committed stay out of it. Targets: decode capture csv
# tracker state report.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="${CAPGAP_FUZZ_DIR:-build-fuzz}"
WORK="${FUZZ_WORK:-/tmp/capgap-fuzz}"
ALL=(decode capture csv tracker state report)
OPTS=(-rss_limit_mb=2048 -timeout=10 -max_len=16384 -print_final_stats=1)

build() {
    CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCAPGAP_FUZZ=ON -DCAPGAP_BUILD_TESTS=OFF -DCAPGAP_BUILD_EXAMPLES=OFF \
        -DCAPGAP_BUILD_CLI=OFF -DCAPGAP_INSTALL=OFF
    cmake --build "$BUILD" -j "$(nproc 2>/dev/null || echo 2)"
}

run_one() {
    local t="$1" seconds="$2"
    mkdir -p "$WORK/$t" "$WORK/artifacts"
    echo "fuzz_$t: ${seconds}s, log $WORK/$t.log"
    nice -n 19 "$BUILD/fuzz/fuzz_$t" -max_total_time="$seconds" "${OPTS[@]}" \
        -artifact_prefix="$WORK/artifacts/$t-" "$WORK/$t" "fuzz/corpus/$t" >"$WORK/$t.log" 2>&1 ||
        echo "fuzz_$t stopped with a finding: see $WORK/$t.log and $WORK/artifacts"
}

cmd_run() {
    local seconds="${1:?SECONDS}"
    shift
    local targets=("$@")
    [[ ${#targets[@]} -gt 0 ]] || targets=("${ALL[@]}")
    local i
    for ((i = 0; i < ${#targets[@]}; i += 2)); do
        run_one "${targets[i]}" "$seconds" &
        if [[ $((i + 1)) -lt ${#targets[@]} ]]; then
            run_one "${targets[i + 1]}" "$seconds" &
        fi
        wait
    done
}

cmd_merge() {
    local targets=("$@") t
    [[ ${#targets[@]} -gt 0 ]] || targets=("${ALL[@]}")
    for t in "${targets[@]}"; do
        local fresh="$WORK/merge-$t"
        rm -rf "$fresh"
        mkdir -p "$fresh"
        "$BUILD/fuzz/fuzz_$t" -merge=1 -use_counters=0 "${OPTS[@]}" "$fresh" "fuzz/corpus/$t" \
            "$WORK/$t"
        rm -rf "fuzz/corpus/$t"
        mv "$fresh" "fuzz/corpus/$t"
        echo "fuzz/corpus/$t: $(find "fuzz/corpus/$t" -type f | wc -l) files, $(du -sh "fuzz/corpus/$t" | cut -f1)"
    done
}

case "${1:-}" in
build) build ;;
run)
    shift
    cmd_run "$@"
    ;;
merge)
    shift
    cmd_merge "$@"
    ;;
repro)
    "$BUILD/fuzz/fuzz_${2:?TARGET}" "${3:?FILE}"
    ;;
*)
    sed -n '2,12p' "$ROOT/fuzz/run.sh" | sed 's/^# \{0,1\}//' >&2
    exit 1
    ;;
esac
