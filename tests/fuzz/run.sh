#!/bin/sh
# tests/fuzz/run.sh — builds every tests/fuzz/fuzz_*.c as a libFuzzer target (clang, ASan+UBSan)
# against the project's libraries and runs each for FUZZ_SECONDS, starting from the seed corpus
# tests/fuzz/corpus/<name>/ when present. A crash, leak or sanitizer report fails the run.
set -eu
BUILD=${BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-20}
CFLAGS="-fsanitize=fuzzer-no-link" make -s -j2 MODE=asan BUILD="$BUILD" CC=clang libs
libs=$(cat "$BUILD/lib/order.txt")
mkdir -p "$BUILD/fuzz"
pass=0
fail=0
for src in tests/fuzz/fuzz_*.c; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .c)
    bin=$BUILD/fuzz/$name
    clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -D_POSIX_C_SOURCE=200809L -DRRM_DEBUG -Iinclude -Isrc "$src" $libs \
        -ljansson -lpcre2-8 -lutf8proc -lm -pthread -o "$bin"
    work=$BUILD/fuzz/corpus-$name
    mkdir -p "$work"
    seeds=""
    [ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
    if "$bin" -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=0 \
        "$work" $seeds >"$BUILD/fuzz/$name.log" 2>&1; then
        pass=$((pass + 1))
        echo "fuzz $name: ok ($(grep -c . "$BUILD/fuzz/$name.log") log lines, ${SECS}s)"
    else
        fail=$((fail + 1))
        echo "fuzz $name: FAILED"
        tail -n 40 "$BUILD/fuzz/$name.log"
    fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
