# tests/golden/lib.sh — shared helpers for the golden scripts (sourced, not run).
# Sets BUILD, RRM, MKMODEL, NODE_REF, a temp dir $T removed on exit, and check/summary helpers
# that end with "NAME: N passed, N failed" and a non-zero exit on any failure.
BUILD=${BUILD:-build}
RRM=$BUILD/bin/rrm
MKMODEL=$BUILD/bin/mkmodel
NODE_REF=tests/reference
SHARED=${RRM_SHARED:-../shared}
T=$(mktemp -d "${TMPDIR:-/tmp}/rrm-golden.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
g_pass=0
g_fail=0
# check DESCRIPTION COMMAND...: runs the command, counts it, prints its output on failure.
check() {
    desc=$1
    shift
    if out=$("$@" 2>&1); then
        g_pass=$((g_pass + 1))
        [ -n "${RRM_GOLDEN_VERBOSE:-}" ] && echo "ok   $desc: $out"
        case "$out" in PASS*) echo "$out" ;; esac
    else
        g_fail=$((g_fail + 1))
        echo "FAIL $desc"
        echo "$out" | tail -n 20
    fi
    return 0
}
# expect_fail DESCRIPTION COMMAND...: a negative control that must fail.
expect_fail() {
    desc=$1
    shift
    if "$@" >/dev/null 2>&1; then
        g_fail=$((g_fail + 1))
        echo "FAIL (negative control passed) $desc"
    else
        g_pass=$((g_pass + 1))
    fi
}
summary() {
    echo "$1: $g_pass passed, $g_fail failed"
    [ "$g_fail" -eq 0 ]
}
# random_ids SEED N: N token ids in [0, 151643) from a fixed LCG, space-separated.
random_ids() {
    awk -v seed="$1" -v n="$2" 'BEGIN { s = seed; for (i = 0; i < n; i++) {
        s = (s * 1103515245 + 12345) % 2147483648; printf "%s%d", (i ? " " : ""), s % 151643 } }'
}
require_node() {
    if [ ! -d "$NODE_REF/node_modules/node-llama-cpp" ]; then
        echo "golden: $NODE_REF/node_modules missing: run tools/setup.sh"
        echo "$1: 0 passed, 1 failed"
        exit 1
    fi
}
