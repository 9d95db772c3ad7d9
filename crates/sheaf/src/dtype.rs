//! The type system: leaf types (everything a NumPy scalar dtype can be, plus variable-length
//! UTF-8 and binary), subarrays and nested structs, with the facts needed to give a NumPy dtype
//! back exactly (byte order, offsets, itemsize, titles). Leaf types print and parse as
//! NumPy-style type strings (`i8`, `U5`, `M8[25ns]`), which is also how the schema stores them.

use std::fmt;

use crate::error::{Error, Result};
use crate::format::MAX_NESTING;

/// Byte order of the original data. sheaf always stores little-endian; this records what to
/// give back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ByteOrder {
    /// `<`
    #[default]
    Little,
    /// `>`
    Big,
    /// `|`: single bytes, where order does not apply.
    NotApplicable,
}

impl ByteOrder {
    /// The NumPy character.
    #[must_use]
    pub fn as_char(self) -> char {
        match self {
            ByteOrder::Little => '<',
            ByteOrder::Big => '>',
            ByteOrder::NotApplicable => '|',
        }
    }
}

/// Units of datetime64 / timedelta64, as NumPy names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum TimeUnit {
    Year,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Milli,
    Micro,
    Nano,
    Pico,
    Femto,
    Atto,
    /// NumPy's generic unit (`M8` with no unit): only NaT or values without meaning.
    Generic,
}

const UNITS: [(TimeUnit, &str); 13] = [
    (TimeUnit::Year, "Y"),
    (TimeUnit::Month, "M"),
    (TimeUnit::Week, "W"),
    (TimeUnit::Day, "D"),
    (TimeUnit::Hour, "h"),
    (TimeUnit::Minute, "m"),
    (TimeUnit::Second, "s"),
    (TimeUnit::Milli, "ms"),
    (TimeUnit::Micro, "us"),
    (TimeUnit::Nano, "ns"),
    (TimeUnit::Pico, "ps"),
    (TimeUnit::Femto, "fs"),
    (TimeUnit::Atto, "as"),
];

impl TimeUnit {
    /// NumPy's code for the unit (empty for generic).
    #[must_use]
    pub fn code(self) -> &'static str {
        UNITS.iter().find(|(u, _)| *u == self).map_or("", |(_, c)| c)
    }

    fn parse(code: &str) -> Option<Self> {
        UNITS.iter().find(|(_, c)| *c == code).map(|(u, _)| *u)
    }
}

/// The type of one leaf column's elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeafType {
    /// `b1`: one byte, 0 or 1.
    Bool,
    /// `i1`..`i8`: signed integer of this many bytes.
    Int(u8),
    /// `u1`..`u8`: unsigned integer of this many bytes.
    UInt(u8),
    /// `f2`, `f4`, `f8`: IEEE float of this many bytes.
    Float(u8),
    /// `c8`, `c16`: complex of two floats, this many bytes in all.
    Complex(u8),
    /// `S<n>`: fixed-length bytes, zero-padded.
    Bytes(u32),
    /// `U<n>`: fixed-length UCS-4 string of n code points (4n bytes), NUL-padded.
    Unicode(u32),
    /// `V<n>`: n raw bytes.
    Void(u32),
    /// `M8[<mult><unit>]`: int64 count since 1970-01-01; `i64::MIN` is NaT.
    Datetime(TimeUnit, u32),
    /// `m8[<mult><unit>]`: int64 duration; `i64::MIN` is NaT.
    Timedelta(TimeUnit, u32),
    /// Variable-length UTF-8 text.
    Utf8,
    /// Variable-length bytes.
    Binary,
}

impl LeafType {
    /// Bytes per element, or `None` for variable-length types.
    #[must_use]
    pub fn itemsize(self) -> Option<u64> {
        Some(match self {
            LeafType::Bool => 1,
            LeafType::Int(n) | LeafType::UInt(n) | LeafType::Float(n) | LeafType::Complex(n) => n.into(),
            LeafType::Bytes(n) | LeafType::Void(n) => n.into(),
            LeafType::Unicode(n) => u64::from(n) * 4,
            LeafType::Datetime(..) | LeafType::Timedelta(..) => 8,
            LeafType::Utf8 | LeafType::Binary => return None,
        })
    }

