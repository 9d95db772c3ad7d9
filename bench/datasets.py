"""Deterministic benchmark datasets (seeded), shared by the benchmark scripts.

particles: [('id','<i8'),('pos','<f4',(3,)),('vel','<f4',(3,)),('mass','<f8'),('flag','u1')]
  sequential ids, smooth positions (a random walk per axis), smooth velocities, few distinct
  masses, mostly-zero flags.
ticks: [('ts','<M8[ns]'),('price','<f8'),('size','<i4'),('side','u1'),('symbol','S8')]
  monotonic timestamps with jitter, a random-walk price in cents, ~50 symbols.
"""
import numpy as np

PARTICLES = np.dtype([("id", "<i8"), ("pos", "<f4", (3,)), ("vel", "<f4", (3,)), ("mass", "<f8"), ("flag", "u1")])
TICKS = np.dtype([("ts", "<M8[ns]"), ("price", "<f8"), ("size", "<i4"), ("side", "u1"), ("symbol", "S8")])


def particles(n, seed=1):
    rng = np.random.default_rng(seed)
    a = np.zeros(n, PARTICLES)
    a["id"] = np.arange(n, dtype=np.int64)
    vel = np.cumsum(rng.normal(0, 0.01, size=(n, 3)).astype(np.float32), axis=0)
    a["vel"] = vel
    a["pos"] = np.cumsum(vel * np.float32(0.01), axis=0) + rng.normal(0, 1e-3, size=(n, 3)).astype(np.float32)
    a["mass"] = rng.choice(np.array([1.0, 1.5, 2.0, 4.0, 12.011, 15.999]), size=n)
    a["flag"] = (rng.random(n) < 0.02).astype(np.uint8) * rng.integers(1, 4, size=n, dtype=np.uint8)
    return a


def ticks(n, seed=2):
    rng = np.random.default_rng(seed)
    a = np.zeros(n, TICKS)
    step = rng.integers(0, 2_000_000, size=n, dtype=np.int64)
    a["ts"] = (np.int64(1_700_000_000_000_000_000) + np.cumsum(step)).view("M8[ns]")
    a["price"] = np.round(100.0 + np.cumsum(rng.normal(0, 0.01, size=n)), 2)
    a["size"] = (rng.pareto(1.5, size=n) * 100).astype(np.int32) + 1
    a["side"] = rng.integers(0, 2, size=n, dtype=np.uint8)
    syms = np.array([f"S{i:03d}".encode() for i in range(50)], "S8")
    weights = 1.0 / np.arange(1, 51)
    a["symbol"] = syms[rng.choice(50, size=n, p=weights / weights.sum())]
    return a
