//! sheaf columns into Arrow arrays. Buffers are handed over without copying where the layouts
//! agree: plain columns point straight into the file's memory map (`Bytes::from_owner`), decoded
//! columns give their aligned memory to Arrow. Only what Arrow lays out differently is copied
//! (bit-packed booleans, 32-bit dates, `U<n>` strings).

use std::sync::Arc;

use arrow_array::{make_array, Array, ArrayRef, RecordBatch};
use arrow_buffer::{BooleanBuffer, Buffer, NullBuffer};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Schema};
use sheaf::{ArraySchema, Buf, ColumnData, DType, Leaf, LeafType};

use crate::error::{ArrowInteropError, Result};
use crate::types::arrow_field;

/// One leaf column's buffers, ready for Arrow.
#[derive(Debug, Clone)]
pub struct LeafBuffers {
    /// Rows.
    pub rows: usize,
    /// The values (little-endian, `rows × row width` bytes, or the bytes of every row).
    pub values: Buffer,
    /// u64 offsets of a variable-length leaf (`rows + 1`).
    pub offsets: Option<Buffer>,
    /// Validity bitmap (bit offset 0), when any row is null.
    pub validity: Option<Buffer>,
}

impl LeafBuffers {
    /// From column data: owned memory moves into Arrow, shared memory (a slice of a file's map)
    /// is shared with its owner, borrowed memory is copied.
    #[must_use]
    pub fn from_data(d: ColumnData<'_>) -> Self {
        let values = match d.values {
            Buf::Owned(a) => Buffer::from(bytes::Bytes::from_owner(a)),
            Buf::Borrowed(b) => Buffer::from(b.to_vec()),
            Buf::Shared(s) => Buffer::from(s.into_bytes()),
        };
        LeafBuffers { rows: d.rows as usize, values, offsets: d.offsets.map(Buffer::from_vec), validity: d.validity.map(Buffer::from_vec) }
    }

    fn nulls(&self) -> Option<NullBuffer> {
        self.validity.as_ref().map(|v| NullBuffer::new(BooleanBuffer::new(v.clone(), 0, self.rows)))
    }
}

/// A record batch of `schema`'s columns (leaf order) with the fields of `target`.
///
/// # Errors
/// Types that cannot be built from the stored data.
pub fn batch_from_leaves(schema: &ArraySchema, target: &Schema, leaves: Vec<LeafBuffers>, rows: usize) -> Result<RecordBatch> {
    let mut it = leaves.into_iter();
    let mut columns: Vec<ArrayRef> = Vec::new();
    match &schema.dtype {
        DType::Struct(s) => {
            if s.nullable {
                // A record batch's rows cannot be null: the array's own validity must be all set.
                let own = it.next().ok_or_else(|| ArrowInteropError::unsupported(&schema.name, "struct", "missing struct validity column"))?;
                if own.validity.is_some() && own.nulls().is_some_and(|n| n.null_count() > 0) {
                    return Err(ArrowInteropError::unsupported(&schema.name, "struct", "null records at the top level (a record batch has no row nulls)"));
                }
            }
            for (f, tf) in s.fields.iter().zip(target.fields()) {
                columns.push(build(&f.dtype, tf, &mut it, rows, &f.name, false)?);
            }
        }
        other => {
            let tf = target.fields().first().ok_or_else(|| ArrowInteropError::unsupported("", "schema", "no fields"))?;
            columns.push(build(other, tf, &mut it, rows, "values", false)?);
        }
    }
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(Arc::new(target.clone()), columns, &options)?)
}

