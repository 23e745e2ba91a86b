#!/usr/bin/env bash
# A virtual environment with Stable-Baselines3 (and so PyTorch, about 5 GB from PyPI) for the
# test that trains an ordinary library's agent through the Python client
# (python/tests/test_sb3.py). Created once in target/sb3-venv; kept apart from the system
# Python so that the client's own tests keep running on its three light dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/sb3-venv
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import stable_baselines3, gymnasium, pytest" >/dev/null 2>&1; then
  exit 0
fi
echo "sb3-venv: creating $venv (stable-baselines3 and PyTorch from PyPI; a few minutes)"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --no-cache-dir \
  "stable-baselines3==2.9.2" "torch==2.15.0" "gymnasium>=1.0" numpy pytest
