#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages when missing (scripts/ci-deps.sh), the
# Rust workspace, the Python client against real `mlroots serve` processes, and the website in
# Debian's Chromium (screenshots in target/screenshots/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ci-deps.sh
cargo test --workspace
cargo build -p mlroots-cli
python3 -m pytest -q python/tests
bash scripts/browser-tests.sh
