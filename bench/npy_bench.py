"""NumPy interop benchmark (issue 3): `sheaf convert` against `cp`, and `auto` file size and
time against np.savez_compressed, Parquet (zstd, pyarrow) and Blosc2 (zstd + shuffle), on the
particles and ticks datasets, side by side in one run. Medians of RUNS runs; each timed command
starts after `sync` so that writeback of one run does not land on the next.

python bench/npy_bench.py [--rows N] [--runs K]   (default 20M rows, 3 runs)
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import blosc2
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
import datasets  # noqa: E402
from common import ROOT, SHEAF, build_cli, columns, fixed_binary, run, timed  # noqa: E402



def arrow_table(a):
    """The array as an Arrow table (built outside the timing: Parquet users hold Arrow data)."""
    return pa.table({k: fixed_binary(v) if v.dtype.kind == "S" else pa.array(v) for k, v in columns(a).items()})


def blosc2_write(a, path):
    # One Blosc2 frame per column, zstd + byte shuffle at blosc2's default level, 2 threads.
    blosc2.nthreads = 2
    total = 0
    with open(path, "wb") as f:
        for v in columns(a).values():
            c = blosc2.compress2(v.view(np.uint8) if v.dtype.kind in "SM" else v, typesize=v.dtype.itemsize, codec=blosc2.Codec.ZSTD, filters=[blosc2.Filter.SHUFFLE], clevel=5)
            f.write(c)
            total += len(c)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    build_cli()
    results = {}
    with tempfile.TemporaryDirectory(dir=ROOT / "target") as tmp:
        d = Path(tmp)
        for name in ["particles", "ticks"]:
            a = getattr(datasets, name)(args.rows)
            npy = d / f"{name}.npy"
            np.save(npy, a)
            raw = a.nbytes
            r = {"rows": args.rows, "raw_bytes": raw}
            r["cp"] = timed(lambda: run("cp", npy, d / "copy.npy"), args.runs)
            r["convert_none"] = timed(lambda: run(SHEAF, "convert", "-q", npy, d / "none.sheaf", "--codec", "none"), args.runs)
            r["back_from_none"] = timed(lambda: run(SHEAF, "convert", "-q", d / "none.sheaf", d / "back.npy"), args.runs)
            assert open(npy, "rb").read() == open(d / "back.npy", "rb").read(), "round trip differs"
            r["convert_auto"] = timed(lambda: run(SHEAF, "convert", "-q", npy, d / "auto.sheaf"), args.runs)
            r["back_from_auto"] = timed(lambda: run(SHEAF, "convert", "-q", d / "auto.sheaf", d / "back2.npy"), args.runs)
            r["size_auto"] = os.path.getsize(d / "auto.sheaf")
            r["savez_compressed"] = timed(lambda: np.savez_compressed(d / "x.npz", a), 1)
            r["size_savez_compressed"] = os.path.getsize(d / "x.npz")
            table = arrow_table(a)
            r["parquet_zstd"] = timed(lambda: pq.write_table(table, d / "x.parquet", compression="zstd"), args.runs)
            r["size_parquet_zstd"] = os.path.getsize(d / "x.parquet")
            r["blosc2"] = timed(lambda: blosc2_write(a, d / "x.b2"), args.runs)
            r["size_blosc2"] = os.path.getsize(d / "x.b2")
            results[name] = r
            for f in d.iterdir():
                f.unlink()
    print(f"rows per dataset: {args.rows}, median of {args.runs} runs (savez_compressed: 1 run)\n")
    print("| dataset | raw MB | cp s | convert none s | none/cp | back to npy s | back/cp |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['raw_bytes']/1e6:.0f} | {r['cp']:.2f} | {r['convert_none']:.2f} | {r['convert_none']/r['cp']:.2f}x | {r['back_from_none']:.2f} | {r['back_from_none']/r['cp']:.2f}x |")
    print("\n| dataset | contender | size MB | ratio | write s |")
    print("|---|---|---:|---:|---:|")
    for name, r in results.items():
        for label, key in [("sheaf auto", "auto"), ("np.savez_compressed", "savez_compressed"), ("Parquet zstd (pyarrow)", "parquet_zstd"), ("Blosc2 zstd+shuffle", "blosc2")]:
            size = r[f"size_{key}"]
            t = r["convert_auto"] if key == "auto" else r[key]
            print(f"| {name} | {label} | {size/1e6:.1f} | {r['raw_bytes']/size:.2f} | {t:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
