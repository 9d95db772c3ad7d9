//! The `.npy` header: magic, version, the Python-literal dict, and NumPy's `descr` mapped to and
//! from sheaf dtypes exactly (byte order, padding, offsets, titles, subarrays, nesting).

use sheaf::{ByteOrder, DType, Field, Leaf, LeafType, StructType};

use crate::error::{NpyError, Result};
use crate::pyliteral::{parse, repr, repr_shape, repr_str, PyValue};

/// `\x93NUMPY`.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// NumPy aligns the start of the data to this.
const ARRAY_ALIGN: usize = 64;
/// NumPy leaves room for the first axis to grow to this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// A parsed `.npy` header.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    /// Format version (1.0, 2.0 or 3.0).
    pub version: (u8, u8),
    /// The element dtype.
    pub dtype: DType,
    /// The header's `descr` as Python literal text (`repr` of the value read). It can differ
    /// from [`descr_of`] of `dtype` for the same dtype (`'<V2'` for `'|V2'`, `'float64'` for
    /// `'<f8'`): kept so that a header written again says what this one said.
    pub descr: String,
    /// Whether the data is in Fortran order.
    pub fortran_order: bool,
    /// The array's shape.
    pub shape: Vec<u64>,
    /// Where the data starts.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of elements (records).
    #[must_use]
    pub fn count(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d))
    }

    /// Bytes per element.
    #[must_use]
    pub fn itemsize(&self) -> Option<u64> {
        self.dtype.itemsize()
    }

    /// Parses the header at the start of `bytes`.
    ///
    /// # Errors
    /// Bad magic, unknown version, truncation, syntax, object dtypes, unsupported dtypes.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let truncated = |needed: u64| NpyError::Truncated { what: "header", offset: 0, needed, available: bytes.len() as u64 };
        if bytes.len() < 8 {
            return Err(if bytes.len() >= 6 && &bytes[..6] != MAGIC { NpyError::BadMagic } else { truncated(10) });
        }
        if &bytes[..6] != MAGIC {
            return Err(NpyError::BadMagic);
        }
        let (major, minor) = (bytes[6], bytes[7]);
        let (len_size, utf8) = match (major, minor) {
            (1, 0) => (2usize, false),
            (2, 0) => (4, false),
            (3, 0) => (4, true),
            _ => return Err(NpyError::UnsupportedVersion { major, minor }),
        };
        let len_bytes = bytes.get(8..8 + len_size).ok_or_else(|| truncated(8 + len_size as u64))?;
        let header_len = len_bytes.iter().rev().fold(0usize, |a, &b| (a << 8) | usize::from(b));
        let start = 8 + len_size;
        let end = start.checked_add(header_len).ok_or_else(|| truncated(u64::MAX))?;
        let raw = bytes.get(start..end).ok_or_else(|| truncated(end as u64))?;
        let text = if utf8 {
            std::str::from_utf8(raw).map_err(|e| NpyError::BadHeader { reason: format!("not UTF-8: {e}") })?.to_string()
        } else {
            raw.iter().map(|&b| char::from(b)).collect()
        };
        let PyValue::Dict(items) = parse(&text)? else {
            return Err(NpyError::BadHeader { reason: "not a dict".into() });
        };
        let get = |key: &str| items.iter().find(|(k, _)| *k == PyValue::Str(key.into())).map(|(_, v)| v);
        if items.len() != 3 {
            return Err(NpyError::BadHeader { reason: format!("expected keys descr, fortran_order, shape; found {} keys", items.len()) });
        }
        let descr = get("descr").ok_or_else(|| NpyError::BadHeader { reason: "no 'descr'".into() })?;
        let fortran_order = match get("fortran_order") {
            Some(PyValue::Bool(b)) => *b,
            _ => return Err(NpyError::BadHeader { reason: "'fortran_order' must be True or False".into() }),
        };
        let shape = match get("shape") {
            Some(PyValue::Tuple(dims)) => dims
                .iter()
                .map(|d| match d {
                    PyValue::Int(n) => u64::try_from(*n).map_err(|_| NpyError::BadHeader { reason: format!("negative or huge dimension {n}") }),
                    _ => Err(NpyError::BadHeader { reason: "shape entries must be integers".into() }),
                })
                .collect::<Result<Vec<_>>>()?,
            _ => return Err(NpyError::BadHeader { reason: "'shape' must be a tuple".into() }),
        };
        let dtype = descr_to_dtype(descr, 0)?;
        dtype.validate().map_err(NpyError::Sheaf)?;
        Ok(NpyHeader { version: (major, minor), dtype, descr: repr(descr), fortran_order, shape, data_offset: end })
    }

    /// Encodes a header for `dtype` and `shape`, choosing the oldest version that fits as NumPy
    /// does; the result's length is a multiple of 64.
    ///
    /// # Errors
    /// Dtypes NumPy cannot hold (variable-length, nullable, fields out of offset order).
    pub fn encode(dtype: &DType, shape: &[u64], fortran_order: bool) -> Result<Vec<u8>> {
        Self::encode_descr(&dtype_to_descr(dtype, true)?, shape, fortran_order)
    }

    /// Encodes a header whose `descr` is `descr` (Python literal text, e.g. a [`NpyHeader::descr`]
    /// read before), as [`NpyHeader::encode`] does.
    ///
    /// # Errors
    /// A header too large for any version.
    pub fn encode_descr(descr: &str, shape: &[u64], fortran_order: bool) -> Result<Vec<u8>> {
        let mut text = format!("{{'descr': {descr}, 'fortran_order': {}, 'shape': {}, }}", if fortran_order { "True" } else { "False" }, repr_shape(shape));
        if !shape.is_empty() {
            let axis = if fortran_order { shape[shape.len() - 1] } else { shape[0] };
            text.push_str(&" ".repeat(GROWTH_AXIS_MAX_DIGITS.saturating_sub(axis.to_string().len())));
        }
        let latin1 = text.chars().all(|c| (c as u32) < 256);
        let wrap = |len_size: usize, major: u8| -> Option<Vec<u8>> {
            let body: Vec<u8> = if major == 3 { text.as_bytes().to_vec() } else { text.chars().map(|c| c as u8).collect() };
            let hlen = body.len() + 1;
            let padlen = ARRAY_ALIGN - ((MAGIC.len() + 2 + len_size + hlen) % ARRAY_ALIGN);
            let total = hlen + padlen;
            if len_size == 2 && total > usize::from(u16::MAX) {
                return None;
            }
            let mut out = Vec::with_capacity(8 + len_size + total);
            out.extend_from_slice(MAGIC);
            out.extend_from_slice(&[major, 0]);
            out.extend_from_slice(&(total as u32).to_le_bytes()[..len_size]);
            out.extend_from_slice(&body);
            out.extend(std::iter::repeat_n(b' ', padlen));
            out.push(b'\n');
            Some(out)
        };
        let out = if latin1 { wrap(2, 1).or_else(|| wrap(4, 2)) } else { wrap(4, 3) };
        out.ok_or_else(|| NpyError::Unsupported { reason: "header too large".into() })
    }
}

