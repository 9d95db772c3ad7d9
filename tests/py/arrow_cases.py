"""Writes Parquet, Arrow IPC file/stream and CSV files of every type the Arrow mapping covers,
with nulls, several row groups / batches and each compression: python arrow_cases.py OUT_DIR."""
import datetime
import decimal
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
n = 3000
rng = np.random.default_rng(3)
mask = rng.random(n) < 0.1


def arr(values, typ):
    return pa.array(values, typ, mask=mask)


ints = rng.integers(-1000, 1000, n)
table = pa.table({
    "bool": arr(rng.random(n) < 0.5, pa.bool_()),
    "i8": arr(ints % 100, pa.int8()), "i16": arr(ints, pa.int16()), "i32": arr(ints * 1000, pa.int32()), "i64": arr(ints * 10**12, pa.int64()),
    "u8": arr(np.abs(ints) % 200, pa.uint8()), "u16": arr(np.abs(ints), pa.uint16()), "u32": arr(np.abs(ints) * 7, pa.uint32()), "u64": arr(np.abs(ints) * 10**15, pa.uint64()),
    "f16": arr(rng.random(n).astype(np.float16), pa.float16()), "f32": arr(rng.random(n).astype(np.float32), pa.float32()), "f64": arr(rng.normal(size=n), pa.float64()),
    "utf8": arr([f"s{i}é" for i in range(n)], pa.string()), "large_utf8": arr([f"L{i}" * (i % 4) for i in range(n)], pa.large_string()),
    "binary": arr([bytes([i % 256]) * (i % 5) for i in range(n)], pa.binary()), "large_binary": arr([b"x" * (i % 3) for i in range(n)], pa.large_binary()),
    "fixed_binary": arr([bytes([i % 256, 7]) for i in range(n)], pa.binary(2)),
    "ts_s": arr(ints, pa.int64()).cast(pa.timestamp("s")), "ts_ms_tz": arr(ints, pa.int64()).cast(pa.timestamp("ms", tz="+02:00")), "ts_us": arr(ints, pa.int64()).cast(pa.timestamp("us")), "ts_ns": arr(ints, pa.int64()).cast(pa.timestamp("ns")),
    "date32": arr(ints.astype(np.int32), pa.int32()).cast(pa.date32()), "date64": arr(ints * 86400000, pa.int64()).cast(pa.date64()),
    "time32_ms": arr(np.abs(ints).astype(np.int32), pa.int32()).cast(pa.time32("ms")), "time64_us": arr(np.abs(ints), pa.int64()).cast(pa.time64("us")),
    "dur_ns": arr(ints, pa.int64()).cast(pa.duration("ns")),
    "dec128": arr([decimal.Decimal(int(i)) / 100 for i in ints], pa.decimal128(12, 2)),
    "dict": arr([["red", "green", "blue"][i % 3] for i in range(n)], pa.string()).dictionary_encode(),
    "fsl": pa.array([[float(i), float(-i), 0.5] for i in range(n)], pa.list_(pa.float64(), 3), mask=mask),
    "fsl2": pa.array([[[i, i + 1], [i + 2, i + 3]] for i in range(n)], pa.list_(pa.list_(pa.int32(), 2), 2)),
    "tensor": pa.FixedShapeTensorArray.from_numpy_ndarray(np.arange(n * 6, dtype=np.float32).reshape(n, 2, 3)),
    "struct": pa.StructArray.from_arrays([pa.array(ints, pa.int64()), pa.array([f"n{i}" for i in range(n)])], names=["a", "b"], mask=pa.array(mask)),
    "nested": pa.StructArray.from_arrays([pa.StructArray.from_arrays([pa.array(ints.astype(np.float32))], names=["x"])], names=["inner"]),
    # Variable-length lists (null lists, empty lists, null items) and what is built of them.
    "list_i32": pa.array([None if mask[i] else [None if (i + k) % 7 == 0 else i + k for k in range(i % 4)] for i in range(n)], pa.list_(pa.int32())),
    "large_list_str": pa.array([None if mask[i] else [f"w{i}"] * (i % 3) for i in range(n)], pa.large_list(pa.string())),
    "list_struct": pa.array([[{"a": i, "b": f"b{k}"} for k in range(i % 3)] for i in range(n)], pa.list_(pa.struct([("a", pa.int64()), ("b", pa.string())]))),
    "list_list": pa.array([[[float(i)] * k for k in range(i % 3)] for i in range(n)], pa.list_(pa.list_(pa.float64()))),
    "map": pa.array([None if mask[i] else [(f"k{k}", i * k) for k in range(i % 3)] for i in range(n)], pa.map_(pa.string(), pa.int64())),
    "list_fsl": pa.array([[[float(i), 0.0, 1.0]] * (i % 2) for i in range(n)], pa.list_(pa.list_(pa.float32(), 3))),
    "null": pa.nulls(n),
})
table = table.replace_schema_metadata({"origin": "arrow_cases.py"})
for comp in ["none", "snappy", "zstd", "gzip", "lz4", "brotli"]:
    pq.write_table(table, out / f"all_{comp}.parquet", compression=comp, row_group_size=700)
