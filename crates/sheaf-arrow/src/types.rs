//! The type mapping between Arrow and sheaf, both directions (the table in `spec/arrow.md`).
//! Where Arrow lacks a sheaf type (datetime units beyond s/ms/us/ns, `U<n>`, `V<n>`, complex),
//! the Arrow field carries `sheaf:dtype` metadata naming the exact sheaf type, so the round trip
//! is lossless; where sheaf lacks an Arrow type (Date32, Decimal, Dictionary, Utf8 vs LargeUtf8),
//! the original Arrow schema travels in the array's `arrow:schema` metadata.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit as ArrowUnit};
use sheaf::{ArraySchema, ByteOrder, DType, Leaf, LeafType, StructType, TimeUnit};

use crate::error::{ArrowInteropError, Result};

/// Field metadata key naming the exact sheaf leaf type.
pub const SHEAF_DTYPE: &str = "sheaf:dtype";
/// Field metadata key recording a big-endian source.
pub const SHEAF_BYTE_ORDER: &str = "sheaf:byte_order";
/// Array metadata key holding the original Arrow schema (hex of its IPC encoding).
pub const ARROW_SCHEMA: &str = "arrow:schema";

fn unit_from_arrow(u: ArrowUnit) -> TimeUnit {
    match u {
        ArrowUnit::Second => TimeUnit::Second,
        ArrowUnit::Millisecond => TimeUnit::Milli,
        ArrowUnit::Microsecond => TimeUnit::Micro,
        ArrowUnit::Nanosecond => TimeUnit::Nano,
    }
}

fn unit_to_arrow(u: TimeUnit) -> Option<ArrowUnit> {
    Some(match u {
        TimeUnit::Second => ArrowUnit::Second,
        TimeUnit::Milli => ArrowUnit::Millisecond,
        TimeUnit::Micro => ArrowUnit::Microsecond,
        TimeUnit::Nano => ArrowUnit::Nanosecond,
        _ => return None,
    })
}

