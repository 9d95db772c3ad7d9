//! Arrow arrays into sheaf column data: one [`ColumnData`] per sheaf leaf, in leaf order.
//! Struct and fixed-size-list nulls are carried down into every leaf below them.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use sheaf::{AlignedBytes, Buf, ColumnData, DType, SharedSlice};

use crate::error::{ArrowInteropError, Result};

/// The columns of `batch` (whose schema maps to `dtype`, a struct of its fields), in leaf order.
///
/// # Errors
/// Values sheaf cannot hold (nulls inside fixed-size lists, invalid types).
pub fn columns_from_batch(batch: &RecordBatch, dtype: &DType) -> Result<Vec<ColumnData<'static>>> {
    let DType::Struct(s) = dtype else {
        return Err(ArrowInteropError::unsupported("", "record batch", "the sheaf dtype of a batch must be a struct"));
    };
    let mut out = Vec::new();
    for (f, col) in s.fields.iter().zip(batch.columns()) {
        walk(col, &f.dtype, None, &f.name, batch.num_rows(), 1, &mut out)?;
    }
    Ok(out)
}

fn combine(parent: Option<&NullBuffer>, own: Option<&NullBuffer>) -> Option<NullBuffer> {
    NullBuffer::union(parent, own)
}

fn owned(bytes: &[u8]) -> Buf<'static> {
    Buf::Owned(AlignedBytes::copy_from(bytes))
}

/// Expands row validity to `rows` bitmap bytes (bit offset 0).
fn bitmap(nulls: Option<&NullBuffer>) -> Option<Vec<u8>> {
    let n = nulls?;
    if n.null_count() == 0 {
        return None;
    }
    let mut out = vec![0u8; n.len().div_ceil(8)];
    for (i, v) in n.iter().enumerate() {
        if v {
            out[i / 8] |= 1 << (i % 8);
        }
    }
    Some(out)
}

