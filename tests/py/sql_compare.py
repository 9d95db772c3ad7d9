"""`sheaf sql` against DuckDB: the same queries over the same data, as sheaf (through
`sheaf sql`, with 1 and 4 partitions) and as Parquet (through DuckDB). Exits 1 naming the
first query whose results differ, or when a selective filter on a sorted column pruned no
chunk segment. Usage: sql_compare.py SHEAF_BIN WORKDIR"""

import json
import math
import os
import subprocess
import sys

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sheaf, work = sys.argv[1], sys.argv[2]
n = 300_000
rng = np.random.default_rng(7)
x = rng.normal(size=n)
x[rng.integers(0, n, 50)] = np.nan
names = np.array([f"name{i % 37}" for i in range(n)], dtype=object)
names[rng.integers(0, n, 1000)] = None
t = pa.table({
    "id": pa.array(np.arange(n, dtype=np.int64)),
    "g": pa.array(rng.integers(0, 10, n).astype(np.int32)),
    "x": pa.array(x),
    "name": pa.array(names, type=pa.string()),
    "ts": pa.array((np.datetime64("2024-01-01") + np.arange(n) * np.timedelta64(1, "s")).astype("datetime64[us]")),
    "v": pa.array([None if i % 7 == 0 else i * 0.5 for i in range(n)], type=pa.float64()),
    "p": pa.StructArray.from_arrays([pa.array(rng.integers(0, 100, n)), pa.array(rng.random(n))], names=["a", "b"]),
})
dims = pa.table({"g": pa.array(np.arange(10, dtype=np.int32)), "label": pa.array([f"group {i}" for i in range(10)])})
pq.write_table(t, f"{work}/t.parquet", row_group_size=40_000)
pq.write_table(dims, f"{work}/dims.parquet")
for name in ("t", "dims"):
    subprocess.run([sheaf, "--quiet", "convert", f"{work}/{name}.parquet", f"{work}/{name}.sheaf", "--row-group-rows", "25000"], check=True)

T, D = "'{w}/t.{e}'", "'{w}/dims.{e}'"
# (sheaf sql, duckdb) pairs where the dialects differ; one string where they agree.
queries = [
    f"SELECT count(*) AS n FROM {T}",
    f"SELECT count(*) AS n, sum(x) AS sx FROM {T} WHERE id BETWEEN 120000 AND 122999",
    f"SELECT id AS id, g AS g FROM {T} WHERE id >= 299990 ORDER BY id",
    f"SELECT g AS g, count(*) AS n, avg(v) AS av, min(id) AS lo, max(id) AS hi FROM {T} GROUP BY g ORDER BY g",
    f"SELECT g AS g, count(*) AS n FROM {T} WHERE g = 3 AND id < 1000 GROUP BY g",
    f"SELECT count(*) AS n FROM {T} WHERE x > 1.5",
    # DuckDB reads this file's NaNs as no NaN at all: NumPy is the reference here.
    (f"SELECT count(*) AS n FROM {T} WHERE isnan(x)", [[int(np.isnan(x).sum())]]),
    (f"SELECT count(*) AS n FROM {T} WHERE x > 1e300", [[int(np.isnan(x).sum())]]),
    f"SELECT count(*) AS n, count(v) AS nv FROM {T} WHERE v IS NULL OR id < 10",
    f"SELECT name AS name, count(*) AS n FROM {T} WHERE name LIKE 'name1%' GROUP BY name ORDER BY name",
    f"SELECT count(*) AS n FROM {T} WHERE name IS NULL",
    (f"SELECT count(*) AS n FROM {T} WHERE ts >= TIMESTAMP '2024-01-02 00:00:00' AND ts < TIMESTAMP '2024-01-02 01:00:00'",) * 2,
    (f"SELECT CAST(to_unixtime(max(ts)) AS BIGINT) AS t FROM {T}", f"SELECT CAST(epoch(max(ts)) AS BIGINT) AS t FROM {T}"),
    (f"SELECT sum(p['a']) AS sa, count(*) AS n FROM {T} WHERE p['b'] < 0.25", f"SELECT sum(p.a) AS sa, count(*) AS n FROM {T} WHERE p.b < 0.25"),
    f"SELECT d.label AS label, count(*) AS n, sum(t.x) AS sx FROM {T} t JOIN {D} d ON t.g = d.g WHERE t.id % 1000 = 0 GROUP BY d.label ORDER BY d.label",
    f"SELECT id AS id, name AS name FROM {T} WHERE g = 5 ORDER BY id LIMIT 7",
    f"SELECT count(*) AS n FROM (SELECT id FROM {T} LIMIT 12345)",
]


def norm(v):
    if isinstance(v, float):
        return None if math.isnan(v) else float(f"{v:.9g}")
    return v


def sheaf_rows(q, partitions):
    out = subprocess.run([sheaf, "sql", "--json", "--partitions", str(partitions), q], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"sheaf sql failed ({out.returncode}) on {q}: {out.stderr.strip()}")
    return json.loads(out.stdout)


failures = 0
for q in queries:
    ours, theirs = q if isinstance(q, tuple) else (q, q)
    ours = ours.format(w=work, e="sheaf")
    if isinstance(theirs, list):
        cols, want = ["n"], theirs
    else:
        res = duckdb.sql(theirs.format(w=work, e="parquet"))
        cols = [d[0] for d in res.description]
        want = [[norm(v) for v in row] for row in res.fetchall()]
    for parts in (1, 4):
        got = [[norm(r.get(c)) for c in cols] for r in sheaf_rows(ours, parts)]
        if got != want:
            failures += 1
            print(f"DIFFERENT with {parts} partitions: {ours}\n  sheaf:  {got[:5]}\n  duckdb: {want[:5]}")
print(f"{len(queries)} queries, {failures} differences")

# A 1% range on the sorted column: the chunk statistics must skip most segments.
q = f"EXPLAIN ANALYZE SELECT count(*) FROM '{work}/t.sheaf' WHERE id BETWEEN 150000 AND 152999"
out = subprocess.run([sheaf, "sql", "--partitions", "1", q], capture_output=True, text=True, check=True).stdout
pruned = [int(p.split("=")[1].split(",")[0].split(" ")[0]) for p in out.replace("|", " ").split() if p.startswith("chunk_segments_pruned=")]
print("chunk segments pruned:", pruned)
if not pruned or max(pruned) < 10:
    print("the sorted-column filter pruned too little:\n" + out)
    failures += 1
sys.exit(1 if failures else 0)
