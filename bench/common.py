"""Helpers shared by the benchmark scripts: where the repository and the release `sheaf` binary
are, building it, timing with `sync` before each run, running a command, and a NumPy record
array's columns as NumPy or Arrow arrays."""
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow as pa


def timed(fn, runs):
    """Median seconds of `runs` calls of `fn`, each after `sync` (writeback of one run must not
    land on the next)."""
    times = []
    for _ in range(runs):
        subprocess.run(["sync"], check=True)
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


ROOT = Path(__file__).resolve().parent.parent
SHEAF = ROOT / "target" / "release" / "sheaf"


def build_cli():
    """Builds the release `sheaf` binary the scripts time."""
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sheaf-cli"], cwd=ROOT, check=True)


def run(*args):
    subprocess.run([str(a) for a in args], check=True)


def columns(a):
    """Flat columns of a structured array (subarray fields split per component)."""
    out = {}
    for name in a.dtype.names:
        col = a[name]
        if col.ndim == 2:
            for k in range(col.shape[1]):
                out[f"{name}_{k}"] = np.ascontiguousarray(col[:, k])
        else:
            out[name] = np.ascontiguousarray(col)
    return out


def fixed_binary(v):
    """A NumPy `S<n>` column as an Arrow fixed-size binary array (NULs kept)."""
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(v.dtype.itemsize), len(v), [None, pa.py_buffer(np.ascontiguousarray(v).tobytes())])