fn walk(array: &ArrayRef, dtype: &DType, parent: Option<&NullBuffer>, path: &str, rows: usize, per_row: usize, out: &mut Vec<ColumnData<'static>>) -> Result<()> {
    if let DataType::Dictionary(_, value) = array.data_type() {
        let decoded = arrow_cast::cast(array, value)?;
        return walk(&decoded, dtype, parent, path, rows, per_row, out);
    }
    if let DataType::RunEndEncoded(_, values) = array.data_type() {
        let decoded = arrow_cast::cast(array, values.data_type())?;
        return walk(&decoded, dtype, parent, path, rows, per_row, out);
    }
    if let DataType::Union(..) = array.data_type() {
        let stored: ArrayRef = Arc::new(union_as_struct(array, path)?);
        return walk(&stored, dtype, parent, path, rows, per_row, out);
    }
    match dtype {
        DType::Struct(s) => {
            let st = array.as_struct_opt().ok_or_else(|| ArrowInteropError::unsupported(path, array.data_type(), "expected a struct"))?;
            let nulls = combine(parent, st.nulls());
            if s.nullable {
                // Format 1.5: the struct's own nulls (its parent's included), whatever its fields
                // hold, in a zero-width column of its own.
                out.push(ColumnData { rows: rows as u64, values: owned(&[]), offsets: None, validity: bitmap(nulls.as_ref()) });
            }
            for (f, child) in s.fields.iter().zip(st.columns()) {
                walk(child, &f.dtype, nulls.as_ref(), &format!("{path}.{}", f.name), rows, per_row, out)?;
            }
            Ok(())
        }
        DType::SubArray { base, shape } => {
            let list = array.as_fixed_size_list_opt().ok_or_else(|| ArrowInteropError::unsupported(path, array.data_type(), "expected a fixed-size list"))?;
            if let DType::Leaf(leaf) = &**base {
                let elements = shape.iter().product::<u64>() as usize;
                if leaf.items_nullable && per_row == 1 && list.value_length() as usize == elements {
                    return walk_nullable_items(list, leaf, parent, path, rows, elements, out);
                }
            }
            // One list level per dimension, or one flat list of all of them (a tensor).
            let elements: u64 = shape.iter().product();
            let flat = shape.len() > 1 && list.value_length() as u64 == elements;
            let n = if flat { elements as usize } else { shape.first().copied().unwrap_or(1) as usize };
            let nulls = if per_row == 1 { combine(parent, list.nulls()) } else { parent.cloned() };
            let start = if list.is_empty() { 0 } else { list.value_offset(0) as usize };
            let values = list.values().slice(start, list.len() * n);
            if let Some(child_nulls) = values.logical_nulls().filter(|n| n.null_count() > 0) {
                // Child nulls are fine where the whole row is null (writers null the elements
                // of a null list); elsewhere sheaf cannot hold them.
                let row_null = |i: usize| nulls.as_ref().is_some_and(|rn| rn.is_null(i / (per_row * n).max(1)));
                if (0..child_nulls.len()).any(|i| child_nulls.is_null(i) && !row_null(i)) {
                    return Err(ArrowInteropError::unsupported(path, array.data_type(), "nulls inside a fixed-size list (sheaf has nulls per row only)"));
                }
            }
            let inner = match &**base {
                d @ DType::SubArray { .. } | d @ DType::Leaf(_) => d.clone(),
                DType::Struct(_) => return Err(ArrowInteropError::unsupported(path, array.data_type(), "fixed-size lists of structs")),
                DType::List { .. } => return Err(ArrowInteropError::unsupported(path, array.data_type(), "variable-length lists inside fixed-size lists")),
            };
            // Shapes of nested subarrays are handled by recursing one list level per dimension.
            let inner = if shape.len() > 1 && !flat { DType::subarray(inner, shape[1..].to_vec()) } else { inner };
            walk(&values, &inner, nulls.as_ref(), path, rows, per_row * n, out)
        }
        DType::List { item, nullable } => {
            let nulls = combine(parent, array.nulls());
            let validity = bitmap(nulls.as_ref());
            if validity.is_some() && !nullable {
                return Err(ArrowInteropError::unsupported(path, array.data_type(), "null lists in a field the schema says is not nullable"));
            }
            let (offsets, items) = list_parts(array, path)?;
            let count = offsets.last().copied().unwrap_or(0) as usize;
            out.push(ColumnData { rows: rows as u64, values: owned(&[]), offsets: Some(offsets), validity });
            // The items are rows of a level of their own: no nulls carry into them.
            walk(&items, item, None, &format!("{path}[]"), count, 1, out)
        }
        DType::Leaf(leaf) => {
            // A Null array has no null buffer: its nulls are logical.
            let own = if array.data_type() == &DataType::Null { array.logical_nulls() } else { array.nulls().cloned() };
            let nulls = if per_row == 1 { combine(parent, own.as_ref()) } else { parent.cloned() };

            let validity = bitmap(nulls.as_ref());
            if validity.is_some() && !leaf.nullable {
                return Err(ArrowInteropError::unsupported(path, array.data_type(), "nulls in a field the schema says is not nullable"));
            }
            let (values, offsets) = leaf_bytes(array, path)?;
            out.push(ColumnData { rows: rows as u64, values, offsets, validity });
            Ok(())
        }
    }
}

/// A union as the struct sheaf stores ([`crate::types::union_storage`]): its type ids, then
/// each child with one value per row (a dense union's children taken through its offsets,
/// null under the rows that select another child).
fn union_as_struct(array: &ArrayRef, path: &str) -> Result<arrow_array::StructArray> {
    let DataType::Union(fields, mode) = array.data_type() else {
        return Err(ArrowInteropError::unsupported(path, array.data_type(), "expected a union"));
    };
    let union = array.as_any().downcast_ref::<arrow_array::UnionArray>().ok_or_else(|| ArrowInteropError::unsupported(path, array.data_type(), "expected a union"))?;
    let ids = union.type_ids();
    let mut columns: Vec<ArrayRef> = vec![Arc::new(arrow_array::Int8Array::new(ids.clone(), None))];
    for (id, _) in fields.iter() {
        let child = union.child(id);
        let column = match mode {
            arrow_schema::UnionMode::Sparse if child.len() < union.len() => {
                return Err(ArrowInteropError::unsupported(path, array.data_type(), format!("a sparse union child of {} values for {} rows", child.len(), union.len())));
            }
            arrow_schema::UnionMode::Sparse => child.slice(0, union.len()),
            arrow_schema::UnionMode::Dense => {
                let offset =
                    |row: usize| u32::try_from(union.value_offset(row)).map_err(|_| ArrowInteropError::unsupported(path, "dense union", format!("row {row}: offset out of range")));
                let indices = ids.iter().enumerate().map(|(row, &t)| (t == id).then(|| offset(row)).transpose()).collect::<Result<arrow_array::UInt32Array>>()?;
                arrow_select::take::take(child, &indices, Some(arrow_select::take::TakeOptions { check_bounds: true }))?
            }
        };
        columns.push(column);
    }
    Ok(arrow_array::StructArray::try_new(crate::types::union_storage(fields, *mode), columns, None)?)
}

