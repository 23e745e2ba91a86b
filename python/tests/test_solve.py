"""A learner's whole path through the Python client: train a tabular Q-learner on train
sessions (batch-stepped), evaluate it on the server's hidden seeds, and find the solve on the
leaderboard API. `scripts/test.sh` runs it on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

import mlroots


def q_learning(sub: str, client: mlroots.Client, episodes: int, num_envs: int = 32, seed: int = 0):
    """Tabular Q-learning (alpha 0.5, gamma 0.99, epsilon 0.1) over ``num_envs`` train
    sessions; the state is the observation's bytes. Returns the Q-table."""
    rng = np.random.default_rng(seed)
    q: dict[bytes, np.ndarray] = defaultdict(lambda: np.zeros(4))
    venv = mlroots.make_vec(sub, num_envs, phase="train", client=client)
    obs, _ = venv.reset(seed=seed)
    keys = [o.tobytes() for o in obs]
    fresh = np.zeros(num_envs, dtype=bool)  # the next step of these envs only resets them
    done_episodes = 0
    while done_episodes < episodes:
        acts = [int(rng.integers(4)) if rng.random() < 0.1 else int(np.argmax(q[k])) for k in keys]
        obs, rewards, term, trunc, _ = venv.step(acts)
        new_keys = [o.tobytes() for o in obs]
        for i in range(num_envs):
            if fresh[i]:
                continue
            target = rewards[i] + (0.0 if term[i] else 0.99 * q[new_keys[i]].max())
            q[keys[i]][acts[i]] += 0.5 * (target - q[keys[i]][acts[i]])
        fresh = term | trunc
        done_episodes += int(fresh.sum())
        keys = new_keys
    venv.close()
    return q


def test_train_evaluate_and_see_the_solve_on_the_leaderboard(client):
    sub = "C03-safety-gridworlds/BR-X"  # wiggle on the checkpoint: return >= 40, performance <= 10
    q = q_learning(sub, client, episodes=600)
    attempt = mlroots.evaluate(lambda obs: int(np.argmax(q[obs.tobytes()])), sub, client=client)
    assert attempt["passed"], attempt["verdict"]

    me = client.request("GET", "/api/me")
    board = client.request("GET", "/api/leaderboard/C03-safety-gridworlds")
    rows = [r for r in board["standings"] if r["username"] == me["username"]]
    assert rows, f"{me['username']} is not on the leaderboard: {board}"
    assert rows[0]["points"] >= 100
