"""Array.take: random rows, in any order, equal to numpy.take over the same data, for every
NumPy case and codec, and for tables with nulls and strings."""

import numpy as np
import pyarrow as pa
import pytest

import sheaf
from test_sheaf import CODECS, assert_exact, make_points, npy_cases  # noqa: F401 (a fixture)


@pytest.mark.parametrize("codec", CODECS)
def test_take_equals_numpy_take_for_every_numpy_case(npy_cases, tmp_path, codec):
    files, _ = npy_cases
    rng = np.random.default_rng(7)
    taken = 0
    for f in files:
        a = np.load(f, max_header_size=1 << 20)
        if a.ndim == 0 or a.shape[0] == 0:
            continue
        p = tmp_path / (f.stem + ".sheaf")
        sheaf.save(p, a, codec=codec, row_group_rows=7)
        idx = rng.integers(-a.shape[0], a.shape[0], size=25)
        with sheaf.open(p) as sf:
            arr = sf[""]
            if a.ndim > 1 and np.isfortran(a):
                with pytest.raises(sheaf.SheafError, match="Fortran"):
                    arr.take(idx)
                continue
            got = arr.take(idx)
        want = np.take(a, idx, axis=0)
        assert_exact(want, got)
        taken += 1
    assert taken > 30


def test_take_selects_fields_and_keeps_order_and_repeats(tmp_path):
    a = make_points(50_000)
    p = tmp_path / "t.sheaf"
    sheaf.save(p, a, codec="auto", row_group_rows=4096)
    idx = [49_999, 0, 17, 17, 30_001, -1]
    with sheaf.open(p) as f:
        arr = f[""]
        got = arr.take(idx, columns=["sym", "id"])
        assert got.dtype.names == ("id", "sym")
        assert np.array_equal(got["id"], a["id"][idx]) and np.array_equal(got["sym"], a["sym"][idx])
        assert_exact(a[idx], arr.take(np.array(idx, dtype=np.int32)))
        assert arr.take([]).shape == (0,)
        with pytest.raises(sheaf.SheafError, match="out of range"):
            arr.take([50_000])
        with pytest.raises(sheaf.SheafError, match="integers"):
            arr.take([0.5])


@pytest.mark.parametrize("codec", CODECS)
def test_take_from_a_table_with_nulls_and_strings(tmp_path, codec):
    n = 10_000
    rng = np.random.default_rng(3)
    ints = [None if i % 7 == 0 else int(i * 3) for i in range(n)]
    strs = [None if i % 5 == 0 else "s" * (i % 13) + str(i) for i in range(n)]
    t = pa.table({"i": pa.array(ints, pa.int64()), "s": pa.array(strs)})
    p = tmp_path / "t.sheaf"
    sheaf.save(p, t, codec=codec, row_group_rows=999)
    idx = rng.integers(0, n, size=300)
    with sheaf.open(p) as f:
        got = f[""].take(idx)
    want = t.take(pa.array(idx))
    assert list(got) == ["i", "s"]
    assert got["i"].mask.tolist() == [v is None for v in want["i"].to_pylist()]
    assert [None if m else int(v) for v, m in zip(got["i"].data, got["i"].mask)] == want["i"].to_pylist()
    assert got["s"].tolist() == want["s"].to_pylist()
