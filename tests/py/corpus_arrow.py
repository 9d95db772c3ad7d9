"""Runs sheaf over every Parquet and Arrow IPC file of the shared corpus:
python corpus_arrow.py SHEAF_BIN CORPUS_ROOT WORK_DIR

For each file pyarrow reads (CATALOGUE.tsv says so), `sheaf convert` to .sheaf, `sheaf verify`,
and `sheaf convert` back to the file's own format must give what pyarrow reads from the original
(exactly, or after the mappings documented in spec/arrow.md), or sheaf must refuse with one line
saying "unsupported: ...". Every other file must get exit code 0 or 1 with one line on stderr:
never a panic, a hang or a crash. Prints a JSON summary; exits 1 when any file breaks these rules.
"""
import collections
import csv
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

sheaf, root, work = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
work.mkdir(parents=True, exist_ok=True)
EXT = {"parquet": "parquet", "arrow-file": "arrow", "arrow-stream": "arrows"}
FLAG = {"parquet": "parquet", "arrow-file": "arrow", "arrow-stream": "arrows"}


def read(path, fmt):
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "arrow-file":
        return ipc.open_file(path).read_all()
    return ipc.open_stream(path).read_all()


# Every run is under a 1 GiB address-space limit: no file (decompression bombs included) may
# make sheaf allocate its way past it; sheaf's default memory limit follows (half of it).
ADDRESS_SPACE = 1 << 30


def limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run(*args):
    try:
        p = subprocess.run([sheaf, *map(str, args)], capture_output=True, text=True, timeout=120, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return None, "timeout"
    return p.returncode, p.stderr.strip()


def clean_error(code, err):
    return code == 1 and err.startswith("sheaf: error: ") and "\n" not in err and "internal error" not in err


def same_array(x, y):
    """Equal values and nulls, NaN equal to NaN (bit patterns aside)."""
    x, y = x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x, y.combine_chunks() if isinstance(y, pa.ChunkedArray) else y
    if x.type != y.type or len(x) != len(y):
        return False
    if x.equals(y):
        return True
    if pa.types.is_floating(x.type):
        import numpy as np
        if x.is_null().to_pylist() != y.is_null().to_pylist():
            return False
        xv = x.fill_null(0).to_numpy(zero_copy_only=False)
        yv = y.fill_null(0).to_numpy(zero_copy_only=False)
        return bool(np.array_equal(xv.astype("f8"), yv.astype("f8"), equal_nan=True))
    if pa.types.is_dictionary(x.type):
        return False
    if pa.types.is_struct(x.type):
        return x.is_null().equals(y.is_null()) and all(same_array(x.field(i), y.field(i)) for i in range(x.type.num_fields))
    return False


def same(a, b):
    # By position: Arrow allows a column name twice.
    return a.schema.equals(b.schema) and all(same_array(a.column(i), b.column(i)) for i in range(a.num_columns))


def normalize_array(arr):
    """spec/arrow.md: dictionary columns are stored decoded (and re-encoded on export); sheaf keeps
    struct nulls in the leaves, so a struct is null where every leaf is. Applied at every depth,
    inside lists and maps too."""
    t = arr.type
    if pa.types.is_dictionary(t):
        # A take, not a cast: pyarrow casts dictionaries of scalars only.
        return normalize_array(arr.dictionary.take(arr.indices))
    if pa.types.is_struct(t):
        children = [normalize_array(c) for c in arr.flatten()]
        fields = [pa.field(f.name, c.type, f.nullable) for f, c in zip(t, children)]
        return pa.StructArray.from_arrays(children, fields=fields)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t):
        import pyarrow.compute as pc
        offsets = pc.subtract(arr.offsets, arr.offsets[0])
        mask = arr.is_null() if arr.null_count else None
        if pa.types.is_map(t):
            keys, items = normalize_array(arr.keys), normalize_array(arr.items)
            return pa.MapArray.from_arrays(offsets, keys, items, mask=mask)
        values = normalize_array(arr.flatten())
        item = pa.field(t.value_field.name, values.type, t.value_field.nullable)
        cls, ty = (pa.ListArray, pa.list_(item)) if pa.types.is_list(t) else (pa.LargeListArray, pa.large_list(item))
        return cls.from_arrays(offsets, values, type=ty, mask=mask)
    return arr