/// Builds one Arrow array; `under_nullable` says a struct above this one (same level of rows)
/// may be null, so that this struct's nulls must be derived too.
fn build(dtype: &DType, field: &Field, leaves: &mut impl Iterator<Item = LeafBuffers>, rows: usize, path: &str, under_nullable: bool) -> Result<ArrayRef> {
    match (dtype, field.data_type()) {
        (DType::Struct(s), DataType::Struct(tfields)) if s.nullable => {
            // Format 1.5: the struct's own validity column comes first, then its fields (whose
            // leaves also hold the struct's nulls, as Parquet has them).
            let own = leaves.next().ok_or_else(|| ArrowInteropError::unsupported(path, field.data_type(), "missing struct validity column"))?;
            let nulls = own.nulls();
            let mut children = Vec::with_capacity(s.fields.len());
            for (f, tf) in s.fields.iter().zip(tfields.iter()) {
                children.push(build(&f.dtype, tf, leaves, rows, &format!("{path}.{}", f.name), false)?);
            }
            let children = mask_structs(tfields, children, nulls.as_ref())?;
            Ok(Arc::new(arrow_array::StructArray::try_new_with_length(tfields.clone(), children, nulls, rows)?))
        }
        (DType::Struct(s), DataType::Struct(tfields)) => {
            let mut children = Vec::with_capacity(s.fields.len());
            let mut validity: Option<Vec<bool>> = None;
            let derive = field.is_nullable() || under_nullable;
            for (f, tf) in s.fields.iter().zip(tfields.iter()) {
                let child = build(&f.dtype, tf, leaves, rows, &format!("{path}.{}", f.name), derive)?;
                if derive {
                    // Struct nulls were carried by the leaves: a row is valid if any child is.
                    let v = validity.get_or_insert_with(|| vec![false; rows]);
                    for (i, slot) in v.iter_mut().enumerate() {
                        *slot |= child.is_valid(i);
                    }
                }
                children.push(child);
            }
            let nulls = validity.filter(|v| v.iter().any(|b| !b)).map(NullBuffer::from);
            let nulls = if s.fields.is_empty() { None } else { nulls };
            if derive {
                children = mask_structs(tfields, children, nulls.as_ref())?;
            }
            Ok(Arc::new(arrow_array::StructArray::try_new_with_length(tfields.clone(), children, nulls, rows)?))
        }
        (DType::SubArray { base, shape }, DataType::FixedSizeList(child, n)) => {
            // One list level per dimension, or one flat list of all of them (a tensor).
            let flat = shape.len() > 1 && shape.iter().product::<u64>() == *n as u64 && !matches!(child.data_type(), DataType::FixedSizeList(..));
            let inner = if shape.len() > 1 && !flat { DType::subarray((**base).clone(), shape[1..].to_vec()) } else { (**base).clone() };
            let (values, row_nulls) = build_list_values(&inner, child, leaves, rows * *n as usize, path)?;
            Ok(Arc::new(arrow_array::FixedSizeListArray::try_new(child.clone(), *n, values, row_nulls)?))
        }
        (DType::List { item, .. }, DataType::List(child) | DataType::LargeList(child) | DataType::Map(child, _)) => {
            let l = leaves.next().ok_or_else(|| ArrowInteropError::unsupported(path, field.data_type(), "missing column data"))?;
            build_list(item, field.data_type(), child, l, leaves, rows, path)
        }
        (DType::List { item, .. }, dt @ (DataType::ListView(child) | DataType::LargeListView(child))) => {
            let l = leaves.next().ok_or_else(|| ArrowInteropError::unsupported(path, dt, "missing column data"))?;
            let plain = build_list(item, &DataType::LargeList(child.clone()), child, l, leaves, rows, path)?;
            Ok(arrow_cast::cast(&plain, dt)?)
        }
        (DType::Leaf(leaf), dt) => {
            let l = leaves.next().ok_or_else(|| ArrowInteropError::unsupported(path, dt, "missing column data"))?;
            leaf_array(leaf, dt, l, rows, path)
        }
        (DType::Struct(_), DataType::Union(ufields, mode)) => {
            let storage = Field::new(field.name(), DataType::Struct(crate::types::union_storage(ufields, *mode)), false);
            let stored = build(dtype, &storage, leaves, rows, path, false)?;
            union_from_struct(&stored, ufields, *mode, path)
        }
        (d, DataType::Dictionary(keys, value)) if !matches!(d, DType::Leaf(_)) => {
            // Nested values: built plain, then encoded here (Arrow's cast encodes scalars only).
            let plain = build(d, &Field::new(field.name(), (**value).clone(), field.is_nullable()), leaves, rows, path, under_nullable)?;
            dictionary_encode(&plain, keys, path)
        }
        (d, dt) => {
            // The original schema no longer matches (e.g. after --select): use the default mapping.
            let f = arrow_field(field.name(), d, path)?;
            if f.data_type() == dt {
                return Err(ArrowInteropError::unsupported(path, dt, "cannot build"));
            }
            build(d, &f, leaves, rows, path, under_nullable)
        }
    }
}

