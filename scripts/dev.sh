#!/usr/bin/env bash
# Developer entry point for capgap.
#
#   scripts/dev.sh demo   set up, build, analyse the sample capture and print the report
#   scripts/dev.sh test   set up, build with -Werror, run ctest, pytest and the linters
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

DEB_PACKAGES=(build-essential cmake ninja-build pkg-config libpcap-dev libboost-regex-dev
    libboost-container-dev doctest-dev tshark tcpdump clang-format python3-venv python3-dev git)
PY_TEST_MODULES=(pytest numpy pandas)

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

setup_python() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        log "creating the virtual environment $VENV"
        python3 -m venv "$VENV"
    else
        log "virtual environment: $VENV"
    fi
    local missing=() mod
    for mod in "${PY_TEST_MODULES[@]}"; do
        "$VENV/bin/python" -c "import $mod" >/dev/null 2>&1 || missing+=("$mod")
    done
    if [[ ! -x "$VENV/bin/ruff" ]]; then
        # Pinned, so that the formatter's verdict does not change under the project.
        missing+=("ruff==0.17.6")
    fi
    if [[ ${#missing[@]} -eq 0 ]]; then
        log "python test tools: all present"
        return
    fi
    log "pip install ${missing[*]}"
    "$VENV/bin/python" -m pip install -q "${missing[@]}"
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
    CAPGAP_CLI="$ROOT/$BUILD_DIR/capgap" "$VENV/bin/python" -m pytest tests/python || rc=$?
    if [[ $rc -eq 5 ]]; then
        echo "pytest collected no tests: tests/python is expected to have tests" >&2
    fi
    return "$rc"
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
    mapfile -t files < <(find include src tests examples python \
        \( -name '*.cpp' -o -name '*.hpp' \) -type f 2>/dev/null | sort)
    if [[ ${#files[@]} -eq 0 ]]; then
        echo "no C++ files found" >&2
        return 1
    fi
    echo "checking ${#files[@]} files"
    clang-format --dry-run --Werror "${files[@]}"
}

cmd_test() {
    setup
    build -DCAPGAP_WERROR=ON
    step "ctest --test-dir $BUILD_DIR --output-on-failure -j $JOBS" \
        ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
    if [[ -f pyproject.toml ]]; then
        step "pip install . (the Python package, into $VENV)" \
            "$VENV/bin/python" -m pip install -q .
    fi
    step "pytest tests/python" run_pytest
    local paths=()
    mapfile -t paths < <(lint_paths)
    step "ruff check ${paths[*]}" "$VENV/bin/ruff" check "${paths[@]}"
    step "ruff format --check ${paths[*]}" "$VENV/bin/ruff" format --check "${paths[@]}"
    step "clang-format --dry-run --Werror (include src tests examples python)" run_clang_format
    if [[ ${#FAILED[@]} -gt 0 ]]; then
        log "FAILED steps: ${FAILED[*]}"
        return 1
    fi
    log "all checks passed"
}

usage() {
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
}

case "${1:-}" in
demo) cmd_demo ;;
test) cmd_test ;;
-h | --help | help) usage ;;
*)
    usage >&2
    exit 1
    ;;
esac