for comp in ["uncompressed", "lz4", "zstd"]:
    feather.write_feather(table, out / f"all_{comp}.arrow", compression=comp, chunksize=1000)
with ipc.new_stream(out / "all.arrows", table.schema) as w:
    for b in table.to_batches(max_chunksize=900):
        w.write_batch(b)
csv_table = table.select(["bool", "i64", "f64", "utf8", "date32"])
pcsv.write_csv(csv_table, out / "some.csv")

# Arrow-only encodings and types (Parquet has no run-end encoding or list views): IPC files.
import pyarrow.compute as pc  # noqa: E402

ipc_only = pa.table({
    "ree_bool": pc.run_end_encode(arr(np.arange(n) // 7 % 2 == 0, pa.bool_())),
    "ree_i32": pc.run_end_encode(arr(np.arange(n) // 5, pa.int32())),
    "ree_str": pc.run_end_encode(arr([f"r{i // 11}" for i in range(n)], pa.string())),
    "plain_bool": arr(rng.random(n) < 0.3, pa.bool_()),
    "interval_mdn": pa.array([None if mask[i] else pa.MonthDayNano([i % 12, i % 28, i * 1000]) for i in range(n)], pa.month_day_nano_interval()),
})
feather.write_feather(ipc_only, out / "ipc_only.arrow", compression="uncompressed", chunksize=1000)

# Unions (sparse and dense, a nested child, null children), dictionaries of nested values and a
# repeated column name: Arrow IPC only (Parquet has none of them). spec/arrow.md maps each.
codes = np.where(rng.random(n) < 0.5, 3, 7).astype(np.int8)
sparse = pa.UnionArray.from_sparse(
    pa.array(codes), [arr(ints, pa.int64()), pa.array([f"s{i}" for i in range(n)])], field_names=["num", "text"], type_codes=[3, 7])
dense_codes = np.where(rng.random(n) < 0.3, 0, 1).astype(np.int8)
dense_offsets = np.zeros(n, dtype=np.int32)
counts = [0, 0]
for i, c in enumerate(dense_codes):
    dense_offsets[i] = counts[c]
    counts[c] += 1
dense = pa.UnionArray.from_dense(
    pa.array(dense_codes), pa.array(dense_offsets),
    [pa.array([None if i % 5 == 0 else [i, None, i + 1] for i in range(counts[0])], pa.list_(pa.int32())), pa.array([None if i % 9 == 0 else i / 4 for i in range(counts[1])], pa.float64())],
    field_names=["items", "x"])
words = pa.array([["a", "b"], [], None, ["c"], ["a", None]], pa.list_(pa.string()))
keys = pa.array([None if mask[i] else i % 5 for i in range(n)], pa.int8())
points = pa.array([{"x": 1.0, "tag": "p"}, {"x": None, "tag": "q"}, None], pa.struct([("x", pa.float64()), ("tag", pa.string())]))
unions = pa.Table.from_arrays(
    [sparse, dense, pa.DictionaryArray.from_arrays(keys, words), pa.DictionaryArray.from_arrays(pa.array([None if mask[i] else i % 3 for i in range(n)], pa.int16()), points),
     arr(ints, pa.int32()), pa.array([f"d{i}" for i in range(n)])],
    names=["sparse", "dense", "dict_list", "dict_struct", "dup", "dup"])
with ipc.new_file(out / "unions.arrow", unions.schema) as w:
    for b in unions.to_batches(max_chunksize=700):
        w.write_batch(b)
