"""The Python package over HTTP: ``sheaf.open``, ``sheaf.load`` and ``sheaf.info`` take URLs and
read by range requests (against ``tests/py/range_server.py`` on 127.0.0.1); remote columns are
decoded, never mapped, and a missing object is ``FileNotFoundError``."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

import sheaf

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    log = root.parent / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, str(REPO / "tests/py/range_server.py"), str(root), str(log)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield root, log, f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def requests(log):
    lines = log.read_text().splitlines() if log.exists() else []
    log.write_text("")
    return [json.loads(line) for line in lines]


def test_open_load_and_info_take_urls(server):
    root, log, base = server
    rng = np.random.default_rng(7)
    records = np.zeros(10_000, dtype=[("id", "<i8"), ("pos", "<f4", (3,)), ("t", "<M8[ns]"), ("sym", "S8")])
    records["id"] = np.arange(10_000)
    records["pos"] = rng.random((10_000, 3), dtype=np.float32)
    records["t"] = np.arange(10_000).astype("M8[s]")
    records["sym"] = [b"AB%d" % (i % 97) for i in range(10_000)]
    sheaf.save(root / "r.sheaf", records, codec="none")
    sheaf.save(root / "two.sheaf", {"a": np.arange(5), "b": np.linspace(0, 1, 7)})
    requests(log)

    loaded = sheaf.load(f"{base}/r.sheaf")
    assert loaded.dtype == records.dtype and loaded.tobytes() == records.tobytes()
    two = sheaf.load(f"{base}/two.sheaf")
    assert np.array_equal(two["a"], np.arange(5)) and np.array_equal(two["b"], np.linspace(0, 1, 7))
    requests(log)

    with sheaf.open(f"{base}/r.sheaf") as f:
        arr = f[f.arrays[0]]
        col = arr.column("pos")
        assert np.array_equal(col, records["pos"])
        # Remote columns are copies in memory, not views of a map.
        assert not arr.is_zero_copy("pos")
        assert pa.table(arr).column("id").to_pylist()[:3] == [0, 1, 2]
    got = requests(log)
    assert all(r["method"] in ("GET", "HEAD") and r["range"] for r in got), got
    assert sum(r["bytes"] for r in got) < (root / "r.sheaf").stat().st_size * 2

    with pytest.raises(sheaf.SheafError):
        sheaf.open(f"{base}/r.sheaf", require_zero_copy=True)[f.arrays[0]].column("id")

    info = sheaf.info(f"{base}/r.sheaf")
    assert info["file"] == f"{base}/r.sheaf"
    assert [c["name"] for c in info["arrays"][0]["columns"]] == ["id", "pos", "t", "sym"]


def test_remote_failures_raise(server):
    _, _, base = server
    with pytest.raises(FileNotFoundError) as e:
        sheaf.open(f"{base}/missing.sheaf")
    assert f"{base}/missing.sheaf" in str(e.value)
    with pytest.raises(sheaf.SheafError) as e:
        sheaf.open("ftp://host/a.sheaf")
    assert e.value.kind == "bad_url"
    with pytest.raises(OSError) as e:
        sheaf.open("http://127.0.0.1:9/closed.sheaf")
    assert "http://127.0.0.1:9/closed.sheaf" in str(e.value)
