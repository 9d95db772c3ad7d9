"""The Python package against the real NumPy, pyarrow, polars and ml_dtypes: exact round trips of
every NumPy dtype, zero-copy views of the map, Arrow export and import, the batch writer, and
bad input raising (never crashing the interpreter)."""

import gc
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import ml_dtypes
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

import sheaf

REPO = Path(__file__).resolve().parents[2]
CODECS = ["none", "auto", "zstd"]


@pytest.fixture(scope="session")
def npy_cases(tmp_path_factory):
    out = tmp_path_factory.mktemp("npy_cases")
    subprocess.run([sys.executable, str(REPO / "tests/py/npy_cases.py"), str(out)], check=True)
    return sorted(out.glob("*.npy")), sorted(out.glob("*.npz"))


def assert_exact(a, b):
    assert b.dtype == a.dtype, (a.dtype, b.dtype)
    assert b.dtype.descr == a.dtype.descr
    assert b.shape == a.shape
    assert b.flags.f_contiguous == a.flags.f_contiguous and b.flags.c_contiguous == a.flags.c_contiguous
    assert b.tobytes(order="A") == a.tobytes(order="A")


@pytest.mark.parametrize("codec", CODECS)
def test_every_numpy_case_round_trips_exactly(npy_cases, tmp_path, codec):
    files, _ = npy_cases
    assert len(files) > 40
    for f in files:
        a = np.load(f, max_header_size=1 << 20)
        p = tmp_path / (f.stem + ".sheaf")
        sheaf.save(p, a, codec=codec)
        b = sheaf.load(p)
        assert isinstance(b, np.ndarray), f.name
        assert b.flags.writeable
        assert_exact(a, b)


def test_npz_archives_become_several_arrays(npy_cases, tmp_path):
    _, archives = npy_cases
    for z in archives:
        with np.load(z, max_header_size=1 << 20) as members:
            arrays = {k: members[k] for k in members.files}
        p = tmp_path / (z.stem + ".sheaf")
        sheaf.save(p, arrays)
        back = sheaf.load(p)
        assert sorted(back) == sorted(arrays)
        with pytest.raises(TypeError):
            back["new"] = 1  # a read-only mapping
        for k, a in arrays.items():
            assert_exact(a, back[k])


def test_non_contiguous_and_byte_swapped_views_save_their_values(tmp_path):
    a = np.arange(60, dtype=">i4").reshape(6, 10)[::2, 3:7]
    sheaf.save(tmp_path / "v.sheaf", a)
    b = sheaf.load(tmp_path / "v.sheaf")
    assert b.dtype == a.dtype and np.array_equal(a, b)


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(sheaf.SheafError) as e:
        sheaf.save(tmp_path / "o.sheaf", np.array([1, "x", None], dtype=object))
    assert e.value.kind == "object_array"
    assert not (tmp_path / "o.sheaf").exists()


def test_string_dtype_round_trips_with_missing_values(tmp_path):
    dt = np.dtypes.StringDType()
    a = np.array(["", "a", "héllo wörld", "\U0001f600" * 50, "x" * 1000], dtype=dt)
    sheaf.save(tmp_path / "s.sheaf", a)
    b = sheaf.load(tmp_path / "s.sheaf")
    assert b.dtype == dt and list(b) == list(a)
    na = np.dtypes.StringDType(na_object=None)
    m = np.array(["a", None, "c"], dtype=na)
    sheaf.save(tmp_path / "n.sheaf", m, codec="none")
    back = sheaf.load(tmp_path / "n.sheaf")
    assert back.dtype == na and back.tolist() == ["a", None, "c"]
    with sheaf.open(tmp_path / "n.sheaf") as f:
        assert f[""].columns == [""]


def test_ml_dtypes_keep_their_type(tmp_path):
    for t in [ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2]:
        a = np.linspace(-3, 3, 101).astype(t).reshape(1, 101)
        for codec in ["none", "auto"]:
            p = tmp_path / f"{np.dtype(t).name}_{codec}.sheaf"
            sheaf.save(p, a, codec=codec)
            b = sheaf.load(p)
            assert b.dtype == np.dtype(t) and b.shape == a.shape
            assert b.tobytes() == a.tobytes()
            with sheaf.open(p) as f:
                col = f[""].column()
                assert col.dtype == np.dtype(t) and col.tobytes() == a.tobytes()