/// The `descr` of `dtype` as Python literal text, exactly as NumPy's
/// `numpy.lib.format.dtype_to_descr` would give it (`repr` of the value).
///
/// # Errors
/// Dtypes NumPy cannot hold (variable-length, nullable, fields out of offset order, a
/// top-level subarray).
pub fn descr_of(dtype: &DType) -> Result<String> {
    dtype_to_descr(dtype, true)
}

/// The sheaf dtype of a NumPy `descr` given as Python literal text (what `repr` of
/// `numpy.lib.format.dtype_to_descr(dtype)` prints), checked as a `.npy` header's is.
///
/// # Errors
/// Syntax errors, object dtypes, dtypes sheaf has no type for.
pub fn dtype_of_descr(text: &str) -> Result<DType> {
    let dtype = descr_to_dtype(&parse(text)?, 0)?;
    dtype.validate().map_err(NpyError::Sheaf)?;
    Ok(dtype)
}

fn bad(reason: impl Into<String>) -> NpyError {
    NpyError::BadHeader { reason: reason.into() }
}

/// The type code of a NumPy dtype name (`float64`, `int32`, `datetime64[ns]`, `double`, ...), as
/// `np.dtype(name)` reads it on a little-endian 64-bit platform: `np.load` accepts a header
/// whose descr is such a name, so this reader does too.
fn numpy_name_code(name: &str) -> Option<String> {
    if let Some(unit) = name.strip_prefix("datetime64") {
        return Some(format!("M8{unit}"));
    }
    if let Some(unit) = name.strip_prefix("timedelta64") {
        return Some(format!("m8{unit}"));
    }
    let sized = |prefix: &str, code: char| name.strip_prefix(prefix).and_then(|bits| bits.parse::<u32>().ok()).filter(|b| b % 8 == 0 && *b > 0).map(|b| format!("{code}{}", b / 8));
    if let Some(c) = sized("uint", 'u').or_else(|| sized("int", 'i')).or_else(|| sized("float", 'f')).or_else(|| sized("complex", 'c')) {
        return Some(c);
    }
    Some(
        match name {
            "bool" | "bool_" => "b1",
            "byte" => "i1",
            "ubyte" => "u1",
            "short" => "i2",
            "ushort" => "u2",
            "intc" => "i4",
            "uintc" => "u4",
            "int" | "int_" | "intp" | "long" | "longlong" => "i8",
            "uint" | "uintp" | "ulong" | "ulonglong" => "u8",
            "half" => "f2",
            "single" => "f4",
            "float" | "double" => "f8",
            "csingle" => "c8",
            "complex" | "cdouble" => "c16",
            _ => return None,
        }
        .to_string(),
    )
}

