"""An independent sheaf v1 reader, written from spec/ (format.md, dtypes.md, codecs.md) alone.

It reads plain files and the stages zstd, delta, blockpack (format 1.2), dictionary-ans (1.3) and tuple-ans (1.4), checks the magic, version, footer checksum, chunk
table checksums and buffer checksums, and rebuilds every column as a NumPy array, lists (format
1.1) included: a list column's stored end offsets become each row's length. Run as

    python spec_reader.py EXPECTED.json FILE.sheaf [FILE.sheaf ...]

where EXPECTED.json lists, per array and column, the values every row must hold. Prints
"<file>: ok" per file and exits non-zero on the first difference.
"""
import json
import struct
import sys

import numpy as np
import xxhash
import zstandard

MAGIC = b"\x89SHF\r\n\x1a\n"
TRAILER = 64
DIR_ENTRY = 32
CHUNK_ENTRY = 144
BUFFER_REF = 40
STAGE_DELTA = 2
STAGE_BLOCKPACK = 9
STAGE_DICTIONARY_ANS = 10
STAGE_TUPLE_ANS = 11
STAGE_ZSTD = 16


class SpecError(Exception):
    pass


def u64(b, at):
    return struct.unpack_from("<Q", b, at)[0]


def parse_trailer(data):
    if len(data) < 128 or data[:8] != MAGIC or data[-8:] != MAGIC:
        raise SpecError("bad magic or too short")
    major, _minor = struct.unpack_from("<HH", data, 8)
    if major != 1:
        raise SpecError(f"major version {major}")
    t = data[-TRAILER:]
    schema_off, schema_len, dir_off = struct.unpack_from("<QQQ", t, 0)
    (ncols,) = struct.unpack_from("<I", t, 24)
    (checksum,) = struct.unpack_from("<Q", t, 40)
    schema = data[schema_off:schema_off + schema_len]
    directory = data[dir_off:dir_off + ncols * DIR_ENTRY]
    if xxhash.xxh3_64_intdigest(schema + directory + t[:40]) != checksum:
        raise SpecError("footer checksum")
    return json.loads(schema), directory, ncols


def version_count(data, schema):
    """1, plus one for each earlier version a file that was appended to holds (format 1.6): the
    schema document names where the previous version's trailer starts, and that version is the
    file's bytes up to that trailer's end, with a footer of its own."""
    n = 1
    while "previous" in schema:
        t = data[-TRAILER:]
        schema_off, _, dir_off = struct.unpack_from("<QQQ", t, 0)
        at = schema["previous"]["trailer_offset"]
        if at < 64 or at + TRAILER > min(schema_off, dir_off):
            raise SpecError(f"previous trailer at {at} is not below the footer")
        data = data[:at + TRAILER]
        schema, _, _ = parse_trailer(data)
        n += 1
    return n


def leaves(dtype, path=(), shape=(), level=0, levels=None):
    """Depth-first leaf columns: (path, leaf dict, subarray shape, level of rows). A list gives
    its own column (type u8: end offsets) and then its item's columns, at a new level numbered
    in column order (dtypes.md#flattening)."""
    levels = [0] if levels is None else levels
    if "type" in dtype:
        if dtype.get("items_nullable") and dtype.get("nullable") and shape:
            # Format 1.5: the rows' own nulls, before a leaf whose elements are nullable one by one.
            yield list(path) + ["{}"], {"type": "V0", "nullable": True}, [], level
        yield list(path), dtype, list(shape), level
    elif "subarray" in dtype:
        yield from leaves(dtype["subarray"], path, tuple(shape) + tuple(dtype["shape"]), level, levels)
    elif "list" in dtype:
        levels[0] += 1
        items = levels[0]
        yield list(path), {"type": "u8", "nullable": dtype.get("nullable", False), "list": items}, list(shape), level
        yield from leaves(dtype["list"], path + ("[]",), (), items, levels)
    else:
        if dtype.get("nullable", False):
            # Format 1.5: a nullable struct's own validity, a zero-width column before its fields.
            yield list(path) + ["{}"], {"type": "V0", "nullable": True}, list(shape), level
        for f in dtype["fields"]:
            yield from leaves(f["dtype"], path + (f["name"],), shape, level, levels)


def unit_width(type_text):
    """dtypes.md: what codec stages treat as one value."""
    if type_text in ("utf8", "binary"):
        return 1
    size = numpy_leaf(type_text).itemsize
    return size // 2 if type_text[0] == "c" else size


