"""Compares .npy / .npz files pairwise as np.load sees them: dtype (descr, offsets, itemsize,
byte order), shape, Fortran flag and every byte of every value.
python npy_compare.py A B [A B ...]; prints 'same: A' per pair, exits 1 on the first difference."""
import sys

import numpy as np


def describe(a):
    return (a.dtype, a.dtype.descr, a.dtype.itemsize, a.shape, bool(a.flags.f_contiguous and not a.flags.c_contiguous))


def same_array(a, b, where):
    if describe(a) != describe(b):
        sys.exit(f"{where}: {describe(a)} != {describe(b)}")
    if a.dtype.fields:
        for name in a.dtype.names:
            same_array(a[name], b[name], f"{where}[{name!r}]")
        return
    # Every byte of every value (NaN payloads, NaT, padding inside a value).
    if np.ascontiguousarray(a).tobytes() != np.ascontiguousarray(b).tobytes():
        sys.exit(f"{where}: values differ")


def load(path):
    if path.endswith(".npz"):
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    return {"": np.load(path, max_header_size=1 << 24)}


args = sys.argv[1:]
for a_path, b_path in zip(args[::2], args[1::2]):
    a, b = load(a_path), load(b_path)
    if sorted(a) != sorted(b):
        sys.exit(f"{a_path} vs {b_path}: members {sorted(a)} != {sorted(b)}")
    for k in a:
        same_array(a[k], b[k], f"{b_path}:{k}")
    print(f"same: {b_path}")
