"""sheaf.open_dataset: a hive-partitioned directory (or glob) of sheaf files is one table, equal to
what pyarrow.dataset reads from the same data written as Parquet; its splits pickle and read back
on their own; Dask runs a query over two worker processes with the answer of one process."""

import os
import pickle

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import sheaf


def _parts():
    """(folder, file name, table): 2023 has no label column, 2024 adds a nullable one."""
    rng = np.random.default_rng(3)
    out = []
    first = 0
    for year, files in [(2023, [400]), (2024, [250, 350])]:
        for k, n in enumerate(files):
            ids = np.arange(first, first + n, dtype=np.int64)
            cols = {"id": pa.array(ids), "x": pa.array(rng.normal(size=n)), "t": pa.array(ids * 1_000_000, pa.timestamp("us"))}
            if year == 2024:
                cols["label"] = pa.array([None if i % 4 == 0 else f"L{i % 13}" for i in ids], pa.string())
            out.append((f"year={year}", f"part-{k}", pa.table(cols)))
            first += n
    return out


@pytest.fixture
def hive(tmp_path):
    """The same partitioned data as sheaf files and as Parquet files."""
    sroot, proot = tmp_path / "sheaf", tmp_path / "parquet"
    for folder, name, table in _parts():
        (sroot / folder).mkdir(parents=True, exist_ok=True)
        (proot / folder).mkdir(parents=True, exist_ok=True)
        sheaf.save(sroot / folder / f"{name}.sheaf", table, row_group_rows=128)
        pq.write_table(table, proot / folder / f"{name}.parquet")
    (sroot / "year=2024" / "_SUCCESS").write_bytes(b"")
    return sroot, proot


def _reference(proot, schema):
    return pads.dataset(proot, format="parquet", partitioning="hive", schema=schema).to_table().sort_by("id")


def test_open_dataset_equals_pyarrow_dataset_over_the_same_parquet(hive):
    sroot, proot = hive
    ds = sheaf.open_dataset(sroot)
    assert len(ds) == 1000 and ds.partitions == ["year"] and ds.columns == ["id", "x", "t", "label", "year"]
    assert [f["partition"]["year"] for f in ds.files] == ["2023", "2024", "2024"]
    got = pa.table(ds)
    assert got.schema.field("label").nullable and got.schema.field("year").type == pa.int64()
    ref = _reference(proot, pa.schema([got.schema.field(n).with_type(pa.int32()) if n == "year" else got.schema.field(n) for n in got.column_names]))
    for name in got.column_names:
        want = ref.column(name).cast(got.schema.field(name).type)
        assert got.column(name).to_pylist() == want.to_pylist(), name
    assert got.column("label").null_count == 400 + sum(1 for i in range(400, 1000) if i % 4 == 0)
    # Columns and rows across a file boundary; a glob of one partition.
    part = ds.to_arrow(columns=["label", "id"], rows=(390, 420))
    assert part.column("id").to_pylist() == list(range(390, 420))
    assert part.column("label").to_pylist() == ref.column("label").to_pylist()[390:420]
    g = sheaf.open_dataset(str(sroot / "year=2024" / "*.sheaf"))
    assert len(g) == 600 and g.columns == ["id", "x", "t", "label"]


@pytest.fixture
def s3(monkeypatch):
    """moto's S3 server on 127.0.0.1 with bucket ``sheaf-ds``, and the environment pointing at it."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
    proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.time() < deadline, "moto did not start"
                time.sleep(0.2)
        _s3_client(port).create_bucket(Bucket="sheaf-ds")
        for k, v in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ALLOW_HTTP": "true", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_REGION": "us-east-1"}.items():
            monkeypatch.setenv(k, v)
        yield port
    finally:
        proc.kill()
        proc.wait()


def _s3_client(port):
    import boto3

    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing-secret")


def test_a_dataset_folder_on_s3_reads_as_the_local_one(hive, s3):
    sroot, _ = hive
    client = _s3_client(s3)
    for p in sorted(sroot.rglob("*")):
        if p.is_file():
            client.upload_file(str(p), "sheaf-ds", "events/" + p.relative_to(sroot).as_posix())
    remote = sheaf.open_dataset("s3://sheaf-ds/events/")
    assert [f["path"] for f in remote.files] == [f"s3://sheaf-ds/events/{k}" for k in ["year=2023/part-0.sheaf", "year=2024/part-0.sheaf", "year=2024/part-1.sheaf"]]
    assert pa.table(remote).equals(pa.table(sheaf.open_dataset(sroot)))
    # A glob on the store: partitions start at its fixed part, as for a local glob.
    glob = sheaf.open_dataset("s3://sheaf-ds/events/*/part-*.sheaf")
    assert glob.partitions == ["year"] and len(glob.files) == 3
    assert pa.table(glob).equals(pa.table(sheaf.open_dataset(str(sroot / "*" / "part-*.sheaf"))))
    assert len(sheaf.open_dataset("s3://sheaf-ds/events/year=2024/*.sheaf").files) == 2


def test_dataset_errors_name_the_files(tmp_path):
    (tmp_path / "d").mkdir()
    sheaf.save(tmp_path / "d" / "a.sheaf", pa.table({"id": pa.array([1, 2], pa.int64())}))
    sheaf.save(tmp_path / "d" / "b.sheaf", pa.table({"id": pa.array(["x"], pa.string())}))
    with pytest.raises(sheaf.SheafError, match=r"column \"id\".*a\.sheaf.*b\.sheaf"):
        sheaf.open_dataset(tmp_path / "d")
    with pytest.raises(sheaf.SheafError, match="no .sheaf files"):
        sheaf.open_dataset(tmp_path / "nothing-*.sheaf")


def test_splits_are_picklable_and_read_back_to_the_dataset(hive):
    sroot, _ = hive
    ds = sheaf.open_dataset(sroot)
    splits = ds.splits(rows=150, columns=["year", "label", "id"])
    # No split crosses a file: 400 rows in 3, 250 in 2, 350 in 3.
    assert [s.stop - s.start for s in splits] == [150, 150, 100, 150, 100, 150, 150, 50]
    back = pickle.loads(pickle.dumps(splits))
    table = pa.concat_tables([s.to_arrow() for s in back])
    assert table.equals(ds.to_arrow(columns=["year", "label", "id"]))


def test_dask_over_two_worker_processes_gives_the_one_process_answer(hive):
    import dask
    import distributed
    import pandas as pd

    sroot, _ = hive
    ds = sheaf.open_dataset(sroot)
    expected = ds.to_pandas().groupby("year").agg(n=("id", "size"), s=("x", "sum"), labels=("label", "count")).sort_index()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        df = ds.to_dask(rows=100)
        assert df.npartitions == 11
        got = df.groupby("year").agg(n=("id", "size"), s=("x", "sum"), labels=("label", "count")).compute().sort_index()
        pids = set(df.map_partitions(lambda p: pd.Series([os.getpid()] * len(p)), meta=(None, "int64")).compute())
        workers = set(client.run(os.getpid).values())
    assert len(workers) == 2 and os.getpid() not in workers
    assert pids <= workers and len(pids) == 2, (pids, workers)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, rtol=1e-12)
    with dask.config.set(scheduler="synchronous"):
        single = ds.to_dask(rows=100).groupby("year").agg(n=("id", "size"), s=("x", "sum"), labels=("label", "count")).compute().sort_index()
    pd.testing.assert_frame_equal(single, expected, check_dtype=False, rtol=1e-12)
