#!/usr/bin/env bash
# Developer entry point for capgap.
#
#   scripts/dev.sh demo   set up, build, analyse the sample capture and print the report
#   scripts/dev.sh test   set up, build with -Werror, run ctest, the stub check, pytest and
#                         the linters, then the sanitizer checks below
#   scripts/dev.sh sanitize   only the sanitizer checks: the C++ tests built with ASan+UBSan
#                         (build-asan), and each libFuzzer target (build-fuzz, clang) run for
#                         CAPGAP_FUZZ_SECONDS (default 20) on its corpus in fuzz/corpus
#
# Set-up is idempotent: Debian packages are installed only when missing (apt-get update only
# then), the Python virtual environment (.venv) is created once and test tools are installed
# into it only when missing. Every step prints what it does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD_DIR="${CAPGAP_BUILD_DIR:-build}"
VENV="$ROOT/.venv"
JOBS="$(nproc 2>/dev/null || echo 2)"
SAMPLE="examples/data/sample.pcap"
ASAN_DIR="${CAPGAP_ASAN_DIR:-build-asan}"
FUZZ_DIR="${CAPGAP_FUZZ_DIR:-build-fuzz}"
FUZZ_SECONDS="${CAPGAP_FUZZ_SECONDS:-20}"
FUZZ_TARGETS=(decode capture csv tracker state report)

# zlib1g-dev, libzstd-dev, liblz4-dev: compressed captures; gzip, zstd, lz4: the tests and the
# benchmark compress captures with the command-line tools. libjs-chart.js: Chart.js, which the
# build inlines into the HTML report; chromium: the test that opens that report in a real
# (headless) browser. nftables, ethtool: the software SPAN port of the diagnosis tests
# (tests/tools/span.py: netdev dup/limit, offloads off). libcpp-httplib-dev: the HTTP
# endpoint of `capgap live --metrics-listen`. tcpreplay: the live benchmark
# (tests/bench/live_bench.py) replays frames onto the mirror interface at set packet rates.
DEB_PACKAGES=(build-essential cmake ninja-build pkg-config libpcap-dev libboost-regex-dev
    libboost-container-dev nlohmann-json3-dev doctest-dev tshark tcpdump clang-format
    python3-venv python3-dev git clang libclang-rt-14-dev zlib1g-dev libzstd-dev liblz4-dev
    gzip zstd lz4 libjs-chart.js chromium nftables ethtool libcpp-httplib-dev tcpreplay)
# matplotlib, pyarrow: the plot and to_arrow() tests run in the test command, never skipped for
# want of them; tqdm: the progress bar of analyze(progress=True), the optional extra
# `capgap[progress]`. dask, distributed: capgap.dask and its LocalCluster test
# (tests/python/test_dask.py), the optional extra `capgap[dask]`. prometheus_client: its text
# parser reads what `capgap live` serves at /metrics and writes to --metrics-file
# (tests/python/test_live_metrics.py).
PY_TEST_MODULES=(pytest numpy pandas matplotlib pyarrow tqdm dask distributed prometheus_client)
# pyproject.toml's [build-system] requires, installed into the venv so that `pip install
# --no-build-isolation .` reuses build-py/ (see install_package). Keep the two in step.
PY_BUILD_REQUIRES=("scikit-build-core>=0.10" "pybind11>=2.12")
# The stub check (mypy's stubtest), pinned like ruff: its verdict must not change under the
# project. STUBTEST_ALLOWLIST lists what stubtest cannot judge, each entry with its reason.
MYPY_PIN="mypy==2.4.1"
STUBTEST_ALLOWLIST="python/stubtest_allowlist.txt"

log() { echo "==> $*"; }
die() {
    echo "error: $*" >&2
    exit 1
}

# A package whose tool is already on PATH (cmake or ninja from pip, say) is not needed.
tool_of() {
    case "$1" in
    cmake) echo cmake ;;
    ninja-build) echo ninja ;;
    pkg-config) echo pkg-config ;;
    tshark) echo tshark ;;
    tcpdump) echo tcpdump ;;
    clang-format) echo clang-format ;;
    git) echo git ;;
    chromium) echo chromium ;;
    nftables) echo nft ;;
    ethtool) echo ethtool ;;
    tcpreplay) echo tcpreplay ;;
    *) echo "" ;;
    esac
}

