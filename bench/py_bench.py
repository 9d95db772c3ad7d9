"""The Python package against NumPy and pyarrow, side by side in one run (needs the package
installed in .venv: `.venv/bin/pip install --no-build-isolation ./crates/sheaf-py`).

    .venv/bin/python bench/py_bench.py [--rows N] [--runs R]

Data: the suite's `ticks` records (M8[ns], f8, i4, u1, S8; 29 bytes a row; 20M rows = 580 MB) and,
for the open + one column figure, a 1 GB plain file. Each figure is the median of R runs:
- fresh: a new Python process per run (imports excluded: the time is measured inside it), so
  reads decode into fresh memory as a user's first load does;
- in-process: repeated calls in one process (memory reused).
Prints a Markdown table; the targets are those of the Python package issue.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datasets  # noqa: E402

import sheaf  # noqa: E402

PY = sys.executable


def fresh(code, runs):
    """Median seconds printed by `code` (which times itself) in `runs` fresh processes."""
    times = []
    for _ in range(runs):
        subprocess.run(["sync"], check=True)
        out = subprocess.run([PY, "-c", code], check=True, capture_output=True, text=True).stdout
        times.append(float(out.split()[-1]))
    return statistics.median(times)


def inproc(fn, runs):
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def timed_code(setup, stmt):
    return f"import time\n{setup}\nt = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)\n"


def to_numpy(table, dtype):
    out = np.empty(table.num_rows, dtype)
    for name in dtype.names:
        col = table.column(name).combine_chunks()
        if dtype[name].kind == "S":
            out[name] = np.frombuffer(col.buffers()[1], dtype[name])[: len(col)]
        else:
            out[name] = col.to_numpy(zero_copy_only=False).astype(dtype[name], copy=False)
    return out


def arrow_table(a):
    cols = {}
    for name in a.dtype.names:
        v = a[name]
        if v.dtype.kind == "S":
            cols[name] = pa.FixedSizeBinaryArray.from_buffers(pa.binary(v.dtype.itemsize), len(v), [None, pa.py_buffer(np.ascontiguousarray(v).tobytes())])
        else:
            cols[name] = pa.array(np.ascontiguousarray(v))
    return pa.table(cols)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    runs = args.runs
    a = datasets.ticks(args.rows)
    dt = a.dtype
    mb = a.nbytes / 1e6
    rows = []
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent.parent / "target") as d:
        d = Path(d)
        npy, none, auto = d / "t.npy", d / "none.sheaf", d / "auto.sheaf"
        fea, par = d / "t.feather", d / "t.parquet"
        table = arrow_table(a)
        np.save(npy, a)
        sheaf.save(none, a, codec="none")
        sheaf.save(auto, a, codec="auto")
        feather.write_feather(table, fea, compression="zstd")
        pq.write_table(table, par, compression="zstd")
        imp = f"import numpy as np, sheaf, pyarrow.feather as feather, pyarrow.parquet as pq, sys; sys.path.insert(0, {str(Path(__file__).resolve().parent)!r}); from py_bench import to_numpy; dt = np.load({str(npy)!r}, mmap_mode='r').dtype"

        # Writes (in-process, after sync). The two writers of a pair write the same data to the
        # same path in turn, the path removed first: each then reuses the page-cache memory the
        # other's file just freed (on this VM fresh memory costs more than the write itself, so
        # an overwrite would favour np.save, which truncates in place, over an atomic writer,
        # whose old file lives until the rename).
        floats = np.sin(np.arange(50_000_000) / 1e4)
        out = d / "w.out"
        pairs = [
            (("sheaf.save codec=none (ticks records)", lambda: sheaf.save(out, a, codec="none")), ("np.save (ticks records)", lambda: np.save(out, a))),
            (("sheaf.save codec=none (400 MB float64)", lambda: sheaf.save(out, floats, codec="none")), ("np.save (400 MB float64)", lambda: np.save(out, floats))),
            (("sheaf.save codec=auto (ticks records)", lambda: sheaf.save(out, a, codec="auto")), ("pq.write_table zstd (ticks)", lambda: pq.write_table(table, out, compression="zstd"))),
        ]
        for pair in pairs:
            times = {label: [] for label, _ in pair}
            for _ in range(runs):
                for label, fn in pair:
                    out.unlink(missing_ok=True)
                    subprocess.run(["sync"], check=True)
                    s = time.perf_counter()
                    fn()
                    times[label].append(time.perf_counter() - s)
            for label, _ in pair:
                rows.append(("write", label, None, statistics.median(times[label])))
        del floats
        pq.write_table(table, par, compression="zstd")

        # Full reads into NumPy records.
        reads = [
            ("sheaf.load none", f"sheaf.load({str(none)!r})"),
            ("sheaf.load auto", f"sheaf.load({str(auto)!r})"),
            ("np.load", f"np.load({str(npy)!r})"),
            ("feather zstd -> NumPy", f"to_numpy(feather.read_table({str(fea)!r}), dt)"),
            ("parquet zstd -> NumPy", f"to_numpy(pq.read_table({str(par)!r}), dt)"),
        ]
        for label, stmt in reads:
            f = fresh(timed_code(imp, stmt), runs)
            i = inproc(lambda s=stmt: eval(s, {"sheaf": sheaf, "np": np, "feather": feather, "pq": pq, "to_numpy": to_numpy, "dt": dt}), runs)
            rows.append(("read", label, f, i))

        # The Python layer's share: the Rust call that fills the records, alone, in-process,
        # into fresh output as sheaf.load uses.
        f_auto = sheaf.open(auto)[""]
        raw = f_auto._raw
        descr, which = raw.descr, list(range(len(raw.columns())))
        rust = inproc(lambda: raw.read_records_into(np.zeros(len(a), dt).view(np.uint8), which, descr), runs)
        rows.append(("read", "the Rust call alone (auto, into np.zeros)", None, rust))
        layer = inproc(lambda: sheaf.load(auto), runs)
        rows.append(("read", "sheaf.load auto (in-process, fresh output)", None, layer))

        # Open + one zero-copy column of a 1 GB plain file.
        big = d / "big.sheaf"
        bignpy = d / "big.npy"
        n = 1_000_000_000 // 8 // 4
        b = np.zeros(n, [("a", "<f8"), ("b", "<f8"), ("c", "<i8"), ("d", "<i8")])
        b["a"] = np.arange(n)
        sheaf.save(big, b, codec="none")
        np.save(bignpy, b)
        del b
        col_sheaf = f"f = sheaf.open({str(big)!r}); c = f[''].column('c')"
        col_npy = f"m = np.load({str(bignpy)!r}, mmap_mode='r'); c = m['c']"
        for label, stmt in [("sheaf.open()[a].column(c) 1 GB", col_sheaf), ("np.load(mmap_mode='r')[c] 1 GB", col_npy)]:
            f = fresh(timed_code(imp, stmt), runs)
            i = inproc(lambda s=stmt: exec(s, {"sheaf": sheaf, "np": np}), runs)
            rows.append(("open+column", label, f, i))

    print(f"ticks: {args.rows} rows, {mb:.0f} MB in memory; medians of {runs} runs\n")
    print("| what | contender | fresh process s | in-process s |")
    print("|---|---|---:|---:|")
    for what, label, f, i in rows:
        fs = "-" if f is None else (f"{f * 1000:.2f} ms" if what == "open+column" else f"{f:.3f}")
        is_ = "-" if i is None else (f"{i * 1000:.3f} ms" if what == "open+column" else f"{i:.3f}")
        print(f"| {what} | {label} | {fs} | {is_} |")


if __name__ == "__main__":
    main()
