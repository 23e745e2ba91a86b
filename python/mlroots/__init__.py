"""Python client of the ML Roots You platform.

Pure Python over the HTTP API (gymnasium, numpy and the standard library): no Rust toolchain needed.

    import mlroots
    env = mlroots.make("env/boat-race", phase="train", url="http://127.0.0.1:8080", token="mlr_...")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

``make_vec`` opens several sessions stepped together with one request per step (the
platform's batch step), which is what makes training through the server fast.
``evaluate(policy, sub_challenge)`` runs an evaluation and returns the judged attempt.
"""

from .client import ApiError, Client
from .env import MlrootsEnv, MlrootsVectorEnv, evaluate, make, make_vec

__all__ = ["ApiError", "Client", "MlrootsEnv", "MlrootsVectorEnv", "evaluate", "make", "make_vec"]