fn leaf_from_str(s: &str) -> Result<DType> {
    let (order, ty) = match s.chars().next() {
        Some('<' | '=') => (ByteOrder::Little, &s[1..]),
        Some('>') => (ByteOrder::Big, &s[1..]),
        Some('|') => (ByteOrder::NotApplicable, &s[1..]),
        _ => (ByteOrder::Little, s),
    };
    if ty.starts_with('O') || ty == "object" {
        return Err(NpyError::ObjectArray { descr: repr_str(s) });
    }
    let code = numpy_name_code(ty);
    let leaf = LeafType::parse(code.as_deref().unwrap_or(ty)).map_err(|_| NpyError::Unsupported { reason: format!("NumPy dtype {s:?} has no sheaf type") })?;
    Ok(DType::Leaf(Leaf::new(leaf).with_byte_order(order)))
}

fn shape_of(v: &PyValue) -> Result<Vec<u64>> {
    match v {
        PyValue::Int(n) => Ok(vec![u64::try_from(*n).map_err(|_| bad("negative subarray dimension"))?]),
        PyValue::Tuple(dims) => dims
            .iter()
            .map(|d| match d {
                PyValue::Int(n) => u64::try_from(*n).map_err(|_| bad("negative subarray dimension")),
                _ => Err(bad("subarray shape must hold integers")),
            })
            .collect(),
        _ => Err(bad("subarray shape must be a tuple")),
    }
}

