"""An ordinary training library through the client, unchanged: Stable-Baselines3's own
environment checker, then PPO training on train sessions, then an evaluation whose verdict
shows that the server counted every training episode SB3 played.

Needs stable-baselines3 (and so PyTorch). `scripts/test.sh` runs this file in its own
virtual environment (`scripts/sb3-venv.sh`) with ``MLROOTS_REQUIRE_SB3=1``, which turns a
missing library into a failure instead of a skip.
"""

from __future__ import annotations

import os

import gymnasium as gym
import pytest

import mlroots

if os.environ.get("MLROOTS_REQUIRE_SB3") == "1":
    import stable_baselines3 as sb3  # a missing library fails here
else:
    sb3 = pytest.importorskip("stable_baselines3", reason="run by scripts/test.sh in scripts/sb3-venv.sh's venv")


class EpisodeCounter(gym.Wrapper):
    """Counts the episodes played to their end, as the ledger does."""

    def __init__(self, env):
        super().__init__(env)
        self.episodes = 0

    def step(self, action):
        out = self.env.step(action)
        self.episodes += bool(out[2] or out[3])
        return out


def test_sb3_env_checker_accepts_a_session(client):
    from stable_baselines3.common.env_checker import check_env

    env = mlroots.make("C03-safety-gridworlds/IN-X", phase="train", client=client)
    check_env(env, warn=False)
    env.close()


def test_ppo_trains_through_train_sessions_and_the_server_counts_it(client):
    import torch

    torch.set_num_threads(1)
    sub = "C03-safety-gridworlds/IN-X"
    env = EpisodeCounter(mlroots.make(sub, phase="train", client=client))
    model = sb3.PPO("MlpPolicy", env, n_steps=128, batch_size=32, n_epochs=2, seed=0, verbose=0)
    model.learn(total_timesteps=256)
    assert model.num_timesteps == 256
    env.close()

    attempt = mlroots.evaluate(lambda obs: int(model.predict(obs, deterministic=True)[0]), sub, client=client)
    predicates = {p["text"]: p for p in attempt["verdict"]["predicates"]}
    # IN-X's budget rule reads the training episodes the ledger counted for this account.
    assert predicates["train.episodes <= 200"]["value"] == env.episodes
    assert "eval.mean.return >= 45" in predicates
