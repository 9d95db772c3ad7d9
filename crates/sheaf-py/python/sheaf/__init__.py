"""sheaf: typed, compressed, memory-mappable structured arrays stored by column.

A sheaf file holds named arrays -- a NumPy array of any dtype but object, or an Arrow table --
with every leaf field stored as its own column. Uncompressed columns are read back as zero-copy,
read-only NumPy views of a memory map; compressed ones decode in parallel.

Quick start::

    import numpy as np, sheaf
    a = np.zeros(1000, [("id", "<i8"), ("pos", "<f4", (3,)), ("t", "<M8[ns]")])
    sheaf.save("points.sheaf", a)                      # codec="auto": smallest per column
    b = sheaf.load("points.sheaf")                     # like np.load: the same dtype and shape
    with sheaf.open("points.sheaf") as f:
        pos = f[""].column("pos")                      # a view of the map when stored plain

Functions: :func:`save`, :func:`load`, :func:`open`, :func:`open_dataset` (a directory or glob
of files as one table), :func:`info`; classes :class:`File`, :class:`Array`, :class:`Writer`,
:class:`Dataset`, :class:`Split`; errors are :class:`SheafError` (a ``ValueError``) for a file's
content or a bad argument, and ``OSError`` (``FileNotFoundError``, ...) for the system's errors.
"""

from __future__ import annotations

import ast
import json
import os
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.lib import format as _npformat

from . import _sheaf
from ._sheaf import SheafError

__all__ = ["save", "load", "append", "open", "open_dataset", "info", "File", "Array", "Writer", "Dataset", "Split", "SheafError", "__version__"]
__version__: str = _sheaf.__version__

# Array metadata keys that carry NumPy facts the descr cannot: the ml_dtypes type of a `V<n>`
# array, and that a utf8 array was a StringDType one (with its missing-value object).
_ML_DTYPE = "numpy:ml_dtype"
_STRING_DTYPE = "numpy:string_dtype"


def _error(message: str, kind: str, path: str | None = None) -> SheafError:
    e = SheafError(message)
    e.kind = kind
    e.path = path
    return e


def _is_ml_dtype(dt: np.dtype) -> bool:
    return getattr(dt.type, "__module__", "").startswith("ml_dtypes")


def _walk_fields(dt: np.dtype) -> Iterator[np.dtype]:
    yield dt
    if dt.subdtype is not None:
        yield from _walk_fields(dt.subdtype[0])
    if dt.fields:
        for f in dt.fields.values():
            yield from _walk_fields(f[0])


def _descr_text(dt: np.dtype) -> str:
    """The dtype's descr as Python literal text, refusing what it cannot hold exactly."""
    if dt.hasobject:
        raise _error(f"object arrays are refused (dtype {dt}): sheaf stores data, never pickles", "object_array")
    if any(_is_ml_dtype(d) for d in _walk_fields(dt)) and dt.fields:
        raise _error(f"ml_dtypes fields inside a structured dtype are not supported (dtype {dt})", "unsupported_dtype")
    if any(d.kind == "T" for d in _walk_fields(dt)) and dt.fields:
        raise _error(f"StringDType fields inside a structured dtype are not supported (dtype {dt})", "unsupported_dtype")
    descr = _npformat.dtype_to_descr(dt)
    if _npformat.descr_to_dtype(descr) != dt:
        raise _error(f"dtype {dt} has no exact description (overlapping or out-of-order fields)", "unsupported_dtype")
    return repr(descr)


def _dtype_of(text: str) -> np.dtype:
    return _npformat.descr_to_dtype(ast.literal_eval(text))


def _string_parts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, str]]:
    """UTF-8 bytes, u64 offsets and validity bits (or None) of a StringDType array, C order."""
    items = a.ravel(order="C").tolist()
    valid = None
    meta = {_STRING_DTYPE: "1"}
    if hasattr(a.dtype, "na_object"):
        na = a.dtype.na_object
        meta[_STRING_DTYPE] = "none" if na is None else ("nan" if isinstance(na, float) and na != na else "str:" + str(na))
        mask = np.fromiter((x is not na and not (isinstance(x, float) and x != x) for x in items), bool, count=len(items))
        items = [x if ok else "" for x, ok in zip(items, mask)]
        if not mask.all():
            valid = np.packbits(mask, bitorder="little")
    try:
        encoded = [s.encode("utf-8") for s in items]
    except UnicodeEncodeError as e:
        raise _error(f"a string is not valid Unicode: {e}", "bad_input") from None
    offsets = np.zeros(len(encoded) + 1, np.uint64)
    np.cumsum(np.fromiter(map(len, encoded), np.uint64, count=len(encoded)), out=offsets[1:])
    return np.frombuffer(b"".join(encoded), np.uint8), offsets, valid, meta