/// A union from the struct it is stored as ([`crate::types::union_storage`]): a dense union's
/// children keep only the rows that select them.
fn union_from_struct(stored: &ArrayRef, fields: &arrow_schema::UnionFields, mode: arrow_schema::UnionMode, path: &str) -> Result<ArrayRef> {
    let bad = |why: String| ArrowInteropError::unsupported(path, "union", why);
    let st = stored.as_any().downcast_ref::<arrow_array::StructArray>().ok_or_else(|| bad("its stored struct".into()))?;
    let ids = st.column(0).as_any().downcast_ref::<arrow_array::Int8Array>().ok_or_else(|| bad("type ids must be int8".into()))?;
    if ids.null_count() > 0 {
        return Err(bad("null type ids".into()));
    }
    let type_ids = ids.values().clone();
    let (offsets, children) = match mode {
        arrow_schema::UnionMode::Sparse => (None, st.columns()[1..].to_vec()),
        arrow_schema::UnionMode::Dense => {
            let mut next = vec![0i32; fields.len()];
            let mut offsets = Vec::with_capacity(type_ids.len());
            for &t in type_ids.iter() {
                let k = fields.iter().position(|(id, _)| id == t).ok_or_else(|| bad(format!("type id {t} is none of the union's")))?;
                offsets.push(next[k]);
                next[k] += 1;
            }
            let children = fields
                .iter()
                .zip(&st.columns()[1..])
                .map(|((id, _), full)| {
                    let selects: arrow_array::BooleanArray = type_ids.iter().map(|&t| Some(t == id)).collect();
                    Ok(arrow_select::filter::filter(full, &selects)?)
                })
                .collect::<Result<Vec<ArrayRef>>>()?;
            (Some(arrow_buffer::ScalarBuffer::from(offsets)), children)
        }
    };
    Ok(Arc::new(arrow_array::UnionArray::try_new(fields.clone(), type_ids, offsets, children)?))
}

/// Dictionary-encodes any array (nested values too): equal values share one key, in order of
/// first appearance; null rows get null keys.
fn dictionary_encode(values: &ArrayRef, keys: &DataType, path: &str) -> Result<ArrayRef> {
    let converter = arrow_row::RowConverter::new(vec![arrow_row::SortField::new(values.data_type().clone())])?;
    let rows = converter.convert_columns(std::slice::from_ref(values))?;
    let mut first: std::collections::HashMap<arrow_row::Row<'_>, u64> = std::collections::HashMap::new();
    let mut distinct = Vec::new();
    let codes: Vec<Option<u64>> = (0..values.len())
        .map(|i| {
            values.is_valid(i).then(|| {
                *first.entry(rows.row(i)).or_insert_with(|| {
                    distinct.push(i as u64);
                    distinct.len() as u64 - 1
                })
            })
        })
        .collect();
    let dictionary = arrow_select::take::take(values, &arrow_array::UInt64Array::from(distinct), None)?;
    let codes: ArrayRef = Arc::new(arrow_array::UInt64Array::from(codes));
    // Narrowed to the key type, which fails (rather than wraps) when there are too many values.
    let keys_array = arrow_cast::cast_with_options(&codes, keys, &arrow_cast::CastOptions { safe: false, ..Default::default() })
        .map_err(|_| ArrowInteropError::unsupported(path, keys, format!("{} distinct values do not fit the dictionary's keys", first.len())))?;
    let keys_data = keys_array.to_data();
    let data = ArrayData::builder(DataType::Dictionary(Box::new(keys.clone()), Box::new(values.data_type().clone())))
        .len(values.len())
        .add_buffer(keys_data.buffers()[0].clone())
        .nulls(keys_data.nulls().cloned())
        .add_child_data(dictionary.to_data())
        .build()?;
    Ok(make_array(data))
}

