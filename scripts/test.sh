#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages when missing (scripts/ci-deps.sh), the
# Rust workspace, the Python client against real `mlroots serve` processes, and the website in
# Debian's Chromium (screenshots in target/screenshots/). Stable-Baselines3 trains through the
# client in its own venv (scripts/sb3-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ci-deps.sh
# Stable-Baselines3's venv downloads while the Rust tests build and run.
mkdir -p target
bash scripts/sb3-venv.sh > target/sb3-venv.log 2>&1 &
sb3_venv=$!
cargo test --workspace
cargo build -p mlroots-cli
python3 -m pytest -q python/tests
bash scripts/with-postgres.sh python3 -m pytest -q python/tests  # the same, on PostgreSQL
if ! wait "$sb3_venv"; then
  cat target/sb3-venv.log
  echo "scripts/test.sh: could not create the Stable-Baselines3 venv (scripts/sb3-venv.sh)" >&2
  exit 1
fi
MLROOTS_REQUIRE_SB3=1 target/sb3-venv/bin/python -m pytest -q python/tests/test_sb3.py
bash scripts/browser-tests.sh