/// The sheaf dtype of an Arrow field (`path` names it in errors).
///
/// # Errors
/// [`ArrowInteropError::Unsupported`] for types with no sheaf form: structs of no fields, run-end
/// encoded nested values, lists inside fixed-size lists.
pub fn dtype_from_arrow(field: &Field, path: &str) -> Result<DType> {
    if let Some(text) = field.metadata().get(SHEAF_DTYPE) {
        let ty = LeafType::parse(text).map_err(|e| ArrowInteropError::unsupported(path, field.data_type(), e.to_string()))?;
        let order = if field.metadata().get(SHEAF_BYTE_ORDER).map(String::as_str) == Some(">") { ByteOrder::Big } else { ByteOrder::Little };
        return Ok(DType::Leaf(Leaf::new(ty).with_byte_order(order).with_nullable(field.is_nullable())));
    }
    let leaf = |ty| Ok(DType::Leaf(Leaf::new(ty).with_nullable(field.is_nullable())));
    match field.data_type() {
        DataType::Boolean => leaf(LeafType::Bool),
        DataType::Int8 => leaf(LeafType::Int(1)),
        DataType::Int16 => leaf(LeafType::Int(2)),
        DataType::Int32 => leaf(LeafType::Int(4)),
        DataType::Int64 => leaf(LeafType::Int(8)),
        DataType::UInt8 => leaf(LeafType::UInt(1)),
        DataType::UInt16 => leaf(LeafType::UInt(2)),
        DataType::UInt32 => leaf(LeafType::UInt(4)),
        DataType::UInt64 => leaf(LeafType::UInt(8)),
        DataType::Float16 => leaf(LeafType::Float(2)),
        DataType::Float32 => leaf(LeafType::Float(4)),
        DataType::Float64 => leaf(LeafType::Float(8)),
        DataType::Timestamp(u, _) => leaf(LeafType::Datetime(unit_from_arrow(*u), 1)),
        DataType::Date32 => leaf(LeafType::Datetime(TimeUnit::Day, 1)),
        DataType::Date64 => leaf(LeafType::Datetime(TimeUnit::Milli, 1)),
        DataType::Time32(u) | DataType::Time64(u) | DataType::Duration(u) => leaf(LeafType::Timedelta(unit_from_arrow(*u), 1)),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => leaf(LeafType::Utf8),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => leaf(LeafType::Binary),
        // Arrow's all-null type: a zero-width leaf, null in every row.
        DataType::Null => Ok(DType::Leaf(Leaf::new(LeafType::Void(0)).with_nullable(true))),
        DataType::FixedSizeBinary(n) => leaf(LeafType::Bytes(u32::try_from(*n).unwrap_or(0))),
        DataType::Decimal32(..) => leaf(LeafType::Void(4)),
        DataType::Decimal64(..) => leaf(LeafType::Void(8)),
        DataType::Decimal128(..) => leaf(LeafType::Void(16)),
        DataType::Decimal256(..) => leaf(LeafType::Void(32)),
        // Run-end encoding, like dictionaries: stored decoded, re-encoded on export.
        DataType::RunEndEncoded(_, values) if values.data_type().is_nested() => Err(ArrowInteropError::unsupported(path, field.data_type(), "run-end encoded nested values")),
        DataType::RunEndEncoded(_, values) => dtype_from_arrow(&Field::new(field.name(), values.data_type().clone(), field.is_nullable()), path),
        DataType::Dictionary(_, value) => dtype_from_arrow(&Field::new(field.name(), (**value).clone(), field.is_nullable()), path),
        DataType::FixedSizeList(child, n) => {
            let inner = dtype_from_arrow(child, path)?;
            let mut inner = match inner {
                // Format 1.5: the list's nulls are the leaf's rows', its items' each element's.
                DType::Leaf(l) => DType::Leaf(l.with_nullable(field.is_nullable()).with_items_nullable(child.is_nullable())),
                // Nested lists keep item nulls per row only (refused elsewhere, as before 1.5).
                DType::SubArray { base, shape } => match *base {
                    DType::Leaf(l) => DType::subarray(DType::Leaf(l.with_items_nullable(false)), shape),
                    other => DType::SubArray { base: Box::new(other), shape },
                },
                DType::Struct(_) => return Err(ArrowInteropError::unsupported(path, field.data_type(), "fixed-size lists of structs")),
                DType::List { .. } => return Err(ArrowInteropError::unsupported(path, field.data_type(), "variable-length lists inside fixed-size lists")),
            };
            // Nested lists: the rows' nulls become the leaf's validity (inner lists cannot be null).
            if matches!(inner, DType::SubArray { .. }) && (field.is_nullable() || child.is_nullable()) {
                inner = set_nullable(inner);
            }
            // A tensor of scalars keeps its shape (the flat list is its row-major elements).
            let shape = tensor_shape(field).filter(|s| matches!(inner, DType::Leaf(_)) && s.iter().try_fold(1u64, |p, &d| p.checked_mul(d)) == u64::try_from(*n).ok());
            Ok(DType::subarray(inner, shape.unwrap_or_else(|| vec![u64::try_from(*n).unwrap_or(0)])))
        }
        DataType::List(child) | DataType::LargeList(child) | DataType::ListView(child) | DataType::LargeListView(child) => {
            Ok(DType::list(dtype_from_arrow(child, &format!("{path}[]"))?, field.is_nullable()))
        }
        // Intervals are stored as their raw little-endian parts; `arrow:schema` restores the type.
        DataType::Interval(arrow_schema::IntervalUnit::YearMonth) => leaf(LeafType::Void(4)),
        DataType::Interval(arrow_schema::IntervalUnit::DayTime) => leaf(LeafType::Void(8)),
        DataType::Interval(arrow_schema::IntervalUnit::MonthDayNano) => leaf(LeafType::Void(16)),
        // A map is a list of key/value structs; the original schema brings the Map type back.
        DataType::Map(entries, _) => Ok(DType::list(dtype_from_arrow(entries, &format!("{path}[]"))?, field.is_nullable())),
        DataType::Struct(fields) if fields.is_empty() => Err(ArrowInteropError::unsupported(path, field.data_type(), "a struct with no fields has no columns to store")),
        DataType::Struct(fields) => {
            let names = sibling_names(fields.iter().map(|f| f.name().as_str()));
            let mut out = Vec::with_capacity(fields.len());
            for (f, name) in fields.iter().zip(names) {
                let sub = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                let mut d = dtype_from_arrow(f, &sub)?;
                if field.is_nullable() {
                    // Struct-level nulls are carried by every leaf below (spec/arrow.md).
                    d = set_nullable(d);
                }
                out.push(sheaf::Field::new(name, d));
            }
            Ok(DType::Struct(StructType { fields: out, itemsize: None, aligned: false, nullable: field.is_nullable() }))
        }
        DataType::Union(fields, mode) => {
            let storage = union_storage(fields, *mode);
            let names = sibling_names(storage.iter().map(|f| f.name().as_str()));
            let mut out = Vec::with_capacity(storage.len());
            for (f, name) in storage.iter().zip(names) {
                let sub = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                out.push(sheaf::Field::new(name, dtype_from_arrow(f, &sub)?));
            }
            Ok(DType::Struct(StructType { fields: out, itemsize: None, aligned: false, nullable: false }))
        }
    }
}

