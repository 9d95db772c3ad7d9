"""Datasets: a directory (hive ``key=value`` folders) or glob of sheaf files as one table.

:func:`open_dataset` lists the files and reads their footers; :class:`Dataset` streams the rows
out through the Arrow C stream interface (``pa.table(ds)``, ``polars.from_arrow``, DuckDB) and
cuts them into :class:`Split` s: small picklable descriptions (path, row range, columns) that a
worker process reads by opening that one file's footer -- what Dask (:meth:`Dataset.to_dask`)
and other engines schedule.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import _sheaf

#: Rows a split covers at most when the caller does not say (splits also end at file ends).
DEFAULT_SPLIT_ROWS = 1 << 20


def open_dataset(path: str | os.PathLike) -> Dataset:
    """Open a dataset: a directory of ``.sheaf`` files (recursively; hive ``key=value`` folders
    become columns), a glob such as ``"events/*/*.sheaf"``, or a folder on an object store
    (``"s3://bucket/events/"``: a URL ending in ``/``; its files are read by range requests).

    Files may differ by added nullable columns (they read as nulls where absent); any other
    difference raises :class:`SheafError` naming the files. Names starting with ``.`` or ``_``
    are passed over. Only the footers are read here.
    """
    return Dataset(_sheaf.open_dataset(os.fspath(path)))


@dataclass(frozen=True)
class Split:
    """Rows ``start:stop`` of one file of a dataset, for a worker to read on its own.

    Carries what the read needs without listing the dataset again: the file, its row range,
    the columns wanted, the file's partition values, and the dataset's Arrow schema of those
    columns (so columns the file lacks come back as typed nulls). Picklable.
    """

    path: str
    start: int
    stop: int
    columns: tuple[str, ...]
    partition: tuple[tuple[str, str | None], ...]
    schema: Any

    def to_arrow(self) -> Any:
        """The split's rows as a ``pyarrow.Table`` with the dataset's schema (needs pyarrow)."""
        import pyarrow as pa

        from . import open as _open

        n = self.stop - self.start
        values = dict(self.partition)
        with _open(self.path) as f:
            array = f[f.arrays[0]]
            own = pa.schema(array).names
            have = [c for c in self.columns if c in own]
            read = pa.RecordBatchReader.from_stream(array.arrow_stream(fields=have, rows=(self.start, self.stop))).read_all() if have else None
        out = []
        for name in self.columns:
            field = self.schema.field(name)
            if name in have:
                column = read.column(name)
                out.append(column if column.type == field.type else column.cast(field.type))
            elif name in values:
                v = values[name]
                out.append(pa.nulls(n, field.type) if v is None else pa.array([int(v) if pa.types.is_integer(field.type) else v] * n, field.type))
            else:
                out.append(pa.nulls(n, field.type))
        return pa.Table.from_arrays(out, schema=self.schema)

    def to_pandas(self) -> Any:
        """The split's rows as a pandas DataFrame (needs pyarrow and pandas)."""
        return self.to_arrow().to_pandas()


def _split_to_pandas(split: Split) -> Any:
    return split.to_pandas()


class Dataset:
    """A directory or glob of sheaf files as one table (see :func:`open_dataset`)."""

    def __init__(self, raw: Any):
        self._raw = raw

    @property
    def name(self) -> str:
        """The root folder's name."""
        return self._raw.name

    @property
    def root(self) -> str:
        """The folder the files were listed from, where partition folders start."""
        return self._raw.root

    @property
    def columns(self) -> list[str]:
        """The top-level columns: the files' fields in the order first seen, then partitions."""
        return self._raw.field_names()

    @property
    def partitions(self) -> list[str]:
        """The hive partition columns."""
        return self._raw.partition_columns()

    @property
    def files(self) -> list[dict[str, Any]]:
        """Per file, in the order its rows come: ``path``, ``rows`` and ``partition`` values."""
        keys = self.partitions
        return [{"path": p, "rows": n, "partition": dict(zip(keys, vals))} for p, n, vals in self._raw.files()]

    def __len__(self) -> int:
        return self._raw.rows

    def _indices(self, columns: Sequence[str] | None) -> list[int] | None:
        if columns is None:
            return None
        names = self.columns
        for c in columns:
            if c not in names:
                raise _sheaf.SheafError(f"{self.root}: no column {c!r} (columns: {', '.join(names)})")
        return [names.index(c) for c in columns]

    def __arrow_c_schema__(self) -> Any:
        """The dataset's Arrow schema as a PyCapsule."""
        return self._raw.arrow_schema()

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """All rows as an Arrow C stream PyCapsule, file after file."""
        return self._raw.arrow_stream()

    def arrow_stream(self, columns: Sequence[str] | None = None, rows: Any = None, batch_rows: int | None = None) -> Any:
        """An object with ``__arrow_c_stream__`` over rows ``rows`` (a ``(start, stop)`` pair or
        slice of the whole dataset) of ``columns``, at most ``batch_rows`` rows a batch."""
        from . import _rows_range

        idx = self._indices(columns)
        start, stop = _rows_range(rows, len(self))
        raw = self._raw

        class _Stream:
            def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
                return raw.arrow_stream(idx, start, stop, batch_rows)

        return _Stream()

    def to_arrow(self, columns: Sequence[str] | None = None, rows: Any = None) -> Any:
        """The rows as one ``pyarrow.Table`` (needs pyarrow)."""
        import pyarrow as pa

        return pa.RecordBatchReader.from_stream(self.arrow_stream(columns, rows)).read_all()

    def to_pandas(self, columns: Sequence[str] | None = None, rows: Any = None) -> Any:
        """The rows as a pandas DataFrame, through Arrow (needs pyarrow and pandas)."""
        return self.to_arrow(columns, rows).to_pandas()

    def splits(self, rows: int | None = None, columns: Sequence[str] | None = None) -> list[Split]:
        """The dataset cut into :class:`Split` s of at most ``rows`` rows, none across a file
        boundary, in row order (needs pyarrow, for the schema a split carries)."""
        import pyarrow as pa

        step = DEFAULT_SPLIT_ROWS if rows is None else rows
        if step < 1:
            raise _sheaf.SheafError("splits: rows must be at least 1")
        names = tuple(self.columns if columns is None else columns)
        self._indices(names)
        full = pa.schema(self)
        schema = pa.schema([full.field(n) for n in names], metadata=full.metadata)
        out = []
        for f in self.files:
            part = tuple(f["partition"].items())
            for start in range(0, f["rows"], step):
                out.append(Split(f["path"], start, min(f["rows"], start + step), names, part, schema))
        return out

    def to_dask(self, columns: Sequence[str] | None = None, rows: int | None = None) -> Any:
        """A ``dask.dataframe.DataFrame`` with a partition per :class:`Split` (needs dask,
        pandas and pyarrow). Run it on any Dask scheduler, a ``distributed`` cluster included:
        each worker reads only its files' footers and rows."""
        import dask.dataframe as dd

        splits = self.splits(rows=rows, columns=columns)
        meta = splits[0].schema.empty_table().to_pandas() if splits else self.to_pandas(columns, rows=(0, 0))
        return dd.from_map(_split_to_pandas, splits, meta=meta, enforce_metadata=False)

    def __repr__(self) -> str:
        return f"<sheaf.Dataset {self.root!r}: {len(self._raw.files())} files, {len(self)} rows, columns {self.columns}>"