def _prepare(name: str, obj: Any) -> tuple:
    """One array as save_records takes it: (name, descr, bytes, shape, fortran, meta, offsets, validity)."""
    a = np.asarray(obj)
    meta: dict[str, str] = {}
    if a.dtype.kind == "T":
        data, offsets, valid, meta = _string_parts(a)
        return (name, None, data, list(a.shape), False, meta, offsets.view(np.uint8), valid)
    dt = a.dtype
    if _is_ml_dtype(dt):
        meta[_ML_DTYPE] = dt.name
        dt = np.dtype(f"V{dt.itemsize}")
        a = a.view(dt)
    descr = _descr_text(dt)
    fortran = bool(a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous)
    # Records go in memory order; a Fortran-ordered array is the C-ordered transpose (as .npy).
    c = a.T if fortran else np.ascontiguousarray(a)
    data = c.reshape(-1).view(np.uint8) if dt.itemsize else np.empty(0, np.uint8)
    return (name, descr, data, list(a.shape), fortran, meta, None, None)


def save(
    path: str | os.PathLike,
    obj: Any,
    *,
    codec: str = "auto",
    row_group_rows: int | None = None,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Write ``obj`` to a new sheaf file at ``path``, atomically (a failed write leaves the old file).

    ``obj`` is a NumPy array of any dtype but object (structured, nested, subarrays, N-d, Fortran
    order, 0-d, datetimes in every unit, either byte order; StringDType becomes a utf8 column;
    ml_dtypes types such as bfloat16 keep their type), a dict of name -> array (several arrays in
    one file, like ``np.savez``), or anything with ``__arrow_c_stream__`` (a pyarrow Table or
    RecordBatchReader, a polars DataFrame, ...).

    ``codec`` is "auto" (the smallest of several pipelines per column), "none" (plain: zero-copy
    reads), "lz4", "zstd", "zstd:LEVEL" or "smallest"; ``row_group_rows`` sets the rows per chunk;
    ``metadata`` is stored with the file (strings).
    """
    path = os.fspath(path)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    if not isinstance(obj, (np.ndarray, Mapping)) and hasattr(obj, "__arrow_c_stream__"):
        _sheaf.save_arrow(path, "", obj, codec=codec, row_group_rows=row_group_rows, metadata=meta)
        return
    if isinstance(obj, Mapping):
        if not obj:
            raise _error("save of an empty dict: give at least one array", "bad_argument")
        arrays = [_prepare(str(k), v) for k, v in obj.items()]
    else:
        arrays = [_prepare("", obj)]
    _sheaf.save_records(path, arrays, codec=codec, row_group_rows=row_group_rows, metadata=meta)


def load(
    path: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    rows: Any = None,
) -> np.ndarray | Mapping[str, Any]:
    """Read a sheaf file into memory, like ``np.load``.

    A file of one array gives that array with exactly its original dtype, shape and order
    (records assembled from the columns in parallel, without the GIL: one copy); a file of several
    gives a read-only mapping of name -> array. ``columns`` picks fields by dotted path (a
    structured array of those fields); ``rows`` is a slice or (start, stop) of the first axis.
    An array NumPy cannot hold as one dtype (variable-length strings beside other fields, nulls,
    lists) comes as a read-only mapping of column path -> array (see :meth:`Array.read`).
    """
    with open(path) as f:
        names = f.arrays
        if len(names) == 1:
            return f[names[0]].read(columns=columns, rows=rows)
        return types.MappingProxyType({n: f[n].read(columns=columns, rows=rows) for n in names})


def info(path: str | os.PathLike, *, stats: bool = True) -> dict:
    """What ``sheaf inspect --json`` prints for ``path`` (any format sheaf reads; a sheaf file
    may be named by URL, as for :func:`open`), as a dict.

    Per column: dtype, encoding, chunks, stored and in-memory bytes, ratio, zero-copy, nulls,
    min/max (from stored statistics where present; ``stats=False`` skips them), and what a load
    costs in memory: ``mapped_bytes`` (viewed in the map, no copy) and ``decoded_bytes``.
    """
    return json.loads(_sheaf.info_json(os.fspath(path), stats))


def open(path: str | os.PathLike, *, require_zero_copy: bool = False, mapped: bool = True) -> File:
    """Open a sheaf file: O(1) whatever its size (a tail read of the footer).

    ``path`` may be a URL: ``s3://bucket/key``, ``gs://``, ``az://``, ``http(s)://`` (read by
    range requests, with credentials from the usual environment variables; columns are decoded
    into memory, never mapped) or ``file://``.

    Use as a context manager. ``f.arrays`` lists the arrays' names, ``f[name]`` gives an
    :class:`Array`. With ``require_zero_copy=True`` a column that cannot be a view of the map
    (compressed, or with nulls to combine) raises instead of decoding. ``mapped=False`` reads by
    position instead of mapping (for files other programs may rewrite in place).
    """
    return File(path, require_zero_copy=require_zero_copy, mapped=mapped)


def _rows_range(rows: Any, n: int) -> tuple[int, int]:
    if rows is None:
        return 0, n
    if isinstance(rows, slice):
        start, stop, step = rows.indices(n)
        if step != 1:
            raise _error("rows: a slice with a step is not supported", "bad_argument")
        return start, max(start, stop)
    if isinstance(rows, range):
        return _rows_range(slice(rows.start, rows.stop, rows.step), n)
    start, stop = rows
    return _rows_range(slice(start, stop), n)


class File:
    """An open sheaf file (see :func:`open`). Closing drops this handle only: arrays and column
    views taken from it stay valid, each keeping what it needs."""

    def __init__(self, path: str | os.PathLike, *, require_zero_copy: bool = False, mapped: bool = True):
        self.path = os.fspath(path)
        self.require_zero_copy = require_zero_copy
        self._raw = _sheaf.open_file(self.path, mapped)

    @property
    def arrays(self) -> list[str]:
        """The arrays' names, in file order."""
        return self._raw.array_names()

    @property
    def metadata(self) -> dict[str, str]:
        """The file's metadata."""
        return self._raw.metadata()

    @property
    def version(self) -> tuple[int, int]:
        """The format version (major, minor)."""
        return self._raw.version()

    def __getitem__(self, name: str) -> Array:
        return Array(self._raw.array(name), self.require_zero_copy)

    def __contains__(self, name: object) -> bool:
        return name in self.arrays

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    def close(self) -> None:
        """Drop this handle's reference to the file (views and arrays taken stay valid)."""
        self._raw.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._raw.closed

    def __enter__(self) -> File:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<sheaf.File {self.path!r} arrays={self.arrays if not self.closed else '(closed)'}>"