/// The name of the type-id field of a union's stored struct.
pub const UNION_TYPE_ID: &str = "type_id";

/// The struct fields a union is stored as: its type ids (`i1`, one per row) then every child at
/// full length, in the union's order. A dense union's children are spread out to one value per
/// row, null where the row selects another child, so they become nullable; a sparse union's are
/// stored as they are, values under unselected rows included.
pub(crate) fn union_storage(fields: &arrow_schema::UnionFields, mode: arrow_schema::UnionMode) -> Fields {
    let mut out = vec![Field::new(UNION_TYPE_ID, DataType::Int8, false)];
    out.extend(fields.iter().map(|(_, f)| match mode {
        arrow_schema::UnionMode::Dense => f.as_ref().clone().with_nullable(true),
        arrow_schema::UnionMode::Sparse => f.as_ref().clone(),
    }));
    Fields::from(out)
}

/// Sheaf names for sibling Arrow fields. Sheaf addresses fields by name and Arrow allows a name
/// twice, so a name already taken gets `~2`, `~3`, ... (the first that is free); the array's
/// `arrow:schema` keeps the original names, and export restores them.
pub(crate) fn sibling_names<'n>(names: impl Iterator<Item = &'n str>) -> Vec<String> {
    let names: Vec<&str> = names.collect();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    for (i, &n) in names.iter().enumerate() {
        // A later sibling's own name is never taken by a rename of an earlier one.
        let later = |c: &str| names[i + 1..].contains(&c);
        let name = if taken.contains(n) { (2u64..).map(|k| format!("{n}~{k}")).find(|c| !taken.contains(c) && !later(c)).unwrap_or_default() } else { n.to_string() };
        taken.insert(name.clone());
        out.push(name);
    }
    out
}

/// The shape of an `arrow.fixed_shape_tensor` field whose elements are stored in row-major
/// order (no permutation, or the identity), if it is one.
pub(crate) fn tensor_shape(field: &Field) -> Option<Vec<u64>> {
    let meta = field.metadata();
    if meta.get("ARROW:extension:name").map(String::as_str) != Some("arrow.fixed_shape_tensor") {
        return None;
    }
    let params: serde_json::Value = serde_json::from_str(meta.get("ARROW:extension:metadata")?).ok()?;
    let shape: Vec<u64> = params.get("shape")?.as_array()?.iter().map(serde_json::Value::as_u64).collect::<Option<_>>()?;
    let row_major = match params.get("permutation") {
        None | Some(serde_json::Value::Null) => true,
        Some(p) => p.as_array().is_some_and(|p| p.iter().enumerate().all(|(i, v)| v.as_u64() == Some(i as u64))),
    };
    (row_major && shape.len() > 1).then_some(shape)
}

fn set_nullable(d: DType) -> DType {
    match d {
        DType::Leaf(l) => DType::Leaf(l.with_nullable(true)),
        DType::SubArray { base, shape } => DType::SubArray { base: Box::new(set_nullable(*base)), shape },
        DType::Struct(mut s) => {
            s.fields = s
                .fields
                .into_iter()
                .map(|mut f| {
                    f.dtype = set_nullable(f.dtype);
                    f
                })
                .collect();
            DType::Struct(s)
        }
        // Items are rows of their own level: the list's nulls do not reach them.
        DType::List { item, .. } => DType::List { item, nullable: true },
    }
}