/// Gives every non-nullable struct among `children` the nulls of its parent (`nulls`): Arrow
/// masks a null struct's children, and a struct that cannot be null is null exactly where its
/// parent is. Their own derived nulls could mark a row whose fields are all null.
fn mask_structs(fields: &arrow_schema::Fields, children: Vec<ArrayRef>, nulls: Option<&NullBuffer>) -> Result<Vec<ArrayRef>> {
    children
        .into_iter()
        .zip(fields.iter())
        .map(|(c, f)| match (f.is_nullable(), c.as_any().downcast_ref::<arrow_array::StructArray>()) {
            (false, Some(st)) => {
                let (inner_fields, columns, _) = st.clone().into_parts();
                let columns = mask_structs(&inner_fields, columns, nulls)?;
                let masked: ArrayRef = Arc::new(arrow_array::StructArray::try_new_with_length(inner_fields, columns, nulls.cloned(), arrow_array::Array::len(st))?);
                Ok(masked)
            }
            _ => Ok(c),
        })
        .collect()
}

/// A list (or map) array from its list column's offsets and its item columns.
fn build_list(item: &DType, dt: &DataType, child: &Arc<Field>, l: LeafBuffers, leaves: &mut impl Iterator<Item = LeafBuffers>, rows: usize, path: &str) -> Result<ArrayRef> {
    use arrow_buffer::{OffsetBuffer, ScalarBuffer};
    let nulls = l.nulls();
    let offsets = l.offsets.ok_or_else(|| ArrowInteropError::unsupported(path, dt, "list column without offsets"))?;
    // Checked here because Arrow's constructors panic on short, misaligned or decreasing offsets.
    if offsets.len() < (rows + 1) * 8 {
        return Err(ArrowInteropError::unsupported(path, dt, format!("{} bytes of list offsets for {rows} rows", offsets.len())));
    }
    let offsets = if offsets.as_ptr().align_offset(8) == 0 { offsets } else { Buffer::from_vec(offsets.to_vec()) };
    let wide: ScalarBuffer<i64> = ScalarBuffer::new(offsets, 0, rows + 1);
    if wide.first().is_some_and(|&o| o < 0) || wide.windows(2).any(|w| w[1] < w[0]) {
        return Err(ArrowInteropError::unsupported(path, dt, "list offsets decrease"));
    }
    let count = usize::try_from(wide.last().copied().unwrap_or(0)).map_err(|_| ArrowInteropError::unsupported(path, dt, "list offsets out of range"))?;
    let values = build(item, child, leaves, count, &format!("{path}[]"), false)?;
    let narrow = || -> Result<OffsetBuffer<i32>> {
        let small = wide
            .iter()
            .map(|&o| i32::try_from(o).map_err(|_| ArrowInteropError::unsupported(path, dt, format!("{o} items do not fit 32-bit list offsets"))))
            .collect::<Result<Vec<i32>>>()?;
        Ok(OffsetBuffer::new(ScalarBuffer::from(small)))
    };
    Ok(match dt {
        // u64 offsets below 2^63 are the same bytes as Arrow's i64 offsets: no copy.
        DataType::LargeList(_) => Arc::new(arrow_array::LargeListArray::try_new(child.clone(), OffsetBuffer::new(wide), values, nulls)?),
        DataType::Map(_, sorted) => {
            let entries = values.as_any().downcast_ref::<arrow_array::StructArray>().ok_or_else(|| ArrowInteropError::unsupported(path, dt, "map entries must be a struct"))?;
            Arc::new(arrow_array::MapArray::try_new(child.clone(), narrow()?, entries.clone(), nulls, *sorted)?)
        }
        _ => Arc::new(arrow_array::ListArray::try_new(child.clone(), narrow()?, values, nulls)?),
    })
}