def _string_array(values: Any, offsets: Any, valid: np.ndarray | None, n: int, meta: str | None) -> np.ndarray:
    data = bytes(memoryview(values))
    o = np.frombuffer(offsets, np.uint64)
    items: list[Any] = [data[o[i] : o[i + 1]].decode("utf-8") for i in range(n)]
    if valid is not None or meta not in (None, "1"):
        na: Any = None
        if meta == "nan":
            na = float("nan")
        elif meta is not None and meta.startswith("str:"):
            na = meta[4:]
        dt = np.dtypes.StringDType(na_object=na)
        if valid is not None:
            items = [x if ok else na for x, ok in zip(items, valid)]
        return np.array(items, dtype=dt)
    return np.array(items, dtype=np.dtypes.StringDType())


def _bits(buf: Any, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(buf, np.uint8), count=n, bitorder="little").astype(bool)


class Array:
    """One array of an open file: its dtype and shape, its columns (zero-copy views where stored
    plain), reads of rows and fields into NumPy, and Arrow export (``pa.table(arr)``,
    ``polars.from_arrow(arr)`` and DuckDB take it through ``__arrow_c_stream__``)."""

    def __init__(self, raw: Any, require_zero_copy: bool = False):
        self._raw = raw
        self._require_zero_copy = require_zero_copy
        every = raw.columns()
        self._ncols = len(every)
        self._cols = [c for c in every if not c["row_validity"]]
        self._by_path = {c["path"]: (i, c) for i, c in enumerate(every)}
        descr = raw.descr
        self._dtype = _dtype_of(descr) if descr is not None else None
        meta = raw.metadata
        if self._dtype is not None and _ML_DTYPE in meta:
            ml = self._ml_dtype(meta[_ML_DTYPE])
            if ml is not None:
                self._dtype = ml
        if self._dtype is None and len(self._cols) == 1 and self._cols[0]["leaf"] == "utf8" and self._cols[0]["path"] == "":
            self._dtype = np.dtypes.StringDType()

    @staticmethod
    def _ml_dtype(name: str) -> np.dtype | None:
        try:
            import ml_dtypes
        except ImportError:
            return None
        return np.dtype(getattr(ml_dtypes, name))

    @property
    def name(self) -> str:
        """The array's name (``""`` for the one array of a file saved from one NumPy array)."""
        return self._raw.name

    @property
    def dtype(self) -> np.dtype | None:
        """The NumPy dtype of the records, or None when NumPy has none for them (see :meth:`read`)."""
        return self._dtype

    @property
    def shape(self) -> tuple[int, ...]:
        """The array's full shape."""
        return tuple(self._raw.shape)

    @property
    def metadata(self) -> dict[str, str]:
        """The array's own metadata."""
        return self._raw.metadata

    @property
    def nbytes(self) -> int:
        """Bytes the array takes in memory as NumPy records (or as columns when it has no dtype)."""
        if self._dtype is not None and self._dtype.kind != "T":
            return self._raw.rows * self._dtype.itemsize
        return sum(c["memory_bytes"] for c in self._cols)

    @property
    def columns(self) -> list[str]:
        """The leaf columns' dotted paths (``""`` for a plain array's one column)."""
        return [c["path"] for c in self._cols]

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 1

    def _column_info(self, path: str) -> tuple[int, dict]:
        if path not in self._by_path or self._by_path[path][1]["row_validity"]:
            raise _error(f"no column {path!r} in array {self.name!r} (columns: {', '.join(map(repr, self.columns))})", "not_found")
        return self._by_path[path]

    def is_zero_copy(self, path: str) -> bool:
        """Whether column ``path`` is stored plain in one chunk: :meth:`column` then views the map."""
        return bool(self._column_info(path)[1]["zero_copy"])

    def column(self, path: str = "", *, writable: bool = False) -> Any:
        """Column ``path`` as a NumPy array.

        Stored plain, it is a read-only view of the memory map (no copy; it keeps the map alive
        after the file is closed); otherwise it is decoded. ``writable=True`` gives a copy that
        can be written. A column with nulls comes as a ``numpy.ma.MaskedArray``; utf8 as a
        StringDType array. Elements of a subarray field add its shape; a plain array's column is
        shaped as the array.
        """
        index, c = self._column_info(path)
        if self._require_zero_copy and not c["zero_copy"]:
            raise _error(f"column {path!r} of array {self.name!r} is {c['encoding']} and cannot be a view of the map (require_zero_copy)", "not_zero_copy")
        if c["list"] or (c["variable"] and c["leaf"] != "utf8"):
            raise _error(f"column {path!r} is {c['type']}: read it through Arrow (pyarrow.table(array)) instead", "unsupported_dtype")
        values, validity, offsets = self._raw.column(index)
        return self._column_array(path, c, values, validity, offsets, c["rows"], writable, whole=True)

    def _column_array(self, path: str, c: dict, values: Any, validity: Any, offsets: Any, n: int, writable: bool, whole: bool) -> Any:
        """NumPy array of ``n`` rows of column ``c`` from its buffers (see :meth:`column`); a
        plain array's whole column takes the array's shape, else rows and the element shape."""
        valid = _bits(validity, n) if validity is not None else None
        if c["leaf"] == "utf8":
            return _string_array(values, offsets, valid, n, self.metadata.get(_STRING_DTYPE))
        dt = _dtype_of(c["descr"])
        arr = np.frombuffer(values, dtype=dt)
        if path == "" and self._dtype is not None and self._dtype.kind != "T":
            if arr.dtype != self._dtype:
                # An ml_dtypes array is stored as V<n>.
                arr = arr.view(self._dtype)
            shape = self.shape if whole else (n // max(1, int(np.prod(self.shape[1:]))), *self.shape[1:])
            arr = arr.reshape(shape[::-1]).T if self._raw.fortran_order else arr.reshape(shape)
        else:
            arr = arr.reshape((n, *c["shape"]))
        if writable:
            arr = arr.copy()
        if valid is not None:
            mask = ~valid if valid.size == arr.shape[0] else ~valid.reshape(arr.shape)
            if mask.ndim < arr.ndim:
                mask = np.broadcast_to(mask.reshape(mask.shape + (1,) * (arr.ndim - mask.ndim)), arr.shape)
            return np.ma.MaskedArray(arr, mask=mask)
        return arr

    def take(self, indices: Any, columns: Sequence[str] | None = None) -> Any:
        """The rows at ``indices`` (integers along the first axis, in any order, repeats and
        negative indices allowed, as :func:`numpy.take` takes them) of fields ``columns`` (dotted
        paths; all when None), as a new NumPy array shaped ``(len(indices), *shape[1:])``.

        Only the chunks holding those rows are read and decoded, in parallel; plain columns are
        copied from the map and one-stage random-access codecs (bitpack, dictionary) decode just
        the rows. An array NumPy cannot hold as one dtype comes as a read-only mapping of column
        path -> array, as :meth:`read` gives it; columns inside lists are not supported here
        (use Arrow).
        """
        shape = self.shape
        first = shape[0] if shape else 1
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise _error(f"take: indices must be a 1-d sequence of integers, not {idx.dtype} of shape {idx.shape}", "bad_argument")
        idx = idx.astype(np.int64, copy=False)
        bad = (idx < -first) | (idx >= first)
        if bad.any():
            raise _error(f"take: index {int(idx[bad][0])} out of range for array {self.name!r} of {first} rows", "row_range")
        idx = np.where(idx < 0, idx + first, idx).astype(np.uint64)
        if self._raw.fortran_order and len(shape) > 1:
            raise _error(f"array {self.name!r}: take of a Fortran-ordered array is not supported; read it whole", "bad_argument")
        inner = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        records = (idx[:, None] * np.uint64(inner) + np.arange(inner, dtype=np.uint64)).reshape(-1) if inner != 1 else idx
        records = np.ascontiguousarray(records, dtype=np.uint64)
        dt = self._dtype
        if dt is None or dt.kind == "T":
            wanted = self.columns if columns is None else [p for p in self.columns if any(p == s or p.startswith(s + ".") for s in columns)]
            out = {}
            for p in wanted:
                index, c = self._column_info(p)
                if c["list"] or (c["variable"] and c["leaf"] != "utf8"):
                    raise _error(f"column {p!r} is {c['type']}: take it through Arrow (pyarrow.table(array).take) instead", "unsupported_dtype")
                values, validity, offsets = self._raw.take_column(index, records.view(np.uint8))
                out[p] = self._column_array(p, c, values, validity, offsets, len(records), writable=True, whole=False)
            if dt is not None:
                return out[""]
            return types.MappingProxyType(out)
        if columns is None:
            which, descr, out_dt = list(range(self._ncols)), self._raw.descr, dt
        else:
            which, descr = self._raw.select(list(columns))
            out_dt = _dtype_of(descr)
        out = np.zeros(len(records), dtype=_dtype_of(descr))
        if out.dtype.itemsize and len(records):
            self._raw.take_records_into(out.view(np.uint8), which, descr, records.view(np.uint8))
        if out.dtype != out_dt:
            out = out.view(out_dt)
        return out.reshape((len(idx), *shape[1:]))

    def read(self, columns: Sequence[str] | None = None, rows: Any = None) -> Any:
        """Rows ``rows`` (a slice or (start, stop) of the first axis) of fields ``columns``
        (dotted paths; all when None) as a new, writable NumPy array of the original dtype (or
        the selected fields), shape and order.

        An array NumPy cannot hold as one dtype (strings beside other fields, nulls, lists) comes
        as a read-only mapping of column path -> array instead (see :meth:`column`).
        """
        dt = self._dtype
        if dt is None or dt.kind == "T":
            if rows is not None:
                raise _error(f"array {self.name!r}: rows= needs an array NumPy can hold as one dtype", "unsupported_dtype")
            wanted = self.columns if columns is None else [p for p in self.columns if any(p == s or p.startswith(s + ".") for s in columns)]
            if dt is not None:
                return self.column("")
            return types.MappingProxyType({p: self.column(p) for p in wanted})
        shape = self.shape
        inner = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        first = shape[0] if shape else 1
        start, stop = _rows_range(rows, first)
        if rows is not None and self._raw.fortran_order:
            raise _error(f"array {self.name!r}: rows= of a Fortran-ordered array is not supported; read it whole", "bad_argument")
        if columns is None:
            which, descr, out_dt = list(range(self._ncols)), self._raw.descr, dt
        else:
            which, descr = self._raw.select(list(columns))
            out_dt = _dtype_of(descr)
        # Records are filled in the stored dtype, then viewed as the array's own (an ml_dtypes
        # array is stored as V<n>).
        count = (stop - start) * inner
        out = np.zeros(count, dtype=_dtype_of(descr))
        if out.dtype.itemsize and count:
            self._raw.read_records_into(out.view(np.uint8), which, descr, start * inner, stop * inner)
        if out.dtype != out_dt:
            out = out.view(out_dt)
        if not shape:
            return out.reshape(())
        out_shape = (stop - start, *shape[1:])
        return out.reshape(out_shape[::-1]).T if self._raw.fortran_order else out.reshape(out_shape)

    def iter_batches(self, rows: int = 1 << 20, columns: Sequence[str] | None = None) -> Iterator[Any]:
        """Successive reads of ``rows`` rows each (memory stays bounded by one batch)."""
        if rows < 1:
            raise _error("iter_batches: rows must be at least 1", "bad_argument")
        n = len(self)
        for start in range(0, n, rows):
            yield self.read(columns=columns, rows=(start, min(n, start + rows)))

    def __arrow_c_schema__(self) -> Any:
        """The Arrow schema as a PyCapsule (the Arrow PyCapsule interface)."""
        return self._raw.arrow_schema()

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The rows as an Arrow C stream PyCapsule; plain columns point into the map."""
        return self._raw.arrow_stream()

    def __arrow_c_array__(self, requested_schema: Any = None) -> tuple[Any, Any]:
        """The whole array as one Arrow struct array: (schema, array) PyCapsules."""
        return self._raw.arrow_array()

    def arrow_stream(self, fields: Sequence[str] | None = None, rows: Any = None, batch_rows: int | None = None) -> Any:
        """An object with ``__arrow_c_stream__`` over rows ``rows`` of top-level ``fields``,
        ``batch_rows`` rows a batch (``pa.RecordBatchReader.from_stream`` takes it)."""
        names = self._raw.field_names()
        idx = None if fields is None else [names.index(f) for f in fields]
        start, stop = _rows_range(rows, self._raw.rows)
        raw = self._raw

        class _Stream:
            def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
                return raw.arrow_stream(idx, start, stop, batch_rows)

        return _Stream()

    def to_arrow(self) -> Any:
        """The array as a ``pyarrow.Table`` (needs pyarrow)."""
        import pyarrow as pa

        return pa.table(self)

    def to_pandas(self) -> Any:
        """The array as a pandas DataFrame, through Arrow (needs pyarrow and pandas)."""
        return self.to_arrow().to_pandas()

    def __repr__(self) -> str:
        return f"<sheaf.Array {self.name!r} shape={self.shape} dtype={self._dtype}>"


class Writer:
    """A sheaf file written batch by batch: ``with sheaf.Writer(path, dtype) as w: w.append(batch)``.

    ``dtype_or_arrow_schema`` is a NumPy dtype (then append NumPy arrays of it) or an Arrow schema
    (anything with ``__arrow_c_schema__``; then append Arrow batches or tables). Nothing appears
    at ``path`` until the ``with`` block ends without an exception (or :meth:`finish`); an
    exception, or :meth:`abort`, leaves no file and any old file untouched.

    ``mode="a"`` appends to the array ``name`` of the existing file at ``path`` (its only array
    when ``name`` is not given), in place and in time proportional to the rows added; the dtype
    is the file's, so ``dtype_or_arrow_schema`` may be left out. Readers that opened the file
    before keep the old version; the new one is committed in one step when the block ends, and
    an exception (or a crash) leaves the file as it was. One append to a file at a time.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        dtype_or_arrow_schema: Any = None,
        *,
        mode: str = "w",
        codec: str = "auto",
        row_group_rows: int | None = None,
        metadata: Mapping[str, str] | None = None,
        name: str | None = None,
    ):
        meta = {str(k): str(v) for k, v in (metadata or {}).items()}
        self.path = os.fspath(path)
        if mode == "a":
            self._raw = _sheaf.RawWriter.open_append(self.path, name, codec=codec, row_group_rows=row_group_rows, metadata=meta)
            descr = self._raw.descr
            self.dtype = _dtype_of(descr) if descr is not None else None
            given = dtype_or_arrow_schema
            if given is not None and not hasattr(given, "__arrow_c_schema__") and np.dtype(given) != self.dtype:
                self._raw.abort()
                raise _error(f"{self.path}: the file's array has dtype {self.dtype}, not {np.dtype(given)}", "schema_mismatch", self.path)
            self._arrow_ok = True
            return
        if mode != "w":
            raise _error(f"mode {mode!r}: 'w' (write a new file) or 'a' (append to an existing one)", "bad_argument")
        if dtype_or_arrow_schema is None:
            raise _error("a new file needs a NumPy dtype or an Arrow schema", "bad_argument")
        self._arrow_ok = False
        if hasattr(dtype_or_arrow_schema, "__arrow_c_schema__") and not isinstance(dtype_or_arrow_schema, np.dtype):
            self.dtype = None
            self._raw = _sheaf.RawWriter(self.path, name or "", arrow_schema=dtype_or_arrow_schema, codec=codec, row_group_rows=row_group_rows, metadata=meta)
        else:
            self.dtype = np.dtype(dtype_or_arrow_schema)
            self._raw = _sheaf.RawWriter(self.path, name or "", descr=_descr_text(self.dtype), codec=codec, row_group_rows=row_group_rows, metadata=meta)

    def append(self, batch: Any) -> None:
        """Append rows: a NumPy array of the writer's dtype, or Arrow data of its schema."""
        if self._arrow_ok and hasattr(batch, "__arrow_c_stream__"):
            self._raw.append_arrow(batch)
            return
        if self.dtype is None:
            if not hasattr(batch, "__arrow_c_stream__"):
                raise _error("this writer takes Arrow data (an object with __arrow_c_stream__)", "bad_argument")
            self._raw.append_arrow(batch)
            return
        a = np.asarray(batch)
        if a.dtype != self.dtype:
            raise _error(f"a batch of dtype {a.dtype} for a writer of dtype {self.dtype}", "schema_mismatch")
        a = np.ascontiguousarray(a).reshape(-1)
        self._raw.append_records(a.view(np.uint8) if a.dtype.itemsize else np.empty(0, np.uint8), a.size)

    @property
    def rows(self) -> int:
        """Rows appended so far."""
        return self._raw.rows

    def finish(self) -> None:
        """Write the footer and move the file into place."""
        self._raw.finish()

    def abort(self) -> None:
        """Drop everything written: no file is left."""
        self._raw.abort()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abort()


def append(
    path: str | os.PathLike,
    batch: Any,
    *,
    name: str | None = None,
    codec: str = "auto",
    row_group_rows: int | None = None,
) -> None:
    """Append the rows of ``batch`` (a NumPy array of the array's dtype, or Arrow data) to the
    array ``name`` of the sheaf file at ``path`` (its only array by default), in place.

    Atomic: readers see the old rows until the new version is committed in one step, and a
    failure or a crash leaves the file as it was. Costs time in proportion to the rows added.
    """
    with Writer(path, mode="a", name=name, codec=codec, row_group_rows=row_group_rows) as w:
        w.append(batch)


from ._dataset import Dataset, Split, open_dataset  # noqa: E402  (uses open and _rows_range)
