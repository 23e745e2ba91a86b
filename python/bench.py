"""Loopback benchmark of the platform through the Python client: steps per second with one
session stepped one request at a time, and with 64 sessions stepped by one batch request
(``make_vec``), over HTTP with the ledger on (every step is committed before its answer).

    cargo build --release -p mlroots-cli
    python3 python/bench.py --bin target/release/mlroots --seconds 10

Starts its own ``mlroots serve`` on a temporary SQLite file (or use ``--url`` and
``--token`` for a running server) and prints one line per mode.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mlroots  # noqa: E402
import numpy as np  # noqa: E402


def start(binary: str, db: str) -> tuple[subprocess.Popen, str]:
    cmd = [binary, "serve", "--addr", "127.0.0.1:0", "--database-url", db]
    help_text = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True).stdout
    if "--steps-per-second" in help_text:  # lift the per-account quota out of the measurement
        cmd += ["--steps-per-second", "100000000"]
    proc = subprocess.Popen(cmd,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if not line.startswith("mlroots: serving on "):
        proc.kill()
        raise SystemExit(f"mlroots serve did not start (first line {line!r})")
    return proc, line.split()[-1]


def client_for(url: str) -> mlroots.Client:
    name = "bench" + uuid.uuid4().hex[:8]
    c = mlroots.Client(url)
    c.register(name, "password-" + name)
    c.login(name, "password-" + name)
    return mlroots.Client(url, token=c.create_token("bench"))


def single(client: mlroots.Client, sub: str, seconds: float) -> tuple[int, float]:
    env = mlroots.make(sub, phase="train", client=client)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        _, _, term, trunc, _ = env.step(int(rng.integers(env.action_space.n)))
        n += 1
        if term or trunc:
            env.reset()
    dt = time.perf_counter() - t0
    env.close()
    return n, dt


def batched(client: mlroots.Client, sub: str, seconds: float, num_envs: int) -> tuple[int, float, float]:
    """Steps ``make_vec`` for ``seconds``: (steps, seconds, this process's CPU seconds)."""
    env = mlroots.make_vec(sub, num_envs, phase="train", client=client)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        env.step(rng.integers(env.single_action_space.n, size=num_envs))
        n += num_envs
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    env.close()
    return n, dt, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.environ.get("MLROOTS_BIN", "target/release/mlroots"))
    ap.add_argument("--url", help="a running server (default: start one)")
    ap.add_argument("--token", help="an API token for --url (default: register an account)")
    ap.add_argument("--sub", default="env/boat-race")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--num-envs", type=int, default=64)
    args = ap.parse_args()
    proc = None
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url
        if url is None:
            proc, url = start(args.bin, str(pathlib.Path(tmp) / "bench.db"))
        try:
            client = mlroots.Client(url, token=args.token) if args.token else client_for(url)
            n, dt = single(client, args.sub, args.seconds)
            print(f"single : {n / dt:9.0f} steps/s ({n} steps in {dt:.1f} s, one request per step)")
            n, dt, cpu = batched(client, args.sub, args.seconds, args.num_envs)
            requests = n // args.num_envs
            print(f"batch{args.num_envs:<2}: {n / dt:9.0f} steps/s ({n} steps in {dt:.1f} s, "
                  f"{requests} batch requests, client CPU {cpu * 1e3 / requests:.3f} ms a request)")
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


if __name__ == "__main__":
    main()