/// A fixed-size list of leaves whose items are nullable one by one (format 1.5): the rows' own
/// nulls (the list's and its parents') go to the row validity column when the leaf is
/// nullable, and every element gets a validity bit (null where its row is).
fn walk_nullable_items(
    list: &arrow_array::FixedSizeListArray,
    leaf: &sheaf::Leaf,
    parent: Option<&NullBuffer>,
    path: &str,
    rows: usize,
    n: usize,
    out: &mut Vec<ColumnData<'static>>,
) -> Result<()> {
    let row_nulls = combine(parent, list.nulls());
    if row_nulls.as_ref().is_some_and(|r| r.null_count() > 0) && !leaf.nullable {
        return Err(ArrowInteropError::unsupported(path, list.data_type(), "null lists in a field the schema says is not nullable"));
    }
    if leaf.nullable {
        out.push(ColumnData { rows: rows as u64, values: owned(&[]), offsets: None, validity: bitmap(row_nulls.as_ref()) });
    }
    let start = if list.is_empty() { 0 } else { list.value_offset(0) as usize };
    let values = list.values().slice(start, rows * n);
    let items = values.logical_nulls();
    let any_null = items.as_ref().is_some_and(|i| i.null_count() > 0) || row_nulls.as_ref().is_some_and(|r| r.null_count() > 0);
    let validity = any_null.then(|| {
        let mut bits = vec![0u8; (rows * n).div_ceil(8)];
        for e in 0..rows * n {
            let ok = items.as_ref().is_none_or(|i| i.is_valid(e)) && row_nulls.as_ref().is_none_or(|r| r.is_valid(e / n));
            if ok {
                bits[e / 8] |= 1 << (e % 8);
            }
        }
        bits
    });
    let (bytes, offsets) = leaf_bytes(&values, path)?;
    out.push(ColumnData { rows: rows as u64, values: bytes, offsets, validity });
    Ok(())
}

/// A list array's offsets, rebased to start at 0, and exactly the items they cover.
fn list_parts(array: &ArrayRef, path: &str) -> Result<(Vec<u64>, ArrayRef)> {
    fn cut<O: arrow_array::OffsetSizeTrait>(offsets: &[O], values: &ArrayRef) -> (Vec<u64>, ArrayRef) {
        let first = offsets.first().map_or(0, |o| o.as_usize());
        let last = offsets.last().map_or(0, |o| o.as_usize());
        let rebased = offsets.iter().map(|o| (o.as_usize() - first) as u64).collect();
        (rebased, values.slice(first, last - first))
    }
    Ok(match array.data_type() {
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            cut(l.value_offsets(), l.values())
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            cut(l.value_offsets(), l.values())
        }
        DataType::ListView(child) | DataType::LargeListView(child) => {
            // Views may overlap and skip: as a plain list, items in row order.
            let plain = arrow_cast::cast(array, &DataType::LargeList(child.clone()))?;
            let l = plain.as_list::<i64>();
            cut(l.value_offsets(), l.values())
        }
        DataType::Map(..) => {
            let m = array.as_map();
            let entries: ArrayRef = std::sync::Arc::new(m.entries().clone());
            cut(m.value_offsets(), &entries)
        }
        other => return Err(ArrowInteropError::unsupported(path, other, "expected a list")),
    })
}

