#!/usr/bin/env bash
# System packages the build and the tests need, installed only when missing:
# libpq (the PostgreSQL client library diesel links) and the PostgreSQL server binaries that
# the server's tests start a throwaway cluster from. Needs root (CI and sessions run as root).
set -euo pipefail
need=()
[ -e /usr/include/postgresql/libpq-fe.h ] || need+=(libpq-dev)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "ci-deps: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${need[@]}"
fi
# The Python client's test dependencies (PyPI), when missing.
if ! python3 -c "import gymnasium, numpy, pytest" >/dev/null 2>&1; then
  echo "ci-deps: installing the Python client's test dependencies"
  python3 -m pip install -q "gymnasium>=1.0" numpy pytest
fi