    /// The width codecs see as one value: the scalar for numbers (one part of a complex), the
    /// whole item for strings and raw bytes, 1 for variable-length data.
    #[must_use]
    pub fn unit_width(self) -> usize {
        match self {
            LeafType::Complex(n) => usize::from(n / 2),
            LeafType::Utf8 | LeafType::Binary => 1,
            other => other.itemsize().map_or(1, |n| usize::try_from(n).unwrap_or(1)).max(1),
        }
    }

    /// Whether elements have no fixed width.
    #[must_use]
    pub fn is_variable(self) -> bool {
        self.itemsize().is_none()
    }

    /// Whether byte order matters for this type (multi-byte numbers and `U`).
    #[must_use]
    pub fn has_byte_order(self) -> bool {
        !matches!(self, LeafType::Bool | LeafType::Int(1) | LeafType::UInt(1) | LeafType::Bytes(_) | LeafType::Void(_) | LeafType::Utf8 | LeafType::Binary)
    }

    /// The byte-swap unit for converting to or from big-endian (1 = none).
    #[must_use]
    pub fn swap_width(self) -> usize {
        match self {
            LeafType::Int(n) | LeafType::UInt(n) | LeafType::Float(n) => n.into(),
            LeafType::Complex(n) => usize::from(n / 2),
            LeafType::Unicode(_) => 4,
            LeafType::Datetime(..) | LeafType::Timedelta(..) => 8,
            _ => 1,
        }
    }

    /// Parse a type string (no byte-order character): `i8`, `S5`, `M8[ns]`, `utf8`, ...
    ///
    /// # Errors
    /// [`Error::InvalidDType`] for anything not in the table of `spec/dtypes.md`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidDType { text: text.to_string(), reason: reason.to_string() };
        match text {
            "utf8" => return Ok(LeafType::Utf8),
            "binary" => return Ok(LeafType::Binary),
            "b1" | "?" => return Ok(LeafType::Bool),
            _ => {}
        }
        let mut chars = text.chars();
        let kind = chars.next().ok_or_else(|| bad("empty"))?;
        let rest = chars.as_str();
        if kind == 'M' || kind == 'm' {
            let (unit, mult) = parse_time_suffix(rest).ok_or_else(|| bad("bad datetime unit"))?;
            return Ok(if kind == 'M' { LeafType::Datetime(unit, mult) } else { LeafType::Timedelta(unit, mult) });
        }
        let n: u32 = rest.parse().map_err(|_| bad("expected a size after the kind letter"))?;
        let byte = |n: u32| u8::try_from(n).ok();
        let t = match kind {
            'i' if matches!(n, 1 | 2 | 4 | 8) => LeafType::Int(byte(n).unwrap_or(8)),
            'u' if matches!(n, 1 | 2 | 4 | 8) => LeafType::UInt(byte(n).unwrap_or(8)),
            'f' if matches!(n, 2 | 4 | 8) => LeafType::Float(byte(n).unwrap_or(8)),
            'c' if matches!(n, 8 | 16) => LeafType::Complex(byte(n).unwrap_or(16)),
            'S' | 'a' => LeafType::Bytes(n),
            'U' => {
                if n > u32::MAX / 4 {
                    return Err(bad("too wide"));
                }
                LeafType::Unicode(n)
            }
            'V' => LeafType::Void(n),
            _ => return Err(bad("unsupported kind or size")),
        };
        Ok(t)
    }
}

