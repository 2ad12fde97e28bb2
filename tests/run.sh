#!/bin/sh
# tests/run.sh — runs every test binary and golden script, sums their "N passed, N failed" lines
# and ends with one such line; exits non-zero if anything failed or crashed.
#   BUILD=build (default) | build-asan      which build to test
#   RRM_TEST_ONLY=unit|golden|threads       run a subset
#   RRM_TEST_REDUCED=1                      smaller golden matrices (sanitizer runs)
BUILD=${BUILD:-build}
ONLY=${RRM_TEST_ONLY:-all}
export BUILD
pass=0; fail=0; broken=""
log=$(mktemp)
run_one() { # name, command...
    name=$1; shift
    start=$(date +%s)
    "$@" >"$log" 2>&1
    rc=$?
    line=$(grep -E '^[A-Za-z0-9_./-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed.*/\2/p')
    [ -n "$p" ] || p=0
    [ -n "$f" ] || f=0
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f))
    end=$(date +%s)
    if [ $rc -ne 0 ] || [ "$f" -ne 0 ]; then
        broken="$broken $name"
        echo "---- $name (exit $rc) ----"; tail -n 40 "$log"
    fi
    echo "$name: $p passed, $f failed ($((end - start)) s)"
}
if [ "$ONLY" = all ] || [ "$ONLY" = unit ] || [ "$ONLY" = threads ]; then
    for t in $(find "$BUILD/test" -type f -name 'test_*' | sort); do
        case "$ONLY" in threads) case "$t" in *determinism*|*test_core*|*test_model*) ;; *) continue;; esac;; esac
        run_one "$(basename "$t")" "$t"
    done
fi
if [ "$ONLY" = all ] || [ "$ONLY" = golden ]; then
    for g in tests/golden/*.sh; do
        [ -f "$g" ] || continue
        [ "$(basename "$g")" = lib.sh ] && continue # sourced helpers, not a test
        run_one "$(basename "$g")" sh "$g"
    done
fi
rm -f "$log"
[ -z "$broken" ] || echo "failing:$broken"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
