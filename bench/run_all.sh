#!/usr/bin/env bash
# Runs every benchmark of the project, one after the other (never two at once on this 2-core
# machine), writing each one's output to bench/out/. Takes about 35 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/out
PY=.venv/bin/python
cargo bench -p sheaf --bench throughput > bench/out/core.md 2>bench/out/core.log
cargo bench -p sheaf-arrow --bench record_batch > bench/out/record_batch.md 2>bench/out/record_batch.log
$PY bench/npy_bench.py --rows 20000000 --runs 3 > bench/out/npy.md 2>bench/out/npy.log
$PY bench/arrow_bench.py --rows 10000000 --runs 3 > bench/out/arrow.md 2>bench/out/arrow.log
$PY bench/parquet_target.py --rows 10000000 --rounds 9 > bench/out/parquet_target.md 2>bench/out/parquet_target.log
$PY bench/suite.py --runs 3 > bench/out/suite.log 2>&1
