#!/usr/bin/env bash
# Runs the built tests and, when any fail, repeats the failing lines at the very end:
# CI keeps only the tail of the log, and a failure in the middle would be invisible.
#
# The 90-second certificate-rotation test runs in a process of its own after the rest:
# while it holds two Envoys for that long, other tests in the same process saw their
# timers stall (cause not found yet; see docs/security.md, "Known issues").
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
log=.build/test-output.log
long="certificatesRotateUnderLoad"
if [ "$#" -gt 0 ]; then
    swift test --skip-build "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
else
    swift test --skip-build --skip "$long" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    swift test --skip-build --filter "$long" 2>&1 | tee -a "$log"
    second=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] && status=$second
fi
if [ "$status" -ne 0 ]; then
    echo "---- failures (repeated from above) ----"
    grep -E "✘|recorded an issue|error:|Expectation failed|fatal" "$log" | grep -v "\[HummingbirdCore\]" | head -60
fi
exit "$status"