def numpy_leaf(type_text):
    """The little-endian NumPy dtype of a fixed-width leaf type string."""
    if type_text == "b1":
        return np.dtype("?")
    kind = type_text[0]
    if kind in "SV":
        return np.dtype("|" + type_text)
    return np.dtype("<" + type_text)


def buffer_ref(entry, at):
    off, stored, decoded, checksum = struct.unpack_from("<QQQQ", entry, at)
    stages = [s for s in entry[at + 32:at + 40]]
    stages = stages[:stages.index(0)] if 0 in stages else stages
    return off, stored, decoded, checksum, stages


def undo_delta(raw, width):
    """codecs.md#delta: a running sum modulo 2^(8w) of w-byte unsigned integers."""
    vals = np.frombuffer(raw, f"<u{width}")
    return np.cumsum(vals, dtype=f"<u{width}").tobytes()


def undo_blockpack(raw, width):
    """codecs.md#blockpack: per block of L values, value - minimum in b bits, LSB first."""
    if width not in (1, 2, 4, 8) or len(raw) < 24:
        raise SpecError(f"blockpack: width {width}, {len(raw)} bytes")
    count, block, zero, first = struct.unpack_from("<QIIQ", raw, 0)
    if zero or block == 0 or block % 8 or first >> (8 * width):
        raise SpecError(f"blockpack: block length {block}, reserved {zero}, first value {first}")
    if count == 0:
        return b""
    blocks = -(-(count - 1) // block)
    widths = raw[24:24 + blocks]
    refs = np.frombuffer(raw, f"<i{width}", blocks, 24 + blocks).astype(np.int64)
    at = 24 + blocks * (1 + width)
    out = np.zeros(count, np.uint64)
    out[0] = first
    for j in range(blocks):
        n, b = min(block, count - 1 - j * block), widths[j]
        if b > 8 * width:
            raise SpecError(f"blockpack: block {j} width {b}")
        size = (n * b + 7) // 8
        bits = np.unpackbits(np.frombuffer(raw, np.uint8, size, at), bitorder="little")
        at += size
        weights = np.uint64(1) << np.arange(b, dtype=np.uint64)
        packed = (bits[:n * b].reshape(n, b).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64) if b else np.zeros(n, np.uint64)
        out[1 + j * block:1 + j * block + n] = packed + refs[j].astype(np.uint64)
    if at != len(raw):
        raise SpecError(f"blockpack: {len(raw)} bytes, the widths need {at}")
    return out.astype(f"<u{width}").tobytes()


def varint(raw, at):
    """LEB128: 7 bits a byte, low group first; returns (value, next offset)."""
    value, shift = 0, 0
    while True:
        if at >= len(raw) or shift > 63:
            raise SpecError(f"dictionary-ans: varint at {at}")
        b = raw[at]
        at += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, at


def undo_dictionary_ans(raw, width, tuples=False):
    """codecs.md#dictionary-ans: ascending entries, tANS-coded indices in four lanes; with
    `tuples`, codecs.md#tuple-ans: the symbols are tuples of T indices."""
    if not 1 <= width <= 8 or len(raw) < 24:
        raise SpecError(f"dictionary-ans: width {width}, {len(raw)} bytes")
    count, n = u64(raw, 0), u64(raw, 8)
    log, shift = raw[16], raw[17]
    size = 1 << log
    if log > 14 or shift > 63 or n > 4096 or (n > size and not tuples) or (count > 0 and n == 0):
        raise SpecError(f"dictionary-ans: log {log}, shift {shift}, {n} entries, {count} values")
    t = raw[18] if tuples else 1
    if tuples and (not 2 <= t <= 4 or any(raw[19:24])):
        raise SpecError(f"tuple-ans: tuple length {t}, reserved bytes {raw[19:24].hex()}")
    at = 24
    entries = []
    for e in range(n):
        v, at = varint(raw, at)
        value = v << shift if e == 0 else entries[-1] + ((v + 1) << shift)
        if value >= 1 << (8 * width):
            raise SpecError(f"dictionary-ans: entry {e} out of range")
        entries.append(value)
    symbols = [(e,) for e in entries]
    if tuples and n > 0:
        m, at = varint(raw, at)
        if not 1 <= m <= 4096 or m > size:
            raise SpecError(f"tuple-ans: {m} tuples, table of {size}")
        symbols, key = [], -1
        for i in range(m):
            step, at = varint(raw, at)
            key = step if i == 0 else key + step + 1
            if key >= n ** t:
                raise SpecError(f"tuple-ans: key {key} of tuple {i} is not below {n}^{t}")
            digits = [(key // n ** (t - 1 - d)) % n for d in range(t)]
            symbols.append(tuple(entries[d] for d in digits))
    freqs = []
    for _ in range(len(symbols)):
        f, at = varint(raw, at)
        freqs.append(f + 1)
    if count == 0:
        return b""
    if sum(freqs) != size:
        raise SpecError(f"dictionary-ans: frequencies sum to {sum(freqs)}, not {size}")
    states = list(struct.unpack_from("<4H", raw, at))
    at += 8
    if any(x >= size for x in states):
        raise SpecError(f"dictionary-ans: initial states {states}")
    stride = (size // 2 + size // 8 + 3) | 1
    slot, p = [0] * size, 0
    for e, f in enumerate(freqs):
        for _ in range(f):
            slot[p] = e
            p = (p + stride) % size
    counter = list(freqs)
    bits, base = [0] * size, [0] * size
    for u in range(size):
        e = slot[u]
        y = counter[e]
        counter[e] += 1
        bits[u] = log - (y.bit_length() - 1)
        base[u] = (y << bits[u]) - size
    stream = int.from_bytes(raw[at:], "little")
    pos = 0
    out = np.empty(-(-count // t) * t, dtype=np.uint64)
    for i in range(-(-count // t)):
        j = i % 4
        u = states[j]
        out[i * t:i * t + t] = symbols[slot[u]]
        k = bits[u]
        states[j] = base[u] + ((stream >> pos) & ((1 << k) - 1))
        pos += k
    if len(raw) - at != (pos + 7) // 8 or any(states):
        raise SpecError(f"dictionary-ans: {len(raw) - at} stream bytes, {pos} bits read, final states {states}")
    return b"".join(int(v).to_bytes(8, "little")[:width] for v in out[:count])


def read_buffer(data, ref, width):
    off, stored, decoded, checksum, stages = ref
    raw = data[off:off + stored]
    if off % 64:
        raise SpecError(f"buffer at {off} not aligned")
    if xxhash.xxh3_64_intdigest(raw) != checksum:
        raise SpecError(f"buffer checksum at {off}")
    out = raw
    for stage in reversed(stages):
        if stage == STAGE_ZSTD:
            out = zstandard.ZstdDecompressor().decompress(out)
        elif stage == STAGE_DELTA:
            out = undo_delta(out, width)
        elif stage == STAGE_BLOCKPACK:
            out = undo_blockpack(out, width)
        elif stage in (STAGE_DICTIONARY_ANS, STAGE_TUPLE_ANS):
            out = undo_dictionary_ans(out, width, tuples=stage == STAGE_TUPLE_ANS)
        else:
            raise SpecError(f"this reader handles zstd, delta, blockpack, dictionary-ans and tuple-ans, not stage {stage}")
    if len(out) != decoded:
        raise SpecError(f"buffer at {off}: {len(out)} bytes, {decoded} declared")
    return out


chunk_rows = []  # rows of each chunk of the column read last


def statistics_tables(data, schema, ncols):
    """Per column, the list of its chunks' statistics entries (format.md, Statistics), or None."""
    ext = [e for e in schema.get("extensions", []) if e["name"] == "statistics"]
    for e in schema.get("extensions", []):
        region = data[e["offset"]:e["offset"] + e["length"]]
        if e["offset"] % 64 or xxhash.xxh3_64_intdigest(region) != e["checksum"]:
            raise SpecError(f"extension {e['name']}: misaligned or checksum mismatch")
    if not ext:
        return [None] * ncols
    e = ext[0]
    end = e["offset"] + e["length"]
    index = data[end - 24 * ncols:end]
    out = []
    for c in range(ncols):
        off, length, checksum = struct.unpack_from("<QQQ", index, 24 * c)
        if off == 0 and length == 0:
            out.append(None)
            continue
        table = data[off:off + length]
        if xxhash.xxh3_64_intdigest(table) != checksum or length % 80:
            raise SpecError(f"column {c}: statistics table checksum or length")
        entries = []
        for k in range(length // 80):
            ent = table[80 * k:80 * (k + 1)]
            nan_count, flags, min_len, max_len = struct.unpack_from("<QBBB", ent, 0)
            entries.append({"nan": nan_count, "flags": flags, "min": ent[16:48], "max": ent[48:80], "min_len": min_len, "max_len": max_len})
        out.append(entries)
    return out


def check_statistics(p, leaf, values, valid, entries):
    """The stored bounds of each chunk against the chunk's values as read."""
    kind = leaf["type"][0] if leaf["type"] not in ("utf8", "binary") else "var"
    if len(entries) != len(chunk_rows):
        raise SpecError(f"{p}: {len(entries)} statistics entries for {len(chunk_rows)} chunks")
    at = 0
    # Elements nullable one by one (format 1.5) have a validity bit each: per row here, a row
    # counting when any of its elements does, and the elements checked below.
    per_row = len(valid) // max(len(values), 1) if len(values) else 1
    for e, n in zip(entries, chunk_rows):
        part = values[at:at + n]
        if per_row > 1:
            elem_ok = valid[at * per_row:(at + n) * per_row].reshape(n, per_row)
            ok = elem_ok.any(axis=1)
        else:
            elem_ok, ok = None, valid[at:at + n]
        at += n
        if kind in "iubMmf":
            # The elements that count: those of valid rows, or each valid element.
            chosen = np.asarray(part).reshape(n, -1)[elem_ok] if elem_ok is not None else np.asarray(part)[ok]
            if kind == "f":
                vals = np.asarray(chosen, np.float64).reshape(-1)
                nan = int(np.isnan(vals).sum())
                vals = vals[~np.isnan(vals)]
                fmt = "<d"
            else:
                vals = np.asarray(chosen).reshape(-1)
                if kind in "Mm":
                    vals = vals.view("<i8")
                    nan = int((vals == np.iinfo(np.int64).min).sum())
                    vals = vals[vals != np.iinfo(np.int64).min]
                else:
                    nan = 0
                fmt = "<Q" if kind in "ub" else "<q"
            if e["nan"] != nan:
                raise SpecError(f"{p}: NaN/NaT count {e['nan']}, counted {nan}")
            if len(vals) == 0:
                if e["flags"] & 3:
                    raise SpecError(f"{p}: bounds for a chunk without values")
                continue
            lo, hi = struct.unpack_from(fmt, e["min"])[0], struct.unpack_from(fmt, e["max"])[0]
            want = (vals.min(), vals.max()) if kind != "b" else (int(vals.min()), int(vals.max()))
            if (lo, hi) != tuple(type(lo)(w) for w in want):
                raise SpecError(f"{p}: stored bounds {lo}..{hi}, values span {want}")
        elif kind in ("var", "S"):
            if kind == "var":
                items = [bytes(v) for v, o in zip(part, ok) if o]
            else:
                # Every element's stored bytes, trailing NULs included (NumPy strips them).
                elems = np.ascontiguousarray(part[ok]).reshape(-1)
                raw = elems.view(np.uint8).reshape(len(elems), -1) if len(elems) else []
                items = [r.tobytes() for r in raw]
            if not items:
                continue
            lo, hi = e["min"][:e["min_len"]], e["max"][:e["max_len"]]
            if not (lo <= min(items) and (not e["flags"] & 2 or max(items) <= hi)):
                raise SpecError(f"{p}: byte bounds {lo!r}..{hi!r} do not hold the values")


def read_column(data, entry, leaf, shape, rows):
    table_off = u64(entry, 0)
    (count,) = struct.unpack_from("<I", entry, 8)
    table = data[table_off:table_off + count * CHUNK_ENTRY]
    if xxhash.xxh3_64_intdigest(table) != u64(entry, 16):
        raise SpecError("chunk table checksum")
    values, valid = [], []
    variable = leaf["type"] in ("utf8", "binary")
    chunk_rows.clear()
    for k in range(count):
        c = table[k * CHUNK_ENTRY:(k + 1) * CHUNK_ENTRY]
        n, nulls = struct.unpack_from("<QQ", c, 0)
        chunk_rows.append(n)
        vref = buffer_ref(c, 16)
        oref = buffer_ref(c, 16 + BUFFER_REF)
        dref = buffer_ref(c, 16 + 2 * BUFFER_REF)
        # A bit per element where elements are nullable one by one (format 1.5), else per row.
        per_row = int(np.prod(shape)) if shape else 1
        bits_n = n * per_row if leaf.get("items_nullable") and shape else n
        if nulls:
            bits = np.frombuffer(read_buffer(data, vref, 1), np.uint8)
            valid.append(np.unpackbits(bits, bitorder="little")[:bits_n].astype(bool))
        else:
            valid.append(np.ones(bits_n, bool))
        raw = read_buffer(data, dref, unit_width(leaf["type"]))
        if variable:
            offs = np.frombuffer(read_buffer(data, oref, 8), "<u8")
            values.extend(raw[offs[i]:offs[i + 1]] for i in range(n))
        elif unit_width(leaf["type"]) == 0 or leaf["type"] in ("S0", "U0", "V0"):
            # Zero-width values (a struct validity column, S0/U0/V0): only the rows exist.
            values.append(np.zeros((n,) + tuple(shape), "V1"))
        else:
            per_row = int(np.prod(shape)) if shape else 1
            arr = np.frombuffer(raw, numpy_leaf(leaf["type"]))
            values.append(arr.reshape((n,) + tuple(shape)) if per_row else arr)
    valid = np.concatenate(valid) if valid else np.ones(0, bool)
    if not variable:
        values = np.concatenate(values) if values else np.zeros((0,) + tuple(shape), numpy_leaf(leaf["type"]))
        if len(values) != rows:
            raise SpecError(f"{len(values)} rows, schema says {rows}")
    return values, valid


def expected_row(arr_row, leaf_type):
    """The typed JSON form the test wrote, for one row read by this reader."""
    kind = leaf_type[0]
    if leaf_type == "utf8":
        return bytes(arr_row).decode("utf-8")
    if leaf_type == "binary":
        return bytes(arr_row).hex()
    flat = np.asarray(arr_row).reshape(-1)
    if leaf_type in ("S0", "V0"):
        return ""
    if kind in "SV":
        return flat.tobytes().hex()
    if kind == "U":
        return [str(x) for x in flat]
    if leaf_type == "f2":
        return flat.view("<u2").tolist()
    if kind in "cf":
        # Floats compare by their bits (NaN payloads included).
        width = flat.dtype.itemsize // (2 if kind == "c" else 1)
        return flat.view("<u%d" % width).tolist()
    if kind in "Mm":
        return flat.view("<i8").tolist()
    if kind == "b":
        return [bool(x) for x in flat]
    return [int(x) for x in flat]


def check(path, expected):
    data = open(path, "rb").read()
    schema, directory, ncols = parse_trailer(data)
    stats = statistics_tables(data, schema, ncols)
    col_index = 0
    for array, want in zip(schema["arrays"], expected["arrays"]):
        assert array["name"] == want["name"], (array["name"], want["name"])
        assert int(np.prod(array["shape"])) == array["rows"]
        level_rows = [array["rows"]] + array.get("item_rows", [])
        cols = list(leaves(array["dtype"]))
        assert len(cols) == len(want["columns"])
        for (p, leaf, shape, level), wcol in zip(cols, want["columns"]):
            entry = directory[col_index * DIR_ENTRY:(col_index + 1) * DIR_ENTRY]
            col_index += 1
            rows = level_rows[level]
            want_type = "list" if "list" in leaf else leaf["type"]
            assert p == wcol["path"] and want_type == wcol["type"] and shape == wcol["shape"], (p, leaf, shape)
            values, valid = read_column(data, entry, leaf, shape, rows)
            assert valid.tolist() == wcol["valid"], f"{p}: validity"
            if stats[col_index - 1] is not None:
                check_statistics(p, leaf, values, valid, stats[col_index - 1])
            if "list" in leaf:
                # Ends count from the column's first item: lengths are their differences, and the
                # last end is the item level's row count (format.md#lists).
                ends = values.astype(np.int64)
                if rows and ends[-1] != level_rows[leaf["list"]]:
                    raise SpecError(f"{path}: list {'.'.join(p)} ends at {ends[-1]}, items hold {level_rows[leaf['list']]}")
                lengths = np.diff(np.concatenate([[0], ends])).tolist()
                if lengths != wcol["rows"]:
                    raise SpecError(f"{path}: list {'.'.join(p)}: lengths {lengths[:10]} expected {wcol['rows'][:10]}")
                continue
            if leaf["type"][0] in "SV":
                # NumPy strips trailing NULs from S scalars; compare the stored bytes.
                values = values.view(np.uint8).reshape(rows, -1)
            for r in range(rows):
                got = expected_row(values[r], leaf["type"])
                w = wcol["rows"][r]
                if leaf["type"] not in ("utf8", "binary") and leaf["type"][0] not in "SV" and not isinstance(w, list):
                    w = [w]
                if leaf["type"][0] == "U" and isinstance(w, list) and len(w) != len(got):
                    w = w[:len(got)]
                if got != w:
                    raise SpecError(f"{path}: column {'.'.join(p)}, row {r}: read {got!r}, expected {w!r}")
    assert col_index == ncols
    n = version_count(data, schema)
    print(f"{path}: ok ({n} version{'s' if n > 1 else ''})")


def main():
    expected = json.load(open(sys.argv[1]))
    for path in sys.argv[2:]:
        check(path, expected)


if __name__ == "__main__":
    main()