fn parse_time_suffix(rest: &str) -> Option<(TimeUnit, u32)> {
    let rest = rest.strip_prefix('8')?;
    if rest.is_empty() {
        return Some((TimeUnit::Generic, 1));
    }
    let inner = rest.strip_prefix('[')?.strip_suffix(']')?;
    let digits = inner.bytes().take_while(u8::is_ascii_digit).count();
    let mult = if digits == 0 { 1 } else { inner[..digits].parse().ok().filter(|&m| m > 0)? };
    let unit = TimeUnit::parse(&inner[digits..])?;
    Some((unit, mult))
}

impl fmt::Display for LeafType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = |f: &mut fmt::Formatter<'_>, k: char, u: TimeUnit, m: u32| {
            if u == TimeUnit::Generic {
                write!(f, "{k}8")
            } else if m == 1 {
                write!(f, "{k}8[{}]", u.code())
            } else {
                write!(f, "{k}8[{m}{}]", u.code())
            }
        };
        match *self {
            LeafType::Bool => write!(f, "b1"),
            LeafType::Int(n) => write!(f, "i{n}"),
            LeafType::UInt(n) => write!(f, "u{n}"),
            LeafType::Float(n) => write!(f, "f{n}"),
            LeafType::Complex(n) => write!(f, "c{n}"),
            LeafType::Bytes(n) => write!(f, "S{n}"),
            LeafType::Unicode(n) => write!(f, "U{n}"),
            LeafType::Void(n) => write!(f, "V{n}"),
            LeafType::Datetime(u, m) => time(f, 'M', u, m),
            LeafType::Timedelta(u, m) => time(f, 'm', u, m),
            LeafType::Utf8 => write!(f, "utf8"),
            LeafType::Binary => write!(f, "binary"),
        }
    }
}

/// A leaf: its type, original byte order, and whether it may hold nulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Leaf {
    /// The element type.
    pub ty: LeafType,
    /// The byte order of the source data (storage is always little-endian).
    pub byte_order: ByteOrder,
    /// Whether a row may be null (the column has a validity bitmap).
    pub nullable: bool,
    /// Inside a subarray (format 1.5): whether each element may be null on its own (Arrow's
    /// FixedSizeList with null items). The column's validity bitmap then has a bit per element,
    /// and row nulls, when `nullable` too, go to a validity column of their own.
    pub items_nullable: bool,
}

impl Leaf {
    /// A little-endian, non-nullable leaf.
    #[must_use]
    pub fn new(ty: LeafType) -> Self {
        let byte_order = if ty.has_byte_order() { ByteOrder::Little } else { ByteOrder::NotApplicable };
        Leaf { ty, byte_order, nullable: false, items_nullable: false }
    }

    /// The same leaf, nullable.
    #[must_use]
    pub fn with_nullable(mut self, nullable: bool) -> Self {
        self.nullable = nullable;
        self
    }

    /// The same leaf, its elements nullable one by one inside a subarray (format 1.5).
    #[must_use]
    pub fn with_items_nullable(mut self, items_nullable: bool) -> Self {
        self.items_nullable = items_nullable;
        self
    }

    /// The same leaf with the given source byte order.
    #[must_use]
    pub fn with_byte_order(mut self, order: ByteOrder) -> Self {
        self.byte_order = if self.ty.has_byte_order() { order } else { ByteOrder::NotApplicable };
        self
    }
}

/// A field of a struct dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field's name (any UTF-8, unique within its struct).
    pub name: String,
    /// NumPy's optional title.
    pub title: Option<String>,
    /// Byte offset within the record, as NumPy laid it out (`None`: packed).
    pub offset: Option<u64>,
    /// The field's dtype.
    pub dtype: DType,
}

impl Field {
    /// A field with no title and packed offset.
    pub fn new(name: impl Into<String>, dtype: DType) -> Self {
        Field { name: name.into(), title: None, offset: None, dtype }
    }
}

/// A struct dtype: ordered fields plus the layout facts of the source record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructType {
    /// The fields in order.
    pub fields: Vec<Field>,
    /// Record size in the source layout (`None`: packed size).
    pub itemsize: Option<u64>,
    /// NumPy's `align=True` flag.
    pub aligned: bool,
    /// Whether a whole record of this struct may be null, whatever its fields hold (Arrow's and
    /// Parquet's struct nulls; format 1.5). Stored as a validity column of its own.
    pub nullable: bool,
}