setup_system() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        log "not a Debian system: skipping package installation (need: ${DEB_PACKAGES[*]})"
        return
    fi
    local missing=() pkg tool
    for pkg in "${DEB_PACKAGES[@]}"; do
        tool="$(tool_of "$pkg")"
        if [[ -n "$tool" ]] && command -v "$tool" >/dev/null 2>&1; then
            continue
        fi
        if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            continue
        fi
        missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "system packages: all present"
        return
    fi
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}) and not root"
        sudo=(sudo)
    fi
    log "installing system packages: ${missing[*]}"
    # tshark's package asks whether non-root users may capture; answer no, without a prompt.
    log "preseeding wireshark-common/install-setuid=false"
    echo "wireshark-common wireshark-common/install-setuid boolean false" |
        "${sudo[@]}" debconf-set-selections
    log "apt-get update"
    "${sudo[@]}" apt-get update -q
    log "apt-get install ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# What pip installs for a module of PY_TEST_MODULES. dask and distributed are released in
# step: unpinned, pip may pair the newest dask with an old distributed that cannot import it.
pip_spec_of() {
    case "$1" in
    dask) echo "dask[dataframe]>=2024.8" ;;
    distributed) echo "distributed>=2024.8" ;;
    *) echo "$1" ;;
    esac
}

setup_python() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating the virtual environment $VENV"
        python3 -m venv "$VENV"
    else
        log "virtual environment: $VENV"
    fi
    local missing=() mod
    for mod in "${PY_TEST_MODULES[@]}"; do
        "$VENV/bin/python" -c "import $mod" >/dev/null 2>&1 || missing+=("$(pip_spec_of "$mod")")
    done
    if [[ ! -x "$VENV/bin/ruff" ]]; then
        # Pinned, so that the formatter's verdict does not change under the project.
        missing+=("ruff==0.17.6")
    fi
    if [[ ! -x "$VENV/bin/stubtest" ]]; then
        missing+=("$MYPY_PIN")
    fi
    "$VENV/bin/python" -c "import scikit_build_core, pybind11" >/dev/null 2>&1 ||
        missing+=("${PY_BUILD_REQUIRES[@]}")
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "python test tools: all present"
        return
    fi
    log "pip install ${missing[*]}"
    "$VENV/bin/python" -m pip install -q "${missing[@]}"
}

# Without build isolation the build runs with the venv's scikit-build-core and pybind11: no
# temporary build environment to set up, so an unchanged tree installs in seconds. (A plain
# `pip install .` reuses build-py/ too, see python/pep517_backend/capgap_build.py, but installs
# the build requirements into a new temporary environment first.)
install_package() {
    "$VENV/bin/python" -m pip install -q --no-build-isolation .
}

setup() {
    setup_system
    setup_python
}

build() {
    log "cmake -S . -B $BUILD_DIR -G Ninja -DCMAKE_BUILD_TYPE=Release $*"
    if [[ -f "$BUILD_DIR/CMakeCache.txt" ]] &&
        ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD_DIR/CMakeCache.txt"; then
        die "$BUILD_DIR was configured with another generator: remove it or set CAPGAP_BUILD_DIR"
    fi
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
    log "cmake --build $BUILD_DIR -j $JOBS"
    cmake --build "$BUILD_DIR" -j "$JOBS"
}

cmd_demo() {
    setup
    build
    log "$BUILD_DIR/capgap analyze $SAMPLE"
    "$BUILD_DIR/capgap" analyze "$SAMPLE"
}

FAILED=()
step() {
    local name="$1"
    shift
    log "$name"
    if "$@"; then
        return 0
    fi
    echo "FAILED: $name" >&2
    FAILED+=("$name")
}

run_pytest() {
    local rc=0
    # CAPGAP_REQUIRE_OPTIONAL: set-up installed pandas and matplotlib, so a test skipped for
    # want of one fails (tests/python/conftest.py).
    CAPGAP_CLI="$ROOT/$BUILD_DIR/capgap" CAPGAP_REQUIRE_OPTIONAL=1 \
        "$VENV/bin/python" -m pytest tests/python || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "pytest collected no tests: tests/python is expected to have tests" >&2
    fi
    return "$rc"
}

# The stub shipped with the package against the module pip built: every function, class,
# attribute and property the stub declares must exist at run time, and every public name of the
# module must be in the stub (pybind11 functions carry no signature stubtest can read, so their
# parameters are not compared). MYPYPATH points mypy at the source tree's stub; the module is
# imported from the virtual environment.
run_stubtest() {
    MYPYPATH="$ROOT/python" "$VENV/bin/python" -m mypy.stubtest capgap._core \
        --allowlist "$STUBTEST_ALLOWLIST"
}

lint_paths() {
    local p
    for p in python tests scripts; do
        [[ -e "$p" ]] && echo "$p"
    done
    return 0
}

