#!/usr/bin/env bash
# Runs the built tests and, when any fail, repeats the failing lines at the very end:
# CI keeps only the tail of the log, and a failure in the middle would be invisible.
#
# Two groups run in processes of their own after the rest: the 90-second certificate-
# rotation test (while it held its proxies, other tests in the same process once saw their
# timers stall; cause not found yet, see docs/security.md, "Known issues"), and the etcd
# tests, whose three-member clusters are load enough on two cores.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .build
log=.build/test-output.log
long="certificatesRotateUnderLoad"
etcd="EtcdClientTests"
if [ "$#" -gt 0 ]; then
    swift test --skip-build "$@" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
else
    swift test --skip-build --skip "$long" --skip "$etcd" 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    for group in "$long" "$etcd"; do
        swift test --skip-build --filter "$group" 2>&1 | tee -a "$log"
        next=${PIPESTATUS[0]}
        [ "$status" -eq 0 ] && status=$next
    done
fi
if [ "$status" -ne 0 ]; then
    echo "---- failures (repeated from above) ----"
    grep -E "✘|recorded an issue|error:|Expectation failed|fatal" "$log" | grep -v "\[HummingbirdCore\]" | head -60
fi
exit "$status"