/// A dtype: a leaf, a fixed-shape subarray of a dtype, a struct, or a variable-length list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DType {
    /// One scalar or string per element.
    Leaf(Leaf),
    /// A fixed-shape block of `base` per element, C order.
    SubArray {
        /// The element type.
        base: Box<DType>,
        /// The block's shape.
        shape: Vec<u64>,
    },
    /// Named fields.
    Struct(StructType),
    /// A variable-length list of `item` per element (Arrow's List / LargeList). Stored as one
    /// offsets column plus the item's own columns, whose rows are the items of all lists
    /// (`spec/format.md#lists`).
    List {
        /// The type of each item.
        item: Box<DType>,
        /// Whether a whole list may be null.
        nullable: bool,
    },
}

impl DType {
    /// Whether a nullable struct is in this dtype (outside lists, which have rows of their own).
    #[must_use]
    pub fn has_nullable_struct(&self) -> bool {
        match self {
            DType::Leaf(_) | DType::List { .. } => false,
            DType::SubArray { base, .. } => base.has_nullable_struct(),
            DType::Struct(s) => s.nullable || s.fields.iter().any(|f| f.dtype.has_nullable_struct()),
        }
    }

    /// Shorthand for a little-endian, non-nullable leaf.
    #[must_use]
    pub fn leaf(ty: LeafType) -> Self {
        DType::Leaf(Leaf::new(ty))
    }

    /// Shorthand for a packed struct.
    #[must_use]
    pub fn structure(fields: Vec<Field>) -> Self {
        DType::Struct(StructType { fields, itemsize: None, aligned: false, nullable: false })
    }

    /// Shorthand for a subarray.
    #[must_use]
    pub fn subarray(base: DType, shape: Vec<u64>) -> Self {
        DType::SubArray { base: Box::new(base), shape }
    }

    /// Shorthand for a list of `item`.
    #[must_use]
    pub fn list(item: DType, nullable: bool) -> Self {
        DType::List { item: Box::new(item), nullable }
    }

    /// Whether a list appears anywhere in this dtype.
    #[must_use]
    pub fn has_list(&self) -> bool {
        match self {
            DType::Leaf(_) => false,
            DType::SubArray { base, .. } => base.has_list(),
            DType::Struct(s) => s.fields.iter().any(|f| f.dtype.has_list()),
            DType::List { .. } => true,
        }
    }

    /// Packed bytes per element (sum of leaves), `None` if any leaf is variable-length.
    #[must_use]
    pub fn packed_size(&self) -> Option<u64> {
        match self {
            DType::Leaf(l) => l.ty.itemsize(),
            DType::SubArray { base, shape } => shape.iter().try_fold(base.packed_size()?, |a, &d| a.checked_mul(d)),
            DType::Struct(s) => s.fields.iter().try_fold(0u64, |a, f| a.checked_add(f.dtype.packed_size()?)),
            DType::List { .. } => None,
        }
    }

    /// Bytes per element in the source layout (struct itemsize and padding included).
    #[must_use]
    pub fn itemsize(&self) -> Option<u64> {
        match self {
            DType::Leaf(l) => l.ty.itemsize(),
            DType::SubArray { base, shape } => shape.iter().try_fold(base.itemsize()?, |a, &d| a.checked_mul(d)),
            DType::Struct(s) => match s.itemsize {
                Some(n) => Some(n),
                None => s.fields.iter().try_fold(0u64, |a, f| a.checked_add(f.dtype.itemsize()?)),
            },
            DType::List { .. } => None,
        }
    }

    /// Validates names, nesting depth, shapes and struct layouts.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] naming the first problem.
    pub fn validate(&self) -> Result<()> {
        self.validate_at(0, "", false)
    }