/// The sheaf schema of an Arrow schema: one array named `name` whose dtype is a struct of the
/// top-level fields; the Arrow schema itself goes in the `arrow:schema` metadata.
///
/// # Errors
/// As [`dtype_from_arrow`].
pub fn schema_from_arrow(name: &str, schema: &Schema) -> Result<ArraySchema> {
    if schema.metadata().contains_key("ARROW:experimental_compression") {
        return Err(ArrowInteropError::unsupported(
            "",
            "Arrow IPC",
            "pre-1.0 experimental IPC compression (ARROW:experimental_compression), which the Arrow reader used here does not decode",
        ));
    }
    let names = sibling_names(schema.fields().iter().map(|f| f.name().as_str()));
    let fields = schema.fields().iter().zip(names).map(|(f, name)| Ok(sheaf::Field::new(name.clone(), dtype_from_arrow(f, &name)?))).collect::<Result<Vec<_>>>()?;
    let mut a = ArraySchema::new(name, DType::Struct(StructType { fields, itemsize: None, aligned: false, nullable: false }));
    a.metadata.insert(ARROW_SCHEMA.into(), encode_schema(schema)?);
    Ok(a)
}

/// The Arrow field for a sheaf dtype (default mapping, no original schema).
///
/// # Errors
/// Subarrays of structs (no Arrow equivalent that keeps the layout).
pub fn arrow_field(name: &str, dtype: &DType, path: &str) -> Result<Field> {
    match dtype {
        DType::Leaf(l) => Ok(leaf_field(name, l)),
        DType::SubArray { base, shape } => {
            // Elements nullable one by one (format 1.5) make the innermost item nullable.
            let items = matches!(&**base, DType::Leaf(l) if l.items_nullable);
            let mut inner = arrow_field("item", base, path)?;
            // C order: the last dimension is the innermost list.
            for (i, &d) in shape.iter().enumerate().rev() {
                let n = i32::try_from(d).map_err(|_| ArrowInteropError::unsupported(path, "subarray", "dimension too large"))?;
                let nullable = i == 0 && inner_nullable(base);
                let item_nullable = items && i + 1 == shape.len();
                inner = Field::new(if i == 0 { name } else { "item" }, DataType::FixedSizeList(Arc::new(inner.with_nullable(item_nullable)), n), nullable);
            }
            if let DType::Struct(_) = **base {
                return Err(ArrowInteropError::unsupported(path, "subarray of struct", "Arrow has no fixed-size list of structs with this layout"));
            }
            Ok(inner)
        }
        DType::Struct(s) => {
            let fields = s
                .fields
                .iter()
                .map(|f| arrow_field(&f.name, &f.dtype, &if path.is_empty() { f.name.clone() } else { format!("{path}.{}", f.name) }))
                .collect::<Result<Vec<_>>>()?;
            Ok(Field::new(name, DataType::Struct(Fields::from(fields)), s.nullable))
        }
        DType::List { item, nullable } => {
            let child = arrow_field("item", item, &format!("{path}[]"))?;
            let child = if let DType::Struct(st) = &**item { child.with_nullable(st.nullable) } else { child };
            Ok(Field::new(name, DataType::LargeList(Arc::new(child)), *nullable))
        }
    }
}

fn inner_nullable(d: &DType) -> bool {
    match d {
        DType::Leaf(l) => l.nullable,
        DType::SubArray { base, .. } => inner_nullable(base),
        DType::Struct(_) | DType::List { .. } => false,
    }
}

fn leaf_field(name: &str, l: &Leaf) -> Field {
    let exact = |dt: DataType| {
        let mut md = HashMap::new();
        md.insert(SHEAF_DTYPE.to_string(), l.ty.to_string());
        (dt, md)
    };
    let (dt, mut md): (DataType, HashMap<String, String>) = match l.ty {
        LeafType::Bool => (DataType::Boolean, HashMap::new()),
        LeafType::Int(1) => (DataType::Int8, HashMap::new()),
        LeafType::Int(2) => (DataType::Int16, HashMap::new()),
        LeafType::Int(4) => (DataType::Int32, HashMap::new()),
        LeafType::Int(_) => (DataType::Int64, HashMap::new()),
        LeafType::UInt(1) => (DataType::UInt8, HashMap::new()),
        LeafType::UInt(2) => (DataType::UInt16, HashMap::new()),
        LeafType::UInt(4) => (DataType::UInt32, HashMap::new()),
        LeafType::UInt(_) => (DataType::UInt64, HashMap::new()),
        LeafType::Float(2) => (DataType::Float16, HashMap::new()),
        LeafType::Float(4) => (DataType::Float32, HashMap::new()),
        LeafType::Float(_) => (DataType::Float64, HashMap::new()),
        LeafType::Complex(n) => exact(DataType::FixedSizeList(Arc::new(Field::new("item", if n == 8 { DataType::Float32 } else { DataType::Float64 }, false)), 2)),
        LeafType::Bytes(n) => (DataType::FixedSizeBinary(n as i32), HashMap::new()),
        LeafType::Void(n) => exact(DataType::FixedSizeBinary(n as i32)),
        LeafType::Unicode(_) => exact(DataType::Utf8),
        LeafType::Datetime(u, 1) if unit_to_arrow(u).is_some() => (DataType::Timestamp(unit_to_arrow(u).unwrap_or(ArrowUnit::Nanosecond), None), HashMap::new()),
        LeafType::Timedelta(u, 1) if unit_to_arrow(u).is_some() => (DataType::Duration(unit_to_arrow(u).unwrap_or(ArrowUnit::Nanosecond)), HashMap::new()),
        LeafType::Datetime(..) | LeafType::Timedelta(..) => exact(DataType::Int64),
        LeafType::Utf8 => (DataType::LargeUtf8, HashMap::new()),
        LeafType::Binary => (DataType::LargeBinary, HashMap::new()),
    };
    if l.byte_order == ByteOrder::Big {
        md.insert(SHEAF_BYTE_ORDER.to_string(), ">".to_string());
    }
    Field::new(name, dt, l.nullable).with_metadata(md)
}