run_clang_format() {
    local files=()
    mapfile -t files < <(find include src tests examples python fuzz \
        \( -name '*.cpp' -o -name '*.hpp' \) -type f 2>/dev/null | sort)
    if [[ ${#files[@]} -eq 0 ]]; then
        echo "no C++ files found" >&2
        return 1
    fi
    echo "checking ${#files[@]} files"
    clang-format --dry-run --Werror "${files[@]}"
}

# Configures and builds one directory with Ninja: configure_and_build DIR CMAKE_ARGS...
configure_and_build() {
    local dir="$1"
    shift
    if [[ -f "$dir/CMakeCache.txt" ]] &&
        ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$dir/CMakeCache.txt"; then
        echo "$dir was configured with another generator: remove it" >&2
        return 1
    fi
    log "cmake -S . -B $dir -G Ninja $*"
    cmake -S . -B "$dir" -G Ninja "$@" || return 1
    log "cmake --build $dir -j $JOBS"
    cmake --build "$dir" -j "$JOBS"
}

# The library, the CLI and every C++ test built with AddressSanitizer and UBSan, then ctest.
# The find_package consumer is left out: the installed package does not carry the sanitizer
# flags its consumer would need.
run_asan_tests() {
    configure_and_build "$ASAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAPGAP_SANITIZE=ON \
        -DCAPGAP_BUILD_TESTS=ON -DCAPGAP_BUILD_EXAMPLES=OFF || return 1
    log "ctest --test-dir $ASAN_DIR -E find_package_consumer (ASan+UBSan)"
    ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
        ctest --test-dir "$ASAN_DIR" --output-on-failure -j "$JOBS" -E find_package_consumer
}

# Each libFuzzer target for FUZZ_SECONDS on its committed corpus. New inputs go to a scratch
# corpus under the build directory (fuzz/corpus is never written); a crash is kept in
# $FUZZ_DIR/artifacts and fails the step.
run_fuzz_smoke() {
    CC=clang CXX=clang++ configure_and_build "$FUZZ_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCAPGAP_FUZZ=ON -DCAPGAP_BUILD_TESTS=OFF -DCAPGAP_BUILD_EXAMPLES=OFF \
        -DCAPGAP_BUILD_CLI=OFF -DCAPGAP_INSTALL=OFF || return 1
    local t rc=0 scratch="$FUZZ_DIR/corpus-run" artifacts="$FUZZ_DIR/artifacts"
    mkdir -p "$artifacts"
    for t in "${FUZZ_TARGETS[@]}"; do
        mkdir -p "$scratch/$t"
        log "fuzz_$t for ${FUZZ_SECONDS}s on fuzz/corpus/$t"
        if ! "$FUZZ_DIR/fuzz/fuzz_$t" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 \
            -timeout=10 -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/$t-" \
            "$scratch/$t" "fuzz/corpus/$t" >"$FUZZ_DIR/fuzz_$t.log" 2>&1; then
            tail -n 60 "$FUZZ_DIR/fuzz_$t.log" >&2
            echo "fuzz_$t failed: reproduce with $FUZZ_DIR/fuzz/fuzz_$t $artifacts/$t-*" >&2
            rc=1
        else
            grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units)' "$FUZZ_DIR/fuzz_$t.log" || true
        fi
    done
    return "$rc"
}

sanitize_steps() {
    step "C++ tests under ASan+UBSan ($ASAN_DIR)" run_asan_tests
    step "fuzz targets, ${FUZZ_SECONDS}s each ($FUZZ_DIR)" run_fuzz_smoke
}

cmd_sanitize() {
    setup_system
    sanitize_steps
    if [[ ${#FAILED[@]} -gt 0 ]]; then
        log "FAILED steps: ${FAILED[*]}"
        return 1
    fi
    log "sanitizer checks passed"
}

cmd_test() {
    setup
    build -DCAPGAP_WERROR=ON
    step "ctest --test-dir $BUILD_DIR --output-on-failure -j $JOBS" \
        ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
    if [[ -f pyproject.toml ]]; then
        step "pip install --no-build-isolation . (the Python package, into $VENV)" \
            install_package
    fi
    step "stubtest capgap._core (python/capgap/_core.pyi against the installed module)" \
        run_stubtest
    step "pytest tests/python" run_pytest
    local paths=()
    mapfile -t paths < <(lint_paths)
    step "ruff check ${paths[*]}" "$VENV/bin/ruff" check "${paths[@]}"
    step "ruff format --check ${paths[*]}" "$VENV/bin/ruff" format --check "${paths[@]}"
    step "clang-format --dry-run --Werror (include src tests examples python fuzz)" run_clang_format
    sanitize_steps
    if [[ ${#FAILED[@]} -gt 0 ]]; then
        log "FAILED steps: ${FAILED[*]}"
        return 1
    fi
    log "all checks passed"
}

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
demo) cmd_demo ;;
test) cmd_test ;;
sanitize) cmd_sanitize ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 1
    ;;
esac
