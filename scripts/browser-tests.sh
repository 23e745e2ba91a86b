#!/usr/bin/env bash
# Browser tests of the website: installs Debian's Chromium if missing, installs
# playwright-core (pinned, tests/browser/package-lock.json), builds and starts the platform
# (`mlroots serve`, with the challenge catalogue)
# on a free loopback port with a temporary SQLite file, and drives the pages with
# tests/browser/run.mjs. Screenshots of every page land in target/screenshots/ (CI keeps that
# folder as an artifact).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
(cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)

# The platform as a learner starts it (`mlroots serve`), on a throwaway database and secret.
cargo build -p mlroots-cli
BIN="$ROOT/target/debug/mlroots"
TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN" serve --addr "127.0.0.1:$PORT" --database-url "$TMP/site.db" --secret-file "$TMP/secret" \
  --challenges "$ROOT/challenges" >"$TMP/serve.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/api/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then cat "$TMP/serve.log"; exit 1; fi
  sleep 0.2
done
mkdir -p target/screenshots
MLROOTS_URL="http://127.0.0.1:$PORT" SCREENSHOTS="$ROOT/target/screenshots" \
  node tests/browser/run.mjs || { echo "--- server log"; tail -50 "$TMP/serve.log"; exit 1; }