/// The values (and offsets) of a leaf array as sheaf stores them (little-endian, u64 offsets).
fn leaf_bytes(array: &ArrayRef, path: &str) -> Result<(Buf<'static>, Option<Vec<u64>>)> {
    let dt = array.data_type();
    let data = array.to_data();
    Ok(match dt {
        DataType::Boolean => {
            let b = array.as_boolean();
            let bytes: Vec<u8> = (0..b.len()).map(|i| u8::from(b.value(i))).collect();
            (owned(&bytes), None)
        }
        DataType::Date32 | DataType::Time32(_) => {
            let buf = &data.buffers()[0];
            let raw = &buf[data.offset() * 4..(data.offset() + data.len()) * 4];
            let wide: Vec<u8> = raw.chunks_exact(4).flat_map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes()).collect();
            (owned(&wide), None)
        }
        DataType::Utf8 | DataType::Binary => {
            let (offs, vals) = if let Some(s) = array.as_string_opt::<i32>() {
                (s.value_offsets(), s.values())
            } else {
                let b = array.as_binary::<i32>();
                (b.value_offsets(), b.values())
            };
            var(offs.iter().map(|&o| o as i64), vals)
        }
        DataType::LargeUtf8 | DataType::LargeBinary => {
            let (offs, vals) = if let Some(s) = array.as_string_opt::<i64>() {
                (s.value_offsets(), s.values())
            } else {
                let b = array.as_binary::<i64>();
                (b.value_offsets(), b.values())
            };
            var(offs.iter().copied(), vals)
        }
        DataType::Utf8View | DataType::BinaryView => {
            let mut offsets = vec![0u64];
            let mut bytes = Vec::new();
            if let Some(s) = array.as_string_view_opt() {
                for i in 0..s.len() {
                    bytes.extend_from_slice(s.value(i).as_bytes());
                    offsets.push(bytes.len() as u64);
                }
            } else {
                let b = array.as_binary_view();
                for i in 0..b.len() {
                    bytes.extend_from_slice(b.value(i));
                    offsets.push(bytes.len() as u64);
                }
            }
            (owned(&bytes), Some(offsets))
        }
        DataType::Null => (owned(&[]), None),
        DataType::FixedSizeBinary(n) => primitive(&data, *n as usize),
        other => match other.primitive_width() {
            Some(w) => primitive(&data, w),
            None => return Err(ArrowInteropError::unsupported(path, other, "no sheaf leaf holds it")),
        },
    })
}

/// An Arrow buffer as the owner of a [`SharedSlice`] (arrow 59's `Buffer` has no `AsRef<[u8]>`).
struct ArrowBytes(arrow_buffer::Buffer);

impl AsRef<[u8]> for ArrowBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

/// A fixed-width array's values, shared with the Arrow buffer (no copy).
fn primitive(data: &arrow_data::ArrayData, w: usize) -> (Buf<'static>, Option<Vec<u64>>) {
    let values = data.buffers()[0].slice_with_length(data.offset() * w, data.len() * w);
    (Buf::Shared(SharedSlice::new(ArrowBytes(values))), None)
}

