#!/usr/bin/env bash
# Runs each cmocka test binary given, then prints one summary line over all of them.
set -u
passed=0 failed=0 broken=""
for t in "$@"; do
    out=$("$t" 2>&1)
    rc=$?
    # Skips say so, and why (a test that needs a file only some machines have).
    printf '%s\n' "$out" | grep -E '^\[  (PASSED|FAILED)  \]|^\[  ERROR   \]|^\[  SKIPPED \]|^skipped:' |
        sed "s|^|$(basename "$t"): |"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | head -1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ $rc -ne 0 ]; then
        [ -z "$f" ] && failed=$((failed + 1))
        broken="$broken $(basename "$t")"
        printf '%s\n' "$out" | grep -E '^\[  (FAILED|ERROR)|error|Error' | head -20
    fi
done
echo "unit tests: $passed passed, $failed failed"
[ -z "$broken" ] || { echo "failing:$broken"; exit 1; }