def normalize(t):
    cols = []
    for col in t.columns:
        chunks = [normalize_array(c) for c in col.chunks]
        cols.append(pa.chunked_array(chunks, type=chunks[0].type) if chunks else col)
    return pa.table(cols, names=t.column_names)


# Where pyarrow itself is not the truth: documented divergences, each with its reason.
KNOWN_DIVERGENT = {
    "parquet/parquet-testing/data/int96_from_spark.parquet": "an INT96 timestamp beyond the nanosecond range, which pyarrow and arrow-rs wrap differently",
}


counts = collections.Counter()
reasons = collections.Counter()
failures = []
rows = list(csv.DictReader(open(root / "CATALOGUE.tsv"), delimiter="\t"))
for i, row in enumerate(rows):
    fmt = row["format"]
    if fmt not in EXT:
        continue
    src = root / row["path"]
    mid = work / f"{i}.sheaf"
    back = work / f"{i}.{EXT[fmt]}"
    readable = row["pyarrow"] == "ok" and row["intent"] in ("valid",) 
    code, err = run("convert", "-q", "--from", FLAG[fmt], src, mid)
    if row["intent"].startswith("huge-decompressed"):
        # Refused from what the file declares, before anything is decoded (inspect too).
        icode, ierr = run("inspect", src)
        if code != 1 or "memory limit" not in err or icode != 1 or "memory limit" not in ierr:
            failures.append((row["path"], "a decompression bomb was not refused by its declared size", (err + " | " + ierr)[-300:]))
        else:
            counts["bomb refused by its declared size"] += 1
        continue
    if code != 0:
        if not clean_error(code, err):
            failures.append((row["path"], "unclean failure", err[-300:]))
            continue
        if readable:
            if "unsupported:" not in err:
                failures.append((row["path"], "valid file refused without 'unsupported:'", err[-300:]))
                continue
            counts["refused"] += 1
            reasons[err.split("unsupported:", 1)[1].split(":", 1)[-1].strip()[:110]] += 1
        else:
            counts["bad file: clean error"] += 1
        continue
    code, err = run("verify", mid)
    if code != 0:
        failures.append((row["path"], "sheaf wrote a file verify rejects", err[-300:]))
        continue
    code, err = run("convert", "-q", mid, back, "--codec", "none" if fmt != "parquet" else "zstd")
    if code != 0:
        if readable and "unsupported:" not in err:
            failures.append((row["path"], "converted in but not back out", err[-300:]))
        elif not clean_error(code, err):
            failures.append((row["path"], "unclean failure on the way back", err[-300:]))
        else:
            counts["refused on the way back"] += 1
            reasons["back: " + err[-110:]] += 1
        continue
    if not readable:
        counts["bad file: read anyway"] += 1
        continue
    try:
        a, b = read(src, fmt), read(back, fmt)
    except Exception as e:  # noqa: BLE001
        failures.append((row["path"], "pyarrow cannot read what sheaf wrote", str(e)[:300]))
        continue
    # Table equality first: pyarrow cannot wrap some types (day-time intervals) as Python arrays.
    if a.equals(b) or same(a, b):
        counts["converted exactly"] += 1
        continue
    try:
        if same(normalize(a), normalize(b.cast(a.schema))):
            counts["converted with documented mapping"] += 1
            continue
    except Exception:  # noqa: BLE001
        pass
    if row["path"] in KNOWN_DIVERGENT:
        counts["documented divergence"] += 1
        reasons["divergence: " + KNOWN_DIVERGENT[row["path"]]] += 1
        continue
    diffs = [a.field(i).name for i in range(a.num_columns) if i >= b.num_columns or not a.column(i).equals(b.column(i))]
    failures.append((row["path"], "values differ", f"columns {diffs[:5]}: {a.schema} vs {b.schema}"[:400]))
    for f in (mid, back):
        f.unlink(missing_ok=True)

print(json.dumps({"counts": counts, "refusal_reasons": reasons.most_common(), "failures": failures}, indent=1))
sys.exit(1 if failures else 0)