/// A variable-length array's offsets, rebased to 0, and its values, shared with the Arrow
/// buffer (no copy).
fn var(offsets: impl Iterator<Item = i64>, values: &arrow_buffer::Buffer) -> (Buf<'static>, Option<Vec<u64>>) {
    let offs: Vec<i64> = offsets.collect();
    let base = offs.first().copied().unwrap_or(0);
    let end = offs.last().copied().unwrap_or(0);
    let rebased: Vec<u64> = offs.iter().map(|&o| (o - base) as u64).collect();
    (Buf::Shared(SharedSlice::new(ArrowBytes(values.slice_with_length(base as usize, (end - base) as usize)))), Some(rebased))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{FixedSizeBinaryArray, FixedSizeListArray, Float32Array, Int64Array, StringArray};
    use arrow_schema::{Field as ArrowField, Schema};
    use sheaf::{Field, LeafType};

    use super::*;

    #[test]
    fn a_fixed_shape_tensor_keeps_its_shape() {
        let item = Arc::new(ArrowField::new("item", DataType::Float32, false));
        let flat = FixedSizeListArray::new(item.clone(), 6, Arc::new(Float32Array::from_iter_values((0..24).map(|i| i as f32))), None);
        let meta = [("ARROW:extension:name".to_string(), "arrow.fixed_shape_tensor".to_string()), ("ARROW:extension:metadata".to_string(), r#"{"shape":[2,3]}"#.to_string())];
        let field = ArrowField::new("t", flat.data_type().clone(), false).with_metadata(meta.into_iter().collect::<std::collections::HashMap<_, _>>());
        let dtype = crate::types::dtype_from_arrow(&field, "t").unwrap();
        assert_eq!(dtype, DType::subarray(DType::leaf(LeafType::Float(4)), vec![2, 3]));
        // Not a tensor (no extension), or a permuted one: one list level, as before.
        let plain = crate::types::dtype_from_arrow(&ArrowField::new("t", flat.data_type().clone(), false), "t").unwrap();
        assert_eq!(plain, DType::subarray(DType::leaf(LeafType::Float(4)), vec![6]));
        let permuted = field.clone().with_metadata(
            [
                ("ARROW:extension:name".to_string(), "arrow.fixed_shape_tensor".to_string()),
                ("ARROW:extension:metadata".to_string(), r#"{"shape":[2,3],"permutation":[1,0]}"#.to_string()),
            ]
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>(),
        );
        assert_eq!(crate::types::dtype_from_arrow(&permuted, "t").unwrap(), plain);
        // The flat list's elements are the tensor's, row-major.
        let batch = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![Arc::new(flat)]).unwrap();
        let cols = columns_from_batch(&batch.slice(1, 2), &DType::structure(vec![Field::new("t", dtype)])).unwrap();
        let values: Vec<f32> = cols[0].values.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        assert_eq!(values, (6..18).map(|i| i as f32).collect::<Vec<_>>());
    }

    #[test]
    fn values_are_shared_with_arrow_not_copied() {
        let ids = Int64Array::from_iter_values(0..1000);
        let pos =
            FixedSizeListArray::new(Arc::new(ArrowField::new("item", DataType::Float32, false)), 3, Arc::new(Float32Array::from_iter_values((0..3000).map(|i| i as f32))), None);
        let sym = FixedSizeBinaryArray::try_from_iter((0..1000).map(|i: u32| i.to_le_bytes())).unwrap();
        let text = StringArray::from_iter_values((0..1000).map(|i| format!("t{i}")));
        let schema = Schema::new(vec![
            ArrowField::new("id", DataType::Int64, false),
            ArrowField::new("pos", pos.data_type().clone(), false),
            ArrowField::new("sym", DataType::FixedSizeBinary(4), false),
            ArrowField::new("text", DataType::Utf8, false),
        ]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(ids.clone()), Arc::new(pos.clone()), Arc::new(sym.clone()), Arc::new(text.clone())]).unwrap();
        let dtype = DType::structure(vec![
            Field::new("id", DType::leaf(LeafType::Int(8))),
            Field::new("pos", DType::subarray(DType::leaf(LeafType::Float(4)), vec![3])),
            Field::new("sym", DType::leaf(LeafType::Bytes(4))),
            Field::new("text", DType::Leaf(sheaf::Leaf::new(LeafType::Utf8))),
        ]);
        // A slice in the middle: the shared bytes start at its first row.
        let part = batch.slice(100, 250);
        let cols = columns_from_batch(&part, &dtype).unwrap();
        let pos_values = pos.values().to_data();
        let sources: [&[u8]; 3] = [ids.values().inner().as_slice(), pos_values.buffers()[0].as_slice(), sym.value_data()];
        let widths = [8, 12, 4];
        // Strings: the values of rows 100..350, offsets rebased to them.
        let first = text.value_offsets()[100] as usize;
        let last = text.value_offsets()[350] as usize;
        assert!(matches!(cols[3].values, Buf::Shared(_)), "{:?}", cols[3].values);
        assert_eq!(cols[3].values.as_ptr(), text.value_data()[first..].as_ptr(), "string values copied instead of shared");
        assert_eq!(&cols[3].values[..], &text.value_data()[first..last]);
        assert_eq!(cols[3].offsets.as_ref().map(|o| (o[0], o[250])), Some((0, (last - first) as u64)));
        for ((c, source), w) in cols.iter().zip(sources).zip(widths) {
            assert!(matches!(c.values, Buf::Shared(_)), "{:?}", c.values);
            assert_eq!(c.values.as_ptr(), source[100 * w..].as_ptr(), "copied instead of shared");
            assert_eq!(&c.values[..], &source[100 * w..350 * w]);
        }
    }
}
