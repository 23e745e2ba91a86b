#!/usr/bin/env python3
"""The PyTorch side of `cargo bench -p mlroots-neural --bench dqn`: the same MLP
161->256->256->4 at batch 64, the same two workloads, on the CPU, in a plain Python loop.

* fit: forward, squared loss on the taken actions' Q, backward, Adam;
* dqn-update: the target network's forward (no grad) on the next observations and the max,
  then fit with the Huber loss.

Usage: python3 bench/dqn_torch.py [--threads N] [--seconds S] [--clock wall|cpu]
Prints train steps/s of each workload (the best of 3 timed runs of S seconds each). With
--clock cpu the seconds are the process's CPU time (time.process_time), which a loaded machine
does not inflate; bench/dqn_compare.py uses it.
Skips with a message (exit 0) when torch is not installed.
"""

import argparse
import sys
import time

try:
    import torch
    from torch import nn
except ImportError:
    print("torch is not installed: skipping the PyTorch benchmark (pip install torch)")
    sys.exit(0)

BATCH, INPUTS, HIDDEN, ACTIONS = 64, 161, 256, 4


def mlp():
    return nn.Sequential(
        nn.Linear(INPUTS, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, HIDDEN), nn.ReLU(),
        nn.Linear(HIDDEN, ACTIONS),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: one core, as burn)")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="wall: elapsed time; cpu: the process's CPU time")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    obs = torch.randint(0, 2, (BATCH, INPUTS)).float()
    nxt = torch.randint(0, 2, (BATCH, INPUTS)).float()
    actions = torch.randint(0, ACTIONS, (BATCH, 1))
    rewards = torch.rand(BATCH)

    online, target = mlp(), mlp()
    target.load_state_dict(online.state_dict())
    opt = torch.optim.Adam(online.parameters(), lr=1e-4, eps=1e-8)
    huber = nn.SmoothL1Loss()

    def fit():
        q = online(obs).gather(1, actions).squeeze(1)
        loss = ((q - rewards) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    def dqn_update():
        with torch.no_grad():
            y = rewards + 0.99 * target(nxt).max(1).values
        q = online(obs).gather(1, actions).squeeze(1)
        loss = huber(q, y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    clock = time.perf_counter if args.clock == "wall" else time.process_time
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), MLP {INPUTS}-{HIDDEN}-{HIDDEN}-{ACTIONS}, batch {BATCH}")
    for name, step in [("fit", fit), ("dqn-update", dqn_update)]:
        for _ in range(200):
            step()
        best = 0.0
        for _ in range(3):
            n, start = 0, clock()
            while clock() - start < args.seconds:
                step()
                n += 1
            best = max(best, n / (clock() - start))
        print(f"{name:<12} {best:9.0f} train steps/s")


if __name__ == "__main__":
    main()
