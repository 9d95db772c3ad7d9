"""Writes .npy and .npz files covering every dtype NumPy can save except object, for the
round-trip tests: python npy_cases.py OUT_DIR. Prints nothing; the files are named by case."""
import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)


def fill(a):
    """Deterministic bytes in every field, zero padding (arrays start zeroed)."""
    if a.dtype.names is None:
        tmp = np.zeros(a.shape, a.dtype)
        raw = tmp.reshape(-1).view(np.uint8)
        raw[:] = rng.integers(0, 256, size=raw.size, dtype=np.uint8)
        if a.dtype.kind == "b":
            raw[:] = raw % 2
        if a.dtype.kind == "U":
            order = ">" if a.dtype.byteorder == ">" else "<"
            cps = rng.integers(0x20, 0xD7FF, size=raw.size // 4, dtype=np.uint32).astype(order + "u4")
            raw[:] = cps.view(np.uint8)
        a[...] = tmp
        return a
    for name in a.dtype.names:
        fill(a[name])
    return a


def save(name, a):
    np.save(out / f"{name}.npy", a)


n = 257
scalars = ["?", "i1", "u1"] + [o + t for o in "<>" for t in ["i2", "i4", "i8", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16"]]
for t in scalars:
    save("scalar_" + t.replace("<", "le_").replace(">", "be_").replace("?", "bool"), fill(np.zeros(n, t)))
for t in ["S1", "S7", "V5", "<U1", "<U6", ">U3"]:
    save("str_" + t.replace("<", "le").replace(">", "be"), fill(np.zeros(n, t)))
for unit in ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"]:
    for kind in "Mm":
        a = np.arange(n, dtype="i8").view(f"<{kind}8[{unit}]").copy()
        a[3] = np.array("NaT", f"{kind}8[{unit}]")
        save(f"time_{kind}8_{unit}", a)
save("time_M8_25s", np.arange(n, dtype="i8").view("<M8[25s]").copy())
save("time_m8_generic", np.arange(n, dtype="i8").view("<m8").copy())
save("time_be_M8_ns", np.arange(n, dtype=">i8").view(">M8[ns]").copy())
# NaN payloads and signed zeros survive bit for bit.
f = np.array([np.nan, -np.nan, 0.0, -0.0, np.inf, -np.inf, 1.5], "<f8")
f.view("<u8")[0] = 0x7FF8_0000_DEAD_BEEF
save("float_specials", f)

particles = np.dtype([("id", "<i8"), ("pos", "<f4", (3,)), ("vel", "<f4", (3,)), ("mass", "<f8"), ("flag", "u1")])
save("struct_particles", fill(np.zeros(n, particles)))
ticks = np.dtype([("ts", "<M8[ns]"), ("price", "<f8"), ("size", "<i4"), ("side", "u1"), ("symbol", "S8")])
save("struct_ticks", fill(np.zeros(n, ticks)))
nested = np.dtype([("a", [("b", ">i2"), ("c", [("d", "<f8", (2, 2)), ("e", "S3")])]), ("m", "<f8", (4, 3)), ("sub", [("x", "<f4"), ("s", "S2")], (2,))])
save("struct_nested", fill(np.zeros(n, nested)))
# A subarray whose base is itself a subarray, as numpy.lib.format.descr_to_dtype builds it: a
# different dtype from the folded ('<f4', (3, 2)).
nested_sub = np.lib.format.descr_to_dtype([("a", ("<f4", (2,)), (3,)), ("b", "<i2")])
save("struct_nested_subarray", fill(np.zeros(n, nested_sub)))
aligned = np.dtype([("a", "u1"), ("b", "<i8"), ("c", "u2"), ("d", "<f4")], align=True)
save("struct_aligned", fill(np.zeros(n, aligned)))
offsets = np.dtype({"names": ["x", "y"], "formats": ["<i4", "<f8"], "offsets": [4, 16], "itemsize": 32})
save("struct_offsets", fill(np.zeros(n, offsets)))
titles = np.dtype({"names": ["t", "p"], "formats": ["<f8", "<i4"], "titles": ["Temperature", "Pressure"]})
save("struct_titles", fill(np.zeros(n, titles)))
wide = np.dtype([(f"f{i}", "<f4" if i % 2 else "<i2") for i in range(3000)])
save("struct_wide_3000_fields", fill(np.zeros(3, wide)))
unicode_names = np.dtype([("température", "<f8"), ("温度", "<i4")])
save("struct_unicode_names", fill(np.zeros(n, unicode_names)))

save("shape_0d", np.array(3.25, "<f8"))
save("shape_empty", np.zeros(0, particles))
save("shape_empty_2d", np.zeros((0, 4), "<i4"))
save("shape_2d_c", fill(np.zeros((17, 5), "<f8")))
save("shape_3d_fortran", np.asfortranarray(fill(np.zeros((4, 5, 6), ">i4"))))
save("shape_2d_fortran_struct", np.asfortranarray(fill(np.zeros((6, 7), particles))))

np.savez(out / "archive_stored.npz", a=fill(np.zeros(n, particles)), b=np.arange(10, dtype="<i2"), c=np.array(1.5))
np.savez_compressed(out / "archive_deflated.npz", x=fill(np.zeros(n, ticks)), y=np.asfortranarray(fill(np.zeros((3, 4), "<f4"))))
