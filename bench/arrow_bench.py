"""Arrow / Parquet benchmark (issue 4), side by side in one run, medians of RUNS runs, `sync`
before each timed step:

- Parquet -> sheaf (`sheaf convert`, auto, and none: uncompressed output like the Feather file)
  against pyarrow reading the Parquet file into memory plus writing uncompressed Feather (the
  target: sheaf takes no longer);
- sheaf -> Parquet (zstd) against pyarrow writing the same table from memory;
- Arrow IPC (Feather, uncompressed) -> sheaf `none` against `cp` of the Feather file.

python bench/arrow_bench.py [--rows N] [--runs K]
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
import datasets  # noqa: E402
from common import ROOT, SHEAF, build_cli, fixed_binary, run, timed  # noqa: E402



def table_of(a):
    cols = {}
    for name in a.dtype.names:
        col = a[name]
        if col.ndim == 2:
            cols[name] = pa.FixedSizeListArray.from_arrays(pa.array(np.ascontiguousarray(col).reshape(-1)), col.shape[1])
        elif col.dtype.kind == "S":
            cols[name] = fixed_binary(col)
        else:
            cols[name] = pa.array(np.ascontiguousarray(col))
    return pa.table(cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    build_cli()
    print(f"rows per dataset: {args.rows}, median of {args.runs} runs, pyarrow {pa.__version__} (its thread pool: {pa.cpu_count()} threads)\n")
    print("| dataset | in-memory MB | Parquet->sheaf auto s | Parquet->sheaf none s | pyarrow read Parquet + write Feather s | ratio auto / none | sheaf->Parquet zstd (sheaf convert) s | pyarrow write Parquet zstd s | Feather->sheaf none s | cp Feather s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(dir=ROOT / "target") as tmp:
        d = Path(tmp)
        for name in ["particles", "ticks"]:
            t = table_of(getattr(datasets, name)(args.rows))
            pq.write_table(t, d / "x.parquet", compression="zstd")
            feather.write_feather(t, d / "x.arrow", compression="uncompressed")
            p2s = timed(lambda: run(SHEAF, "convert", "-q", d / "x.parquet", d / "x.sheaf"), args.runs)
            p2s_none = timed(lambda: run(SHEAF, "convert", "-q", d / "x.parquet", d / "u.sheaf", "--codec", "none"), args.runs)
            pyarrow_rw = timed(lambda: feather.write_feather(pq.read_table(d / "x.parquet"), d / "y.arrow", compression="uncompressed"), args.runs)
            s2p = timed(lambda: run(SHEAF, "convert", "-q", d / "x.sheaf", d / "y.parquet", "--codec", "zstd"), args.runs)
            pyarrow_w = timed(lambda: pq.write_table(t, d / "z.parquet", compression="zstd"), args.runs)
            a2s = timed(lambda: run(SHEAF, "convert", "-q", d / "x.arrow", d / "n.sheaf", "--codec", "none"), args.runs)
            cp = timed(lambda: run("cp", d / "x.arrow", d / "copy.arrow"), args.runs)
            assert pq.read_table(d / "y.parquet").equals(t)
            print(f"| {name} | {t.nbytes/1e6:.0f} | {p2s:.2f} | {p2s_none:.2f} | {pyarrow_rw:.2f} | {p2s/pyarrow_rw:.2f}x / {p2s_none/pyarrow_rw:.2f}x | {s2p:.2f} | {pyarrow_w:.2f} | {a2s:.2f} | {cp:.2f} |")
            for f in d.iterdir():
                f.unlink()


if __name__ == "__main__":
    main()