/// Builds the values of a fixed-size list (`len` of them). A leaf below lists keeps its
/// validity per top-level row, which is handed back up to the outermost list.
fn build_list_values(dtype: &DType, field: &Field, leaves: &mut impl Iterator<Item = LeafBuffers>, len: usize, path: &str) -> Result<(ArrayRef, Option<NullBuffer>)> {
    match (dtype, field.data_type()) {
        (DType::Leaf(leaf), dt) if leaf.items_nullable => {
            // Format 1.5: the rows' nulls in their own column (first), each element's in the leaf's.
            let row_nulls = if leaf.nullable { leaves.next().ok_or_else(|| ArrowInteropError::unsupported(path, dt, "missing row validity column"))?.nulls() } else { None };
            let mut l = leaves.next().ok_or_else(|| ArrowInteropError::unsupported(path, dt, "missing column data"))?;
            l.rows = len;
            let arr = leaf_array(&Leaf { nullable: true, items_nullable: false, ..*leaf }, dt, l, len, path)?;
            Ok((arr, row_nulls))
        }
        (DType::Leaf(leaf), dt) => {
            let mut l = leaves.next().ok_or_else(|| ArrowInteropError::unsupported(path, dt, "missing column data"))?;
            let row_nulls = l.nulls();
            l.validity = None;
            l.rows = len;
            let arr = leaf_array(&Leaf { nullable: false, ..*leaf }, dt, l, len, path)?;
            Ok((arr, row_nulls))
        }
        (DType::SubArray { base, shape }, DataType::FixedSizeList(child, n)) => {
            // One list level per dimension, or one flat list of all of them (a tensor).
            let flat = shape.len() > 1 && shape.iter().product::<u64>() == *n as u64 && !matches!(child.data_type(), DataType::FixedSizeList(..));
            let inner = if shape.len() > 1 && !flat { DType::subarray((**base).clone(), shape[1..].to_vec()) } else { (**base).clone() };
            let (values, row_nulls) = build_list_values(&inner, child, leaves, len * *n as usize, path)?;
            let arr = Arc::new(arrow_array::FixedSizeListArray::try_new(child.clone(), *n, values, None)?);
            Ok((arr, row_nulls))
        }
        (_, dt) => Err(ArrowInteropError::unsupported(path, dt, "fixed-size lists hold leaves or lists of leaves only")),
    }
}

fn data(dt: DataType, len: usize, buffers: Vec<Buffer>, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    let d = ArrayData::builder(dt).len(len).buffers(buffers).nulls(nulls).build()?;
    Ok(make_array(d))
}

fn narrow_i32(values: &Buffer, path: &str, dt: &DataType) -> Result<Buffer> {
    let mut out = Vec::with_capacity(values.len() / 2);
    for c in values.chunks_exact(8) {
        let v = i64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        let n = i32::try_from(v).map_err(|_| ArrowInteropError::unsupported(path, dt, format!("value {v} does not fit in 32 bits")))?;
        out.extend_from_slice(&n.to_le_bytes());
    }
    Ok(Buffer::from_vec(out))
}

/// Whether `dt` stores exactly the i64 values of leaf type `ty` (time zones and the Arrow type
/// differ, the numbers do not): no conversion, and no time-zone database needed.
fn same_int64_storage(ty: LeafType, dt: &DataType) -> bool {
    use arrow_schema::TimeUnit as U;
    let unit = |u: &U| match u {
        U::Second => sheaf::TimeUnit::Second,
        U::Millisecond => sheaf::TimeUnit::Milli,
        U::Microsecond => sheaf::TimeUnit::Micro,
        U::Nanosecond => sheaf::TimeUnit::Nano,
    };
    match (ty, dt) {
        (LeafType::Datetime(t, 1), DataType::Timestamp(u, _)) => t == unit(u),
        (LeafType::Datetime(sheaf::TimeUnit::Milli, 1), DataType::Date64) => true,
        (LeafType::Timedelta(t, 1), DataType::Duration(u) | DataType::Time64(u)) => t == unit(u),
        _ => false,
    }
}

