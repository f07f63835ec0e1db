#!/usr/bin/env bash
# Run the atheris harness for a fixed number of executions (default 200000) on a seed corpus
# made of the examples and the bad-input catalogue. Usage: scripts/fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-200000}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
cp examples/*.yaml tests/bad_inputs/*.yaml "$corpus"/
findings=${FINDINGS:-fuzz-findings}
mkdir -p "$findings"
python tests/fuzz/fuzz_network.py -atheris_runs="$runs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$findings/" "$corpus"
