"""Train an agent with Stable-Baselines3 through platform sessions, then evaluate it.

The environment is ``mlroots.make(..., phase="train")``, an ordinary ``gymnasium.Env``:
Stable-Baselines3 uses it unchanged, and the server records every training step in the
ledger (the training rules of the sub-challenge are checked on those counts). Then
``mlroots.evaluate`` plays the greedy policy on the server's hidden seeds and prints the
judge's verdict, with the training counters it saw.

    pip install stable-baselines3          # brings PyTorch
    python3 python/examples/sb3_train.py --url http://127.0.0.1:8080 --token mlr_... \\
        --sub C03-safety-gridworlds/IN-X --algo ppo --steps 20000

Prints one line per phase and the verdict as JSON.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # this checkout's client
import mlroots  # noqa: E402


def train(sub: str, algo: str, steps: int, seed: int, client: mlroots.Client):
    """Trains ``algo`` (``ppo`` or ``dqn``) for ``steps`` steps on train sessions of ``sub``
    and returns the model."""
    from stable_baselines3 import DQN, PPO

    env = mlroots.make(sub, phase="train", client=client)
    if algo == "ppo":
        model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, seed=seed, verbose=0)
    elif algo == "dqn":
        model = DQN("MlpPolicy", env, learning_starts=min(500, steps // 2), buffer_size=10_000,
                    train_freq=4, target_update_interval=250, seed=seed, verbose=0)
    else:
        raise SystemExit(f"unknown --algo {algo!r}: use ppo or dqn")
    model.learn(total_timesteps=steps)
    env.close()
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="the server (default $MLROOTS_URL or http://127.0.0.1:8080)")
    ap.add_argument("--token", help="an API token (default $MLROOTS_TOKEN)")
    ap.add_argument("--sub", default="C03-safety-gridworlds/IN-X", help="the sub-challenge")
    ap.add_argument("--algo", default="ppo", choices=["ppo", "dqn"])
    ap.add_argument("--steps", type=int, default=20_000, help="training steps")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    client = mlroots.Client(args.url, args.token)
    model = train(args.sub, args.algo, args.steps, args.seed, client)
    print(f"trained {args.algo} for {args.steps} steps on {args.sub} (train sessions)")
    attempt = mlroots.evaluate(lambda obs: int(model.predict(obs, deterministic=True)[0]),
                               args.sub, client=client)
    print(f"evaluated: {'passed' if attempt['passed'] else 'failed'}")
    print(json.dumps(attempt, indent=2))


if __name__ == "__main__":
    main()
