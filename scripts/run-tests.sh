#!/usr/bin/env bash
# Runs the built tests and, when any fail, repeats the failing lines at the very end:
# CI keeps only the tail of the log, and a failure in the middle would be invisible.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
log=.build/test-output.log
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo "---- failures (repeated from above) ----"
    grep -E "✘|recorded an issue|error:|Expectation failed|fatal" "$log" | grep -v "\[HummingbirdCore\]" | head -60
fi
exit "$status"
