"""Random access: 1,000 random rows of a 20M-row table, sheaf's Array.take against Lance's
dataset.take and Parquet (pyarrow), side by side in one run (needs the package and pylance in
.venv: `.venv/bin/pip install pylance`).

    .venv/bin/python bench/take_bench.py [--rows N] [--take K] [--runs R]

Data: the suite's `ticks` records (M8[ns], f8, i4, u1, S8; 29 bytes a row). Every file is
written once, then each run draws a new set of K random row indices (unsorted, the same set for
every contender) and times each contender's take in this process, the file handle opened once
before (as a service holding a dataset does), the files in the page cache. Each figure is the
median of R runs. Parquet has no take: the best pyarrow offers is to read the row groups that
hold the rows and take from them. Prints a Markdown table.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lance
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # noqa: E402
from py_bench import arrow_table  # noqa: E402

import sheaf  # noqa: E402


def parquet_take(pf, starts, idx):
    """The rows `idx` of ParquetFile `pf` whose row groups start at `starts`: the row groups
    holding them are read, then taken from."""
    groups = np.searchsorted(starts, idx, side="right") - 1
    need = np.unique(groups)
    table = pf.read_row_groups(need.tolist())
    base = np.cumsum(np.concatenate([[0], [pf.metadata.row_group(int(g)).num_rows for g in need]]))[:-1]
    local = base[np.searchsorted(need, groups)] + (idx - starts[groups])
    return table.take(pa.array(local))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--take", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    a = datasets.ticks(args.rows)
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent / "target") as d:
        d = Path(d)
        table = arrow_table(a)
        paths = {"none": d / "none.sheaf", "auto": d / "auto.sheaf", "auto64k": d / "auto64k.sheaf", "lance": d / "t.lance", "parquet": d / "t.parquet"}
        sheaf.save(paths["none"], a, codec="none")
        sheaf.save(paths["auto"], a, codec="auto")
        sheaf.save(paths["auto64k"], a, codec="auto", row_group_rows=65536)
        lance.write_dataset(table, str(paths["lance"]))
        pq.write_table(table, paths["parquet"], compression="zstd")

        files = {k: sheaf.open(paths[k])[""] for k in ("none", "auto", "auto64k")}
        ds = lance.dataset(str(paths["lance"]))
        pf = pq.ParquetFile(paths["parquet"])
        starts = np.cumsum([0] + [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])[:-1]
        contenders = [
            ("sheaf codec=none (memory map)", lambda idx: files["none"].take(idx)),
            ("sheaf codec=auto", lambda idx: files["auto"].take(idx)),
            ("sheaf codec=auto, row_group_rows=65536", lambda idx: files["auto64k"].take(idx)),
            ("Lance (pylance dataset.take)", lambda idx: ds.take(idx)),
            ("Parquet zstd (pyarrow: row groups, then take)", lambda idx: parquet_take(pf, starts, idx)),
        ]
        times = {label: [] for label, _ in contenders}
        for run in range(args.runs + 1):
            idx = rng.integers(0, args.rows, size=args.take)
            want = a[idx]
            for label, fn in contenders:
                t = time.perf_counter()
                got = fn(idx)
                dt = time.perf_counter() - t
                # Every contender must give the rows asked for, in order.
                ts = got["ts"] if isinstance(got, np.ndarray) else got.column("ts").to_numpy()
                assert np.array_equal(np.asarray(ts).view("i8"), want["ts"].view("i8")), label
                if run:  # the first run warms each handle
                    times[label].append(dt)
        sizes = {k: sum(f.stat().st_size for f in ([p] if p.is_file() else p.rglob("*") if p.is_dir() else [])) for k, p in paths.items()}
        size_of = {contenders[0][0]: sizes["none"], contenders[1][0]: sizes["auto"], contenders[2][0]: sizes["auto64k"], contenders[3][0]: sizes["lance"], contenders[4][0]: sizes["parquet"]}
        lance_t = statistics.median(times[contenders[3][0]])
        print(f"take of {args.take} random rows of {args.rows:,} ticks rows, in-process, files in the page cache, median of {args.runs} runs")
        print(f"(lance {lance.__version__}, pyarrow {pa.__version__}, sheaf {sheaf.__version__})\n")
        print("| contender | file size | take | vs Lance |")
        print("|---|---:|---:|---:|")
        for label, _ in contenders:
            t = statistics.median(times[label])
            print(f"| {label} | {size_of[label] / 1e6:.0f} MB | {t * 1e3:.2f} ms | {lance_t / t:.1f}x |")


if __name__ == "__main__":
    main()
