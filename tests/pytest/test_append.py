"""Appending in place from Python: `sheaf.append` and `sheaf.Writer(path, mode="a")` add rows
to an existing file, readers that opened it before keep their rows (zero-copy views included),
and an exception or a mismatched batch leaves the file byte for byte as it was."""

import numpy as np
import pyarrow as pa
import pytest

import sheaf

DT = np.dtype([("id", "<i8"), ("pos", "<f4", (3,)), ("t", "<M8[ns]"), ("sym", "S8")])


def records(start, n):
    a = np.zeros(n, DT)
    a["id"] = np.arange(start, start + n)
    a["pos"] = np.arange(start, start + n, dtype="<f4")[:, None] * [1, 2, 3]
    a["t"] = np.arange(start, start + n).astype("<M8[ns]")
    a["sym"] = [b"S%d" % (i % 97) for i in range(start, start + n)]
    return a


@pytest.mark.parametrize("codec", ["none", "auto"])
def test_append_adds_rows_and_old_readers_keep_theirs(tmp_path, codec):
    p = tmp_path / "r.sheaf"
    first = records(0, 50_000)
    sheaf.save(p, first, codec=codec)
    old = sheaf.open(p)
    view = old[""].column("id")
    sheaf.append(p, records(50_000, 20_000), codec="auto")
    with sheaf.Writer(p, mode="a", codec="zstd") as w:
        w.append(records(70_000, 5))
        w.append(records(70_005, 5))
    got = sheaf.load(p)
    assert got.dtype == DT and got.shape == (70_010,)
    np.testing.assert_array_equal(got, records(0, 70_010))
    # The handle opened before the appends still reads the first version.
    assert view.shape == (50_000,) and view[-1] == 49_999
    np.testing.assert_array_equal(old[""].read(), first)
    old.close()
    assert sheaf.info(p)["arrays"][0]["rows"] == 70_010


def test_a_failed_append_leaves_the_file_as_it_was(tmp_path):
    p = tmp_path / "r.sheaf"
    sheaf.save(p, records(0, 1000))
    before = p.read_bytes()
    with pytest.raises(RuntimeError):
        with sheaf.Writer(p, mode="a") as w:
            w.append(records(1000, 100_000))
            raise RuntimeError("stop")
    assert p.read_bytes() == before
    with pytest.raises(sheaf.SheafError):
        sheaf.append(p, np.zeros(3, "<f8"))
    with pytest.raises(sheaf.SheafError, match="dtype"):
        sheaf.Writer(p, "<i4", mode="a")
    with pytest.raises(sheaf.SheafError):
        sheaf.Writer(p, DT, mode="x")
    assert p.read_bytes() == before
    assert [x.name for x in tmp_path.iterdir()] == ["r.sheaf"]


def test_arrow_tables_append_to_an_arrow_written_file(tmp_path):
    p = tmp_path / "a.sheaf"
    t = pa.table({"x": pa.array(range(100), pa.int64()), "s": pa.array([None if i % 7 == 0 else str(i) for i in range(100)])})
    sheaf.save(p, t)
    sheaf.append(p, t.slice(10, 20))
    with sheaf.open(p) as f:
        assert pa.table(f[""]).equals(pa.concat_tables([t, t.slice(10, 20)]).combine_chunks())
