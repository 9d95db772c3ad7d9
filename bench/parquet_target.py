"""Issue 4's conversion target, side by side: Parquet -> sheaf (`--codec none`, the like-for-like
uncompressed output, and the default `auto`) against pyarrow reading the Parquet file into memory
plus writing uncompressed Feather. The three alternate for ROUNDS rounds, the order rotating
each round (on this VM a run after another process that used much memory pays more for fresh
memory, so no contender always follows the same one), `sync` before each, each overwriting its
previous output as arrow_bench.py does; medians and every run are printed.

python bench/parquet_target.py [--rows N] [--rounds K]
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.feather as feather
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
import datasets  # noqa: E402
from arrow_bench import table_of  # noqa: E402
from common import ROOT, SHEAF, build_cli, run  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    build_cli()
    print(f"rows per dataset: {args.rows}, {args.rounds} alternating rounds, medians\n")
    print("| dataset | pyarrow read Parquet + write Feather s | sheaf none s (ratio) | sheaf auto s (ratio) |")
    print("|---|---:|---:|---:|")
    for name in ["particles", "ticks"]:
        t = table_of(getattr(datasets, name)(args.rows))
        with tempfile.TemporaryDirectory(dir=ROOT / "target") as tmp:
            d = Path(tmp)
            pq.write_table(t, d / "x.parquet", compression="zstd")
            jobs = {
                "pyarrow": lambda: feather.write_feather(pq.read_table(d / "x.parquet"), d / "y.arrow", compression="uncompressed"),
                "none": lambda: run(SHEAF, "convert", "-q", "--codec", "none", d / "x.parquet", d / "n.sheaf"),
                "auto": lambda: run(SHEAF, "convert", "-q", d / "x.parquet", d / "a.sheaf"),
            }
            times = {k: [] for k in jobs}
            order = list(jobs)
            for r in range(args.rounds):
                for k in order[r % 3 :] + order[: r % 3]:
                    job = jobs[k]
                    subprocess.run(["sync"], check=True)
                    start = time.perf_counter()
                    job()
                    times[k].append(time.perf_counter() - start)
            med = {k: statistics.median(v) for k, v in times.items()}
            base = med["pyarrow"]
            print(f"| {name} | {base:.3f} | {med['none']:.3f} ({med['none'] / base:.2f}x) | {med['auto']:.3f} ({med['auto'] / base:.2f}x) |")
            for k, v in times.items():
                print(f"<!-- {name} {k}: {' '.join(f'{x:.2f}' for x in v)} -->")


if __name__ == "__main__":
    main()