/// NumPy's `descr_to_dtype`, into a sheaf dtype.
pub(crate) fn descr_to_dtype(v: &PyValue, depth: usize) -> Result<DType> {
    if depth > 64 {
        return Err(bad("descr nested too deeply"));
    }
    match v {
        PyValue::Str(s) => leaf_from_str(s),
        PyValue::Tuple(t) if t.len() == 2 => {
            let base = descr_to_dtype(&t[0], depth + 1)?;
            let shape = shape_of(&t[1])?;
            Ok(if shape.is_empty() { base } else { DType::subarray(base, shape) })
        }
        PyValue::List(entries) => {
            let mut fields = Vec::with_capacity(entries.len());
            let mut offset = 0u64;
            let mut padded = false;
            for e in entries {
                let PyValue::Tuple(parts) = e else { return Err(bad("a descr field must be a tuple")) };
                let (name, descr, shape) = match parts.as_slice() {
                    [n, d] => (n, d, None),
                    [n, d, s] => (n, d, Some(shape_of(s)?)),
                    _ => return Err(bad("a descr field must have 2 or 3 items")),
                };
                let mut dt = descr_to_dtype(descr, depth + 1)?;
                if let Some(shape) = shape.filter(|s| !s.is_empty()) {
                    dt = DType::subarray(dt, shape);
                }
                let size = dt.itemsize().ok_or_else(|| bad("field without a fixed size"))?;
                let (title, name) = match name {
                    PyValue::Str(n) => (None, n.clone()),
                    PyValue::Tuple(tn) => match tn.as_slice() {
                        [PyValue::Str(t), PyValue::Str(n)] => (Some(t.clone()), n.clone()),
                        _ => return Err(bad("a field title must be (title, name)")),
                    },
                    _ => return Err(bad("a field name must be a string")),
                };
                let is_pad = name.is_empty() && matches!(dt, DType::Leaf(Leaf { ty: LeafType::Void(_), .. }));
                if is_pad {
                    padded = true;
                } else {
                    fields.push(Field { name, title, offset: Some(offset), dtype: dt });
                }
                offset = offset.checked_add(size).ok_or_else(|| bad("record size overflows"))?;
            }
            if !padded {
                for f in &mut fields {
                    f.offset = None;
                }
            }
            Ok(DType::Struct(StructType { fields, itemsize: padded.then_some(offset), aligned: false, nullable: false }))
        }
        _ => Err(bad("descr must be a string, a list or a tuple")),
    }
}

fn leaf_descr(leaf: &Leaf) -> Result<String> {
    if leaf.nullable {
        return Err(NpyError::Unsupported { reason: "nullable columns have no NumPy dtype".into() });
    }
    if leaf.ty.is_variable() {
        return Err(NpyError::Unsupported { reason: format!("variable-length {} has no NumPy dtype", leaf.ty) });
    }
    let order = if !leaf.ty.has_byte_order() {
        '|'
    } else if leaf.byte_order == ByteOrder::Big {
        '>'
    } else {
        '<'
    };
    Ok(repr_str(&format!("{order}{}", leaf.ty)))
}

