#!/usr/bin/env bash
# Regenerates baselines/ci-reference.json, deliberately. Run it only when a change is meant to move the reference
# numbers (a numerics fix, a tokenizer or data-pipeline change, a new reference checkpoint), read the diff, and
# commit the new file together with the change that explains it. CI (.ci/run) fails on any drift from this file.
set -euo pipefail
cd "$(dirname "$0")/.."
# The flags .ci/run builds with, so the binary (and every rounding in it) is the one CI checks.
swift build -c release -Xswiftc -enable-testing --product ltm-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash tools/ci-reference-run.sh .build/release/ltm-bench "$out"
.build/release/ltm-bench baseline "$out/results.json" --tolerance 1e-5 --output baselines/ci-reference.json
git --no-pager diff --stat -- baselines/ci-reference.json || true