fn leaf_array(leaf: &Leaf, dt: &DataType, l: LeafBuffers, rows: usize, path: &str) -> Result<ArrayRef> {
    let nulls = l.nulls();
    let native = arrow_field("x", &DType::Leaf(*leaf), path)?;
    let arr: ArrayRef = match (leaf.ty, dt) {
        (ty, dt) if same_int64_storage(ty, dt) => data(dt.clone(), rows, vec![l.values], nulls)?,
        (LeafType::Void(0), DataType::Null) => Arc::new(arrow_array::NullArray::new(rows)),
        (LeafType::Void(_), DataType::Interval(_)) => data(dt.clone(), rows, vec![l.values], nulls)?,
        // Bytes to bits whatever the target (a run-end encoded or dictionary target is cast below).
        (LeafType::Bool, _) => {
            let bits = BooleanBuffer::from_iter(l.values.iter().map(|&b| b != 0));
            Arc::new(arrow_array::BooleanArray::new(bits, nulls))
        }
        (LeafType::Datetime(..) | LeafType::Timedelta(..), DataType::Date32 | DataType::Time32(_)) => data(dt.clone(), rows, vec![narrow_i32(&l.values, path, dt)?], nulls)?,
        (LeafType::Void(_) | LeafType::Bytes(_), DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..)) => {
            data(dt.clone(), rows, vec![l.values], nulls)?
        }
        (LeafType::Unicode(n), _) => {
            let mut b = arrow_array::builder::StringBuilder::new();
            for (i, row) in l.values.chunks_exact((n as usize * 4).max(1)).enumerate().take(rows) {
                if nulls.as_ref().is_some_and(|nb| nb.is_null(i)) {
                    b.append_null();
                    continue;
                }
                let mut s = String::new();
                for cp in row.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])) {
                    s.push(char::from_u32(cp).ok_or_else(|| ArrowInteropError::unsupported(path, "U", format!("row {i} holds code point {cp:#x}, which is not a character")))?);
                }
                b.append_value(s.trim_end_matches('\0'));
            }
            if n == 0 {
                for i in 0..rows {
                    if nulls.as_ref().is_some_and(|nb| nb.is_null(i)) {
                        b.append_null()
                    } else {
                        b.append_value("")
                    }
                }
            }
            Arc::new(b.finish())
        }
        (LeafType::Complex(n), _) => {
            let child_dt = if n == 8 { DataType::Float32 } else { DataType::Float64 };
            let child = data(child_dt.clone(), rows * 2, vec![l.values], None)?;
            Arc::new(arrow_array::FixedSizeListArray::try_new(Arc::new(Field::new("item", child_dt, false)), 2, child, nulls)?)
        }
        (LeafType::Utf8 | LeafType::Binary, _) => {
            let offsets = l.offsets.ok_or_else(|| ArrowInteropError::unsupported(path, dt, "variable-length column without offsets"))?;
            let large = if leaf.ty == LeafType::Utf8 { DataType::LargeUtf8 } else { DataType::LargeBinary };
            // u64 offsets below 2^63 are the same bytes as Arrow's i64 offsets.
            data(large, rows, vec![offsets, l.values], nulls)?
        }
        (LeafType::Bytes(_) | LeafType::Void(_), _) => data(native.data_type().clone(), rows, vec![l.values], nulls)?,
        _ => data(native.data_type().clone(), rows, vec![l.values], nulls)?,
    };
    if arr.data_type() == dt {
        return Ok(arr);
    }
    Ok(arrow_cast::cast(&arr, dt)?)
}