/// The `descr` text (a Python literal) of a dtype, as NumPy's `dtype_to_descr` gives it.
pub(crate) fn dtype_to_descr(dtype: &DType, top: bool) -> Result<String> {
    match dtype {
        DType::Leaf(l) => leaf_descr(l),
        DType::SubArray { base, shape } if !top => Ok(format!("({}, {})", dtype_to_descr(base, false)?, repr_shape(shape))),
        DType::SubArray { .. } => Err(NpyError::Unsupported { reason: "a top-level subarray dtype: fold it into the shape".into() }),
        DType::Struct(s) => {
            let mut parts = Vec::new();
            let mut at = 0u64;
            for f in &s.fields {
                let size = f.dtype.itemsize().ok_or_else(|| NpyError::Unsupported { reason: format!("field {:?} has no fixed size", f.name) })?;
                if let Some(off) = f.offset {
                    if off < at {
                        return Err(NpyError::Unsupported { reason: format!("field {:?} is out of offset order, which .npy cannot describe", f.name) });
                    }
                    if off > at {
                        parts.push(format!("('', '|V{}')", off - at));
                    }
                    at = off;
                }
                let name = match &f.title {
                    Some(t) => format!("({}, {})", repr_str(t), repr_str(&f.name)),
                    None => repr_str(&f.name),
                };
                let (base, shape) = match &f.dtype {
                    DType::SubArray { base, shape } => (base.as_ref(), Some(shape)),
                    other => (other, None),
                };
                // A subarray whose base is a subarray stays nested, as NumPy's descr_to_dtype
                // builds it from `('a', ('<f4', (2,)), (3,))` (a different dtype from `(3, 2)`).
                let shape = shape.cloned().unwrap_or_default();
                let d = dtype_to_descr(base, false)?;
                parts.push(if shape.is_empty() { format!("({name}, {d})") } else { format!("({name}, {d}, {})", repr_shape(&shape)) });
                at += size;
            }
            if let Some(itemsize) = s.itemsize {
                if itemsize > at {
                    parts.push(format!("('', '|V{}')", itemsize - at));
                }
            }
            Ok(format!("[{}]", parts.join(", ")))
        }
        DType::List { .. } => Err(NpyError::Unsupported { reason: "a variable-length list has no NumPy dtype".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descr_names_numpy_accepts_read_as_their_types() {
        for (name, code) in
            [("float64", "<f8"), ("int32", "<i4"), ("uint8", "|u1"), ("bool", "|b1"), ("datetime64[ns]", "<M8[ns]"), ("complex128", "<c16"), ("double", "<f8"), ("intc", "<i4")]
        {
            let header = NpyHeader::encode(&DType::leaf(LeafType::Int(1)), &[0], false).unwrap();
            // The same header with the descr spelled as a name, padded back to its length (the
            // length field at bytes 8..10 stays right).
            let body = std::str::from_utf8(&header[10..]).unwrap().replace("'|i1'", &format!("'{name}'"));
            let padded = format!("{:<width$}\n", body.trim_end(), width = header.len() - 11);
            let mut bytes = header[..10].to_vec();
            bytes.extend_from_slice(padded.as_bytes());
            let parsed = NpyHeader::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(dtype_to_descr(&parsed.dtype, true).unwrap(), format!("'{code}'"), "{name}");
        }
    }

    #[test]
    fn header_round_trips_and_aligns() {
        let descr = "[('id', '<i8'), (('Pos', 'pos'), '>f4', (3,)), ('', '|V4'), ('t', '<M8[ns]'), ('s', '|S8'), ('u', '<U2')]";
        let dt = descr_to_dtype(&parse(descr).unwrap(), 0).unwrap();
        assert_eq!(dtype_to_descr(&dt, true).unwrap(), descr);
        let bytes = NpyHeader::encode(&dt, &[5], false).unwrap();
        assert_eq!(bytes.len() % 64, 0);
        let h = NpyHeader::parse(&bytes).unwrap();
        assert_eq!(h.dtype, dt);
        assert_eq!(h.shape, vec![5]);
        assert_eq!(h.version, (1, 0));
        assert_eq!(h.itemsize(), Some(8 + 12 + 4 + 8 + 8 + 8));
    }

    #[test]
    fn object_arrays_are_refused() {
        let mut bytes = NpyHeader::encode(&DType::leaf(LeafType::Int(8)), &[1], false).unwrap();
        let at = bytes.windows(5).position(|w| w == b"'<i8'").unwrap();
        bytes[at..at + 5].copy_from_slice(b"'|O' ");
        assert!(matches!(NpyHeader::parse(&bytes), Err(NpyError::ObjectArray { .. })));
    }

    #[test]
    fn non_latin1_names_use_version_3() {
        let dt = DType::structure(vec![Field::new("温度", DType::leaf(LeafType::Float(8)))]);
        let bytes = NpyHeader::encode(&dt, &[1], false).unwrap();
        assert_eq!(&bytes[6..8], &[3, 0]);
        assert_eq!(NpyHeader::parse(&bytes).unwrap().dtype, dt);
    }
}
