"""Sessions as gymnasium environments: ``MlrootsEnv`` (one session) and
``MlrootsVectorEnv`` (several sessions stepped with one batch request per step)."""

from __future__ import annotations

from binascii import a2b_base64
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

from .client import ApiError, Client


def _spaces(opened: dict) -> tuple[spaces.Space, spaces.Discrete, tuple[int, ...] | None]:
    """The gymnasium spaces of an opened session, and the observation's shape (None for a
    Discrete observation, carried as one float)."""
    action_space = spaces.Discrete(int(opened["action_space"]["n"]))
    o = opened["observation_space"]
    if o["type"] == "Discrete":
        return spaces.Discrete(int(o["n"])), action_space, None
    shape = tuple(int(d) for d in o["shape"])
    return spaces.Box(low=float(o["low"]), high=float(o["high"]), shape=shape, dtype=np.float32), action_space, shape


def _obs(flat: list[float], shape: tuple[int, ...] | None) -> Any:
    if shape is None:
        return int(flat[0])
    return np.asarray(flat, dtype=np.float32).reshape(shape)


def _frame(r: dict) -> Any:
    if r["mode"] == "ascii":
        return r["text"]
    data = np.asarray(r["data"], dtype=np.uint8).reshape(3, r["height"], r["width"])
    return np.ascontiguousarray(data.transpose(1, 2, 0))