    fn validate_at(&self, depth: usize, path: &str, in_subarray: bool) -> Result<()> {
        if depth > MAX_NESTING {
            return Err(Error::schema(format!("{path}: nesting deeper than {MAX_NESTING}")));
        }
        match self {
            DType::Leaf(l) if l.items_nullable && !in_subarray => Err(Error::schema(format!("{path}: items_nullable outside a subarray"))),
            DType::Leaf(_) => Ok(()),
            DType::SubArray { base, shape } => {
                if shape.is_empty() {
                    return Err(Error::schema(format!("{path}: subarray with empty shape")));
                }
                if base.packed_size().is_none() {
                    return Err(Error::schema(format!("{path}: subarray of variable-length type")));
                }
                if base.has_nullable_struct() {
                    return Err(Error::schema(format!("{path}: subarray of a nullable struct (struct nulls are per row)")));
                }
                if self.itemsize().is_none() {
                    return Err(Error::schema(format!("{path}: subarray size overflows")));
                }
                base.validate_at(depth + 1, path, true)
            }
            DType::Struct(s) => {
                let mut names = std::collections::HashSet::new();
                for f in &s.fields {
                    if !names.insert(f.name.as_str()) {
                        let at = if path.is_empty() { String::new() } else { format!("{path}: ") };
                        return Err(Error::schema(format!("{at}duplicate field name {:?}", f.name)));
                    }
                    let sub = if path.is_empty() { f.name.clone() } else { format!("{path}.{}", f.name) };
                    f.dtype.validate_at(depth + 1, &sub, in_subarray)?;
                }
                validate_layout(s, path)
            }
            DType::List { item, .. } => item.validate_at(depth + 1, &format!("{path}[]"), false),
        }
    }
}

fn validate_layout(s: &StructType, path: &str) -> Result<()> {
    let has_offsets = s.fields.iter().any(|f| f.offset.is_some());
    if has_offsets && s.fields.iter().any(|f| f.offset.is_none()) {
        return Err(Error::schema(format!("{path}: some fields have offsets and some do not")));
    }
    let mut spans: Vec<(u64, u64)> = Vec::new();
    let mut packed = 0u64;
    for f in &s.fields {
        let size = f.dtype.itemsize().ok_or_else(|| {
            // Variable-length fields have no place in a byte layout.
            Error::schema(format!("{path}: field {:?} has no fixed size but the struct has a layout", f.name))
        });
        match (f.offset, size) {
            (Some(off), Ok(size)) => {
                let end = off.checked_add(size).ok_or_else(|| Error::schema(format!("{path}: offset overflow")))?;
                spans.push((off, end));
            }
            (Some(_), Err(e)) => return Err(e),
            (None, Ok(size)) => packed = packed.saturating_add(size),
            (None, Err(_)) => {}
        }
    }
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err(Error::schema(format!("{path}: fields overlap")));
    }
    let needed = spans.last().map_or(packed, |s| s.1);
    if let Some(itemsize) = s.itemsize {
        if itemsize < needed {
            return Err(Error::schema(format!("{path}: itemsize {itemsize} smaller than its fields ({needed})")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_strings_round_trip() {
        for s in ["b1", "i1", "i8", "u2", "f2", "f8", "c8", "c16", "S0", "S7", "U3", "V12", "M8", "M8[ns]", "m8[25s]", "M8[as]", "utf8", "binary"] {
            assert_eq!(LeafType::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn bad_type_strings_are_refused() {
        for s in ["", "i3", "f16", "O", "M8[xs]", "M8[0ns]", "Ux", "c4"] {
            assert!(LeafType::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn overlapping_fields_are_refused() {
        let mut a = Field::new("a", DType::leaf(LeafType::Int(8)));
        a.offset = Some(0);
        let mut b = Field::new("b", DType::leaf(LeafType::Int(4)));
        b.offset = Some(4);
        let s = DType::Struct(StructType { fields: vec![a, b], itemsize: Some(16), aligned: false, nullable: false });
        assert!(s.validate().is_err());
    }
}
