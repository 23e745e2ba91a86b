#!/usr/bin/env python3
"""burn against PyTorch on DQN's train step, back to back, in CPU time: alternates
`examples/dqn_steps.rs` (a fixed number of steps; its CPU time read from the child's rusage;
the best of 3 runs) and `bench/dqn_torch.py --clock cpu` (the best of 3 timed runs) for each
workload, ROUNDS times, and prints every round's
steps per CPU-second with the ratio, then the median ratio. CPU time rather than wall time, so
that other work on the machine (time slicing) cancels out of the ratio; the load average is
printed with each round.

Usage: python3 bench/dqn_compare.py [--rounds N] [--steps N] [--python PYTHON]
  (build first: cargo build --release -p mlroots-neural --example dqn_steps)
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def burn(binary, workload, steps):
    """The best of 3 runs of `steps` steps, as dqn_torch.py takes the best of 3 timed runs."""
    best = 0.0
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([binary, workload, str(steps)], check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = max(best, steps / cpu)
    return best


def torch(python, seconds):
    out = subprocess.run(
        [python, os.path.join(HERE, "dqn_torch.py"), "--threads", "1", "--seconds", str(seconds),
         "--clock", "cpu"],
        check=True, capture_output=True, text=True).stdout
    rates = dict(re.findall(r"^(\S+)\s+([0-9.]+) train steps/s", out, re.M))
    if not rates:
        sys.exit(f"no PyTorch numbers (is torch installed?):\n{out}")
    return {k: float(v) for k, v in rates.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=1000, help="burn steps per timed run (best of 3)")
    ap.add_argument("--seconds", type=float, default=1.0, help="PyTorch CPU seconds per timed run")
    ap.add_argument("--python", default=sys.executable, help="the Python that has torch")
    ap.add_argument("--binary", default=None, help="the dqn_steps example (default: found in target/)")
    args = ap.parse_args()
    binary = args.binary
    if binary is None:
        for target in [os.environ.get("CARGO_TARGET_DIR", ""), os.path.join(HERE, "..", "target")]:
            path = os.path.join(target, "release", "examples", "dqn_steps")
            if target and os.path.exists(path):
                binary = path
                break
    if not binary:
        sys.exit("build the example first: cargo build --release -p mlroots-neural --example dqn_steps "
                 "(or pass --binary)")
    ratios = {"fit": [], "dqn-update": []}
    for r in range(args.rounds):
        load = os.getloadavg()[0]
        t = torch(args.python, args.seconds)
        line = f"round {r + 1} (load {load:.2f}):"
        for w in ratios:
            b = burn(binary, w, args.steps)
            ratios[w].append(b / t[w])
            line += f"  {w} burn {b:.0f}/s, torch {t[w]:.0f}/s, {b / t[w]:.2f}x;"
        print(line, flush=True)
    for w, rs in ratios.items():
        print(f"{w}: median {statistics.median(rs):.2f}x (min {min(rs):.2f}x, max {max(rs):.2f}x) over {len(rs)} rounds")


if __name__ == "__main__":
    main()