class MlrootsEnv(gym.Env):
    """One environment session on a platform server.

    ``phase`` is ``practice`` (nothing counts), ``train`` (recorded for the training rules)
    or ``eval`` (the server picks hidden seeds, so ``reset(seed=...)`` is refused).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"]}

    def __init__(
        self,
        sub_challenge: str,
        phase: str = "practice",
        *,
        client: Client | None = None,
        url: str | None = None,
        token: str | None = None,
        render_mode: str | None = None,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, not {render_mode!r}")
        self.client = client or Client(url, token)
        self.phase = phase
        self.render_mode = render_mode
        opened = self.client.open(sub_challenge, phase)
        self.session = int(opened["id"])
        self.env_id = opened["env_id"]
        self.observation_space, self.action_space, self._shape = _spaces(opened)
        self.action_meanings = opened["action_meanings"]
        self.reward_range = tuple(opened["reward_range"])
        self.last_attempt: dict | None = None
        self._closed = False

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        r = self.client.reset(self.session, None if self.phase == "eval" else seed)
        return _obs(r["obs"], self._shape), dict(r["info"])

    def step(self, action):
        r = self.client.step(self.session, int(action))
        if "attempt" in r:
            self.last_attempt = r["attempt"]
        return _obs(r["obs"], self._shape), float(r["reward"]), bool(r["terminated"]), bool(r["truncated"]), dict(r["info"])

    def render(self):
        if self.render_mode is None:
            return None
        return _frame(self.client.render(self.session, "ascii" if self.render_mode == "ansi" else "rgb"))

    def close(self):
        if not self._closed:
            self._closed = True
            try:
                self.client.close(self.session)
            except ApiError:
                pass  # already closed (an evaluation closes itself when judged)


class MlrootsVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` sessions of one sub-challenge, stepped (and autoreset) with one batch
    request per step.

    Autoreset is gymnasium's default next-step mode: the step after an episode ends resets
    that sub-environment (reward 0, not done) and returns its first observation.
    """

    metadata = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP}

    def __init__(self, sub_challenge: str, num_envs: int, phase: str = "practice", *, client: Client | None = None,
                 url: str | None = None, token: str | None = None):
        self.client = client or Client(url, token)
        self.phase = phase
        self.num_envs = num_envs
        self.sessions: list[int] = []
        opened = None
        for _ in range(num_envs):
            opened = self.client.open(sub_challenge, phase)
            self.sessions.append(int(opened["id"]))
        assert opened is not None, "num_envs must be at least 1"
        self.single_observation_space, self.single_action_space, self._shape = _spaces(opened)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._needs_reset = np.zeros(num_envs, dtype=bool)
        # Each session's step item, written once: a step's request is these and the actions.
        self._step_items = [f'{{"session":{s},"action":' for s in self.sessions]

    def _stack(self, columns: dict):
        """The observations of a batch's columns (one base64 of little-endian float32, see
        ``Client.batch_columns``) as one array."""
        flat = np.frombuffer(a2b_base64(columns["obs"]), dtype="<f4")
        if self._shape is None:
            return flat.astype(np.int64)
        return flat.astype(np.float32).reshape((self.num_envs, *self._shape))

    def reset(self, *, seed: int | list[int] | None = None, options: dict | None = None):
        super().reset(seed=seed if isinstance(seed, int) else None)
        if seed is None or self.phase == "eval":
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int):
            seeds = [seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
        items = [{"session": s, "reset": True} | ({} if sd is None else {"seed": int(sd)})
                 for s, sd in zip(self.sessions, seeds)]
        columns = self._batch(items)
        self._needs_reset[:] = False
        return self._stack(columns), _infos(columns)

    def _batch(self, items: list[dict] | bytes) -> dict:
        """One batch request for ``items`` (one per session, in order), answered as columns;
        raises the first item's error."""
        columns = self.client.batch_columns(items)
        if columns["errors"]:
            first = columns["errors"][0]
            e = first["error"]
            raise ApiError(400, e["code"], f"session {self.sessions[first['index']]}: {e['message']}")
        return columns

    def step(self, actions):
        actions = np.asarray(actions)
        # One request: the sub-environments whose episode ended are reset in the same batch
        # (their reward is 0 and they are neither terminated nor truncated).
        resetting = self._needs_reset.tolist()
        texts = [f'{{"session":{s},"reset":true}}' if resetting[i] else f"{self._step_items[i]}{int(a)}}}"
                 for i, (s, a) in enumerate(zip(self.sessions, actions.tolist()))]
        columns = self._batch(("[" + ",".join(texts) + "]").encode())
        rewards = np.array(columns["reward"], dtype=np.float64)
        terminated = np.array(columns["terminated"], dtype=bool)
        truncated = np.array(columns["truncated"], dtype=bool)
        self._needs_reset = terminated | truncated
        return self._stack(columns), rewards, terminated, truncated, _infos(columns)

    def close_extras(self, **kwargs):
        for s in self.sessions:
            try:
                self.client.close(s)
            except ApiError:
                pass


def _infos(columns: dict) -> dict:
    """Gymnasium's vector infos from a batch's info columns: each key's values as an array,
    and under ``"_" + key`` which sub-environments have it (a reset has no executed action,
    a sub-environment that did not step has no info)."""
    infos = {}
    for key, values in columns["info"].items():
        present = [v is not None for v in values]
        if not any(present):
            continue
        sample = values[present.index(True)]
        if isinstance(sample, bool):
            array = np.array([bool(v) for v in values], dtype=bool)
        elif isinstance(sample, (int, float)):
            array = np.array([0 if v is None else v for v in values])
        else:
            array = np.array(values, dtype=object)
        infos[key] = array
        infos["_" + key] = np.array(present, dtype=bool)
    return infos


def make(sub_challenge: str, phase: str = "practice", **kwargs) -> MlrootsEnv:
    """A gymnasium environment backed by a new session (see ``MlrootsEnv``)."""
    return MlrootsEnv(sub_challenge, phase, **kwargs)


def make_vec(sub_challenge: str, num_envs: int, phase: str = "practice", **kwargs) -> MlrootsVectorEnv:
    """A vector environment of ``num_envs`` sessions stepped in batches (see ``MlrootsVectorEnv``)."""
    return MlrootsVectorEnv(sub_challenge, num_envs, phase, **kwargs)


def evaluate(policy, sub_challenge: str, *, client: Client | None = None, url: str | None = None,
             token: str | None = None, max_steps: int = 1_000_000) -> dict:
    """Runs an evaluation of ``sub_challenge`` with ``policy`` and returns the judged attempt.

    Opens an ``eval`` session (the server picks the hidden seeds and the number of
    episodes), calls ``policy(obs)`` for an action until the server reports the attempt, and
    returns ``GET /api/attempts/{id}`` (``passed``, ``verdict``). Raises ``ApiError`` if the
    sub-challenge has no evaluation, and ``RuntimeError`` past ``max_steps``.
    """
    env = MlrootsEnv(sub_challenge, "eval", client=client, url=url, token=token)
    try:
        steps = 0
        while env.last_attempt is None:
            obs, _ = env.reset()
            done = False
            while not done and env.last_attempt is None:
                if steps >= max_steps:
                    raise RuntimeError(f"the evaluation of {sub_challenge} took over {max_steps} steps")
                obs, _, terminated, truncated, _ = env.step(policy(obs))
                steps += 1
                done = terminated or truncated
        return env.client.attempt(int(env.last_attempt["id"]))
    finally:
        env.close()


def submit(sub_challenge: str, artefact, *, client: Client | None = None, url: str | None = None,
           token: str | None = None) -> dict:
    """Submits an artefact to ``sub_challenge`` and returns the judged attempt.

    ``artefact`` is the text itself (levels or mazes separated by blank lines, an action
    string), ``bytes`` (weights: sent as base64), or a path (``pathlib.Path``, or a ``str``
    naming an existing file without a newline): a ``.safetensors`` file or one that is not
    UTF-8 is sent as weights, any other as text. The result has ``passed``, ``verdict`` (every
    predicate with its value), ``attempt`` and ``submission``. A refused artefact raises
    ``ApiError`` with code ``invalid_artefact`` and a message giving each problem's line and
    column.
    """
    import base64
    import os

    if isinstance(artefact, os.PathLike) or (
        isinstance(artefact, str) and "\n" not in artefact and os.path.isfile(artefact)
    ):
        path = os.fspath(artefact)
        with open(path, "rb") as f:
            data = f.read()
        if not path.endswith(".safetensors"):
            try:
                artefact = data.decode("utf-8")
            except UnicodeDecodeError:
                artefact = data
        else:
            artefact = data
    if isinstance(artefact, (bytes, bytearray)):
        artefact = base64.b64encode(bytes(artefact)).decode("ascii")
    if not isinstance(artefact, str):
        raise TypeError(f"artefact must be text, bytes or a path, not {type(artefact).__name__}")
    c = client or Client(url=url, token=token)
    return c.submit(sub_challenge, artefact)
