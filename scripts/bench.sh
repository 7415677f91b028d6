#!/usr/bin/env bash
# `make bench`: every benchmark in release mode, printed as one table (docs/performance.md).
# Figures vary from run to run on a shared machine; compare runs made one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
for product in sextant sextant-bench sextant-proxy; do
    swift build -c release --product "$product"
done
bench=.build/release/sextant-bench
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%d)"
echo
echo "| figure | measured | target |"
echo "|---|---:|---|"
"$bench" snapshot --rows
"$bench" changes --rows
"$bench" fanout --streams 1000 --churn 4000 --rows
"$bench" fanout --streams 10000 --rows
"$bench" fanout --streams 10000 --delta --rows
"$bench" fanout --streams 10000 --change cluster --rows | grep -E "cluster push|cluster change|CPU"
"$bench" fanout --streams 10000 --change cluster --delta --rows | grep -E "cluster push|cluster change|CPU"
"$bench" proxy --seconds 5 --rounds 3 --rows 2>.build/bench-proxy.log
"$bench" handshake --seconds 5 --rows 2>.build/bench-handshake.log
"$bench" replicas --rows 2>.build/bench-replicas.log