def make_points(n=100_000):
    dt = np.dtype([("id", "<i8"), ("pos", "<f4", (3,)), ("t", "<M8[ns]"), ("sym", "S8")])
    a = np.zeros(n, dt)
    a["id"] = np.arange(n)
    a["pos"] = np.random.default_rng(1).random((n, 3), dtype=np.float32)
    a["t"] = np.arange(n).astype("M8[ns]")
    a["sym"] = [b"AAPL", b"MSFT", b"GOOG", b"AMZN"] * (n // 4)
    return a


def test_plain_columns_are_read_only_views_of_the_map_that_outlive_the_file(tmp_path):
    a = make_points()
    p = tmp_path / "plain.sheaf"
    sheaf.save(p, a, codec="none")
    f = sheaf.open(p)
    arr = f[""]
    assert arr.is_zero_copy("pos")
    pos = arr.column("pos")
    again = arr.column("pos")
    assert np.shares_memory(pos, again), "two views of one mapped column share the map"
    assert not pos.flags.writeable and not pos.flags.owndata
    buf = pos.base
    while not isinstance(buf, sheaf._sheaf.Buffer):
        buf = buf.base
    assert buf.mapped
    assert pos.shape == (len(a), 3) and np.array_equal(pos, a["pos"])
    with pytest.raises(ValueError):
        pos[0, 0] = 1.0
    f.close()
    del f, arr, again
    gc.collect()
    assert np.array_equal(pos, a["pos"]), "the view stays valid after close() and gc"
    w = sheaf.open(p)[""].column("pos", writable=True)
    w[0, 0] = 7.0
    assert w.flags.writeable and not np.shares_memory(w, pos)


def test_compressed_columns_decode_and_require_zero_copy_refuses_them(tmp_path):
    a = make_points()
    p = tmp_path / "auto.sheaf"
    sheaf.save(p, a, codec="zstd")
    with sheaf.open(p) as f:
        assert not f[""].is_zero_copy("id")
        assert np.array_equal(f[""].column("id"), a["id"])
    with sheaf.open(p, require_zero_copy=True) as f:
        with pytest.raises(sheaf.SheafError) as e:
            f[""].column("id")
        assert e.value.kind == "not_zero_copy"


def test_read_selects_fields_and_rows(tmp_path):
    a = make_points(10_000)
    p = tmp_path / "r.sheaf"
    sheaf.save(p, a, codec="auto", row_group_rows=1000)
    with sheaf.open(p) as f:
        arr = f[""]
        assert arr.dtype == a.dtype and arr.shape == a.shape and arr.nbytes == a.nbytes
        assert arr.columns == ["id", "pos", "t", "sym"]
        part = arr.read(columns=["id", "sym"], rows=slice(2500, 7100))
        assert np.array_equal(part["id"], a["id"][2500:7100])
        assert np.array_equal(part["sym"], a["sym"][2500:7100])
        assert part.dtype.names == ("id", "sym")
    b = sheaf.load(p, rows=(10, 20))
    assert_exact(a[10:20], b)


def test_iter_batches_is_bounded_and_complete(tmp_path):
    a = make_points(250_000)
    p = tmp_path / "b.sheaf"
    sheaf.save(p, a, codec="auto", row_group_rows=50_000)
    with sheaf.open(p) as f:
        sizes, parts = [], []
        for batch in f[""].iter_batches(rows=60_000):
            sizes.append(batch.nbytes)
            parts.append(batch["id"].copy())
        assert max(sizes) <= 60_000 * a.dtype.itemsize
        assert np.array_equal(np.concatenate(parts), a["id"])


def test_iter_batches_memory_stays_bounded_in_a_fresh_process(tmp_path):
    n = 4_000_000
    a = np.zeros(n, [("x", "<f8"), ("y", "<i8"), ("z", "<f8")])
    a["x"] = np.random.default_rng(3).random(n)
    p = tmp_path / "big.sheaf"
    sheaf.save(p, a, codec="zstd")
    code = f"""
import resource, sheaf
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
total = 0
with sheaf.open({str(p)!r}) as f:
    for b in f[""].iter_batches(rows=100_000):
        total += len(b)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(total, grown)
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    assert int(out[0]) == n
    # 96 MB of records in all; a batch is 2.4 MB: growth stays far below the whole.
    assert int(out[1]) * 1024 < 40 << 20, f"peak RSS grew {int(out[1]) // 1024} MB"


def test_arrow_export_to_pyarrow_and_polars(tmp_path):
    a = make_points(1000)
    p = tmp_path / "a.sheaf"
    sheaf.save(p, a, codec="none")
    with sheaf.open(p) as f:
        t = pa.table(f[""])
        assert t.column_names == ["id", "pos", "t", "sym"]
        assert t.column("id").to_pylist() == a["id"].tolist()
        assert f[""].to_arrow().equals(t)
        df = pl.from_arrow(t)
        assert df["id"].to_list() == a["id"].tolist()
        part = pa.RecordBatchReader.from_stream(f[""].arrow_stream(fields=["sym"], rows=(10, 30), batch_rows=7)).read_all()
        # S8 values keep their NUL padding as fixed_size_binary[8].
        assert part.num_rows == 20 and part.column("sym").to_pylist() == [x.ljust(8, b"\0") for x in a["sym"][10:30].tolist()]
        assert f[""].to_pandas()["id"].tolist() == a["id"].tolist()
        rb = pa.record_batch(f[""])  # through __arrow_c_array__
        assert rb.num_rows == len(a) and rb.column("t").to_pylist() == t.column("t").to_pylist()
        con = duckdb.connect()
        arr = f[""]  # DuckDB scans the local variable through __arrow_c_stream__
        got = con.sql("SELECT count(*), sum(id), max(t) FROM arr WHERE id % 3 = 0").fetchall()[0]
        assert got[0] == len(a[a["id"] % 3 == 0]) and got[1] == int(a["id"][a["id"] % 3 == 0].sum())


def test_arrow_tables_in_and_out_with_nulls_and_strings(tmp_path):
    t = pa.table(
        {
            "i": pa.array([1, None, 3], pa.int32()),
            "s": pa.array(["x", None, "zzz"]),
            "l": pa.array([[1, 2], [], None], pa.list_(pa.int64())),
            "st": pa.array([{"a": 1, "b": None}, None, {"a": None, "b": "q"}], pa.struct([("a", pa.int8()), ("b", pa.string())])),
        }
    )
    p = tmp_path / "t.sheaf"
    sheaf.save(p, t)
    with sheaf.open(p) as f:
        back = pa.table(f[""])
    assert back.equals(t)
    df = pl.DataFrame({"a": [1, 2, None], "b": ["u", "v", "w"]})
    sheaf.save(tmp_path / "pl.sheaf", df, codec="none")
    with sheaf.open(tmp_path / "pl.sheaf") as f:
        assert pl.from_arrow(pa.table(f[""])).equals(df)
        cols = sheaf.load(tmp_path / "pl.sheaf")
        assert list(cols) == ["a", "b"]
        assert cols["a"].mask.tolist() == [False, False, True]
        assert cols["b"].tolist() == ["u", "v", "w"]


def test_dlpack_hands_numeric_views_over_without_a_copy(tmp_path):
    a = np.arange(1000, dtype="<f8")
    sheaf.save(tmp_path / "d.sheaf", a, codec="none")
    with sheaf.open(tmp_path / "d.sheaf") as f:
        col = f[""].column()
        assert col.__dlpack_device__() == (1, 0)
        view = np.from_dlpack(col)
        assert np.shares_memory(view, col) and not view.flags.writeable


def test_writer_appends_batches_and_an_exception_leaves_no_file(tmp_path):
    a = make_points(30_000)
    p = tmp_path / "w.sheaf"
    with sheaf.Writer(p, a.dtype, codec="auto", row_group_rows=10_000) as w:
        for i in range(0, len(a), 7000):
            w.append(a[i : i + 7000])
        assert not p.exists(), "nothing at the path before finish"
    assert_exact(a, sheaf.load(p))
    q = tmp_path / "broken.sheaf"
    with pytest.raises(RuntimeError):
        with sheaf.Writer(q, a.dtype) as w:
            w.append(a[:100])
            raise RuntimeError("stop")
    assert not q.exists() and not [x for x in tmp_path.iterdir() if x.name.startswith(".")]
    with pytest.raises(sheaf.SheafError):
        with sheaf.Writer(q, a.dtype) as w:
            w.append(np.zeros(3, "<f8"))
    assert not q.exists()


def test_arrow_writer(tmp_path):
    t = pa.table({"x": pa.array(range(100), pa.int64()), "y": pa.array([str(i) for i in range(100)])})
    p = tmp_path / "aw.sheaf"
    with sheaf.Writer(p, t.schema, codec="zstd") as w:
        for b in t.to_batches(max_chunksize=30):
            w.append(pa.table(b))
    with sheaf.open(p) as f:
        assert pa.table(f[""]).equals(t)


def test_save_is_atomic_over_an_existing_file(tmp_path):
    p = tmp_path / "x.sheaf"
    sheaf.save(p, np.arange(10))
    with pytest.raises(sheaf.SheafError):
        sheaf.save(p, np.arange(10), codec="no-such-codec")
    assert np.array_equal(sheaf.load(p), np.arange(10))
    assert sorted(x.name for x in tmp_path.iterdir()) == ["x.sheaf"]


def test_info_reports_memory_advice(tmp_path):
    a = make_points(1000)
    sheaf.save(tmp_path / "n.sheaf", a, codec="none")
    sheaf.save(tmp_path / "z.sheaf", a, codec="zstd")
    n = sheaf.info(tmp_path / "n.sheaf")
    z = sheaf.info(tmp_path / "z.sheaf")
    cols = n["arrays"][0]["columns"]
    assert [c["name"] for c in cols] == ["id", "pos", "t", "sym"]
    assert all(c["mapped_bytes"] == c["memory_bytes"] and c["decoded_bytes"] == 0 for c in cols)
    assert all(c["decoded_bytes"] == c["memory_bytes"] and c["mapped_bytes"] == 0 for c in z["arrays"][0]["columns"])
    assert cols[0]["min"] == "0" and cols[0]["max"] == "999"
    np.save(tmp_path / "a.npy", a)
    assert sheaf.info(tmp_path / "a.npy")["format_version"] == "npy"


def test_bad_files_raise_and_never_crash(tmp_path):
    a = make_points(5000)
    p = tmp_path / "good.sheaf"
    sheaf.save(p, a, codec="auto")
    data = p.read_bytes()
    with pytest.raises(FileNotFoundError):
        sheaf.open(tmp_path / "missing.sheaf")
    (tmp_path / "empty.sheaf").write_bytes(b"")
    with pytest.raises(sheaf.SheafError) as e:
        sheaf.open(tmp_path / "empty.sheaf")
    assert e.value.kind == "too_short" and "empty.sheaf" in str(e.value)
    np.save(tmp_path / "wrong.npy", a)
    with pytest.raises(sheaf.SheafError):
        sheaf.open(tmp_path / "wrong.npy")
    rng = np.random.default_rng(11)
    failures = 0
    for i in range(60):
        bad = bytearray(data)
        if i % 3 == 0:
            bad = bad[: rng.integers(0, len(bad))]
        else:
            for at in rng.integers(0, len(bad), size=4):
                bad[at] ^= 0xFF
        q = tmp_path / f"bad{i}.sheaf"
        q.write_bytes(bytes(bad))
        try:
            b = sheaf.load(q)
            # A flip in padding or unused bytes may leave the data intact; then it must be exact.
            assert_exact(a, b)
        except sheaf.SheafError as err:
            failures += 1
            assert str(err)
    assert failures > 30


def test_threads_read_at_once(tmp_path):
    a = make_points(400_000)
    p = tmp_path / "mt.sheaf"
    sheaf.save(p, a, codec="zstd")
    results, errors = [], []

    def work():
        try:
            for _ in range(3):
                results.append(np.array_equal(sheaf.load(p)["id"], a["id"]))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 12 and all(results)


def test_docstrings_on_the_public_api():
    for name in sheaf.__all__:
        obj = getattr(sheaf, name)
        if name != "__version__":
            assert obj.__doc__ and len(obj.__doc__) > 40, name
    assert "require_zero_copy" in sheaf.open.__doc__