/// The Arrow schema for a sheaf array: the original one from `arrow:schema` when the array came
/// from Arrow, else the default mapping of its fields (a non-struct array becomes one column
/// named `values`).
///
/// # Errors
/// As [`arrow_field`]; a corrupt `arrow:schema` entry.
pub fn arrow_schema(schema: &ArraySchema) -> Result<Schema> {
    if let Some(hex) = schema.metadata.get(ARROW_SCHEMA) {
        return decode_schema(hex);
    }
    let fields = match &schema.dtype {
        DType::Struct(s) => s.fields.iter().map(|f| arrow_field(&f.name, &f.dtype, &f.name)).collect::<Result<Vec<_>>>()?,
        other => vec![arrow_field("values", other, "values")?],
    };
    let md: HashMap<String, String> = schema.metadata.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    Ok(Schema::new(fields).with_metadata(md))
}

/// The `arrow:schema` entry for an array that joins `members` (a dataset's files) into
/// `merged`: each field keeps the Arrow type of the first member whose own `arrow:schema` has it
/// with the same sheaf dtype (nullable where `merged` says so), and the others (partition
/// columns, fields whose members have no Arrow schema) take the default mapping. `None` when no
/// member has an Arrow schema, or `merged` is not a record: the default mapping then serves.
///
/// # Errors
/// A corrupt `arrow:schema` entry; dtypes with no Arrow form.
pub fn merged_arrow_schema(merged: &ArraySchema, members: &[&ArraySchema]) -> Result<Option<String>> {
    let DType::Struct(fields) = &merged.dtype else { return Ok(None) };
    let mut own: Vec<(&StructType, Schema)> = Vec::new();
    for m in members {
        if let (DType::Struct(st), Some(hex)) = (&m.dtype, m.metadata.get(ARROW_SCHEMA)) {
            let arrow = decode_schema(hex)?;
            if arrow.fields().len() == st.fields.len() {
                own.push((st, arrow));
            }
        }
    }
    if own.is_empty() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(fields.fields.len());
    for f in &fields.fields {
        let kept = own.iter().find_map(|(st, arrow)| {
            let i = st.fields.iter().position(|g| g.name == f.name && set_nullable(g.dtype.clone()) == set_nullable(f.dtype.clone()))?;
            Some(arrow.field(i).clone())
        });
        let field = match kept {
            Some(a) => {
                let nullable = a.is_nullable() || matches!(&f.dtype, DType::Leaf(l) if l.nullable);
                a.with_nullable(nullable)
            }
            None => arrow_field(&f.name, &f.dtype, &f.name)?,
        };
        out.push(field);
    }
    let metadata = own[0].1.metadata().clone();
    Ok(Some(encode_schema(&Schema::new(out).with_metadata(metadata))?))
}

fn encode_schema(schema: &Schema) -> Result<String> {
    let mut buf = Vec::new();
    {
        let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut buf, schema)?;
        w.finish()?;
    }
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn decode_schema(hex: &str) -> Result<Schema> {
    let bad = || ArrowInteropError::unsupported("", "arrow:schema", "metadata is not hex of an IPC schema");
    if !hex.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes = (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())).collect::<Result<Vec<u8>>>()?;
    let r = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)?;
    Ok((*r.schema()).clone())
}
