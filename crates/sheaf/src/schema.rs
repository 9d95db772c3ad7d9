//! The schema document: the named arrays of a file, each with its dtype, shape and order, and the
//! flattening of each dtype into leaf columns (depth-first, field order). The document is small
//! JSON (one entry per field, never per chunk), so opening a wide file parses kilobytes; its exact
//! form is in `spec/format.md`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::dtype::{ByteOrder, DType, Field, Leaf, LeafType, StructType};
use crate::error::{Error, Result};
use crate::format::MAX_NESTING;

/// One named array of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ArraySchema {
    /// Name, unique in the file (a `.npy` source gives `""`... callers choose).
    pub name: String,
    /// Element dtype.
    pub dtype: DType,
    /// Full shape; `None` while writing means `[rows]`. The product of the shape is the row count.
    pub shape: Option<Vec<u64>>,
    /// Whether the source array was in Fortran order (elements are stored in memory order).
    pub fortran_order: bool,
    /// Free-form string metadata.
    pub metadata: BTreeMap<String, String>,
}

impl ArraySchema {
    /// A one-dimensional array of `dtype`.
    pub fn new(name: impl Into<String>, dtype: DType) -> Self {
        ArraySchema { name: name.into(), dtype, shape: None, fortran_order: false, metadata: BTreeMap::new() }
    }

    /// Sets the full shape (its product must equal the rows written).
    #[must_use]
    pub fn with_shape(mut self, shape: Vec<u64>) -> Self {
        self.shape = Some(shape);
        self
    }

    /// Sets the Fortran-order flag.
    #[must_use]
    pub fn with_fortran_order(mut self, fortran: bool) -> Self {
        self.fortran_order = fortran;
        self
    }

    /// The leaf columns of this array, depth-first (a list contributes its offsets column, then
    /// its item's columns).
    #[must_use]
    pub fn columns(&self) -> Vec<ColumnDesc> {
        let mut out = Vec::new();
        flatten(&self.dtype, &mut Vec::new(), &mut Vec::new(), (0, &mut 0), &mut out);
        out
    }

    /// How many list levels the dtype has (levels of rows besides the array's own).
    #[must_use]
    pub fn list_levels(&self) -> usize {
        self.columns().iter().filter(|c| c.is_list()).count()
    }
}

/// Path segment that stands for "the items of this list".
pub const LIST_ITEMS: &str = "[]";

/// Path segment of a nullable struct's validity column (format 1.5): `s{}` holds whether each
/// record of struct `s` is present.
pub const STRUCT_VALIDITY: &str = "{}";

/// One leaf column: where it sits in the dtype tree and what one row of it holds.
///
/// A list contributes two kinds of column: the list's own column (its rows are the rows holding
/// the lists; [`ColumnDesc::is_list`]) and its item's columns, whose rows are the items of every
/// list together (a new *level* of rows). Level 0 is the array's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDesc {
    /// Field names from the array's dtype down to this leaf (empty for a non-struct array;
    /// [`LIST_ITEMS`] where the path enters a list's items).
    pub path: Vec<String>,
    /// The leaf type (for a list column, `u8`: the stored end offsets; nullable when lists may
    /// be null).
    pub leaf: Leaf,
    /// Subarray dimensions accumulated on the way down (empty for scalars).
    pub shape: Vec<u64>,
    /// The level of rows this column has (0: the array's rows).
    pub level: usize,
    /// For a list column, the level its items form.
    pub items_level: Option<usize>,
}

impl ColumnDesc {
    /// A column at level 0 that is not a list.
    #[must_use]
    pub fn new(path: Vec<String>, leaf: Leaf, shape: Vec<u64>) -> Self {
        ColumnDesc { path, leaf, shape, level: 0, items_level: None }
    }

    /// Whether this is a validity column of its own (path ending in [`STRUCT_VALIDITY`], format
    /// 1.5): zero-width, its bitmap says which rows of a nullable struct, or of a subarray whose
    /// elements are nullable one by one, are present.
    #[must_use]
    pub fn is_row_validity(&self) -> bool {
        self.path.last().is_some_and(|s| s == STRUCT_VALIDITY) && self.leaf.ty == LeafType::Void(0) && self.items_level.is_none()
    }

    /// Validity bits a row of this column has: its elements' count for a leaf whose elements
    /// are nullable one by one inside a subarray (format 1.5), else 1.
    #[must_use]
    pub fn validity_bits_per_row(&self) -> u64 {
        if self.leaf.items_nullable && !self.shape.is_empty() {
            self.elements_per_row()
        } else {
            1
        }
    }

    /// Whether this column may hold nulls (rows, or elements one by one).
    #[must_use]
    pub fn may_have_nulls(&self) -> bool {
        self.leaf.nullable || self.validity_bits_per_row() != 1 || self.leaf.items_nullable
    }

    /// Whether this is a list's offsets column.
    #[must_use]
    pub fn is_list(&self) -> bool {
        self.items_level.is_some()
    }

    /// The dotted path (`pos`, `a.b`, `tags[]`, `pts[].x`), or `""` for a plain array.
    #[must_use]
    pub fn name(&self) -> String {
        let mut s = String::new();
        for (i, seg) in self.path.iter().enumerate() {
            if seg != LIST_ITEMS && seg != STRUCT_VALIDITY && i > 0 {
                s.push('.');
            }
            s.push_str(seg);
        }
        s
    }

    /// Elements per row (product of the subarray shape).
    #[must_use]
    pub fn elements_per_row(&self) -> u64 {
        self.shape.iter().product()
    }

    /// Bytes per row as stored, `None` for variable-length leaves. A list column stores one u64
    /// end offset per row.
    #[must_use]
    pub fn row_width(&self) -> Option<u64> {
        self.leaf.ty.itemsize()?.checked_mul(self.elements_per_row())
    }

    /// Whether a row has a fixed width to the user: not variable-length, not a list.
    #[must_use]
    pub fn is_fixed_width(&self) -> bool {
        !self.is_list() && self.row_width().is_some()
    }

    /// Short type text: `f4`, `f4(3,)`, `M8[ns]`, `utf8?` (nullable), `list`.
    #[must_use]
    pub fn type_text(&self) -> String {
        let mut s = if self.is_list() { "list".to_string() } else { self.leaf.ty.to_string() };
        if !self.shape.is_empty() {
            let dims: Vec<String> = self.shape.iter().map(u64::to_string).collect();
            s.push_str(&format!("({}{})", dims.join(","), if dims.len() == 1 { "," } else { "" }));
        }
        if self.leaf.nullable {
            s.push('?');
        }
        s
    }
}

/// Depth-first flattening; `levels` is (the level of the rows here, the last level numbered).
fn flatten(dtype: &DType, path: &mut Vec<String>, shape: &mut Vec<u64>, levels: (usize, &mut usize), out: &mut Vec<ColumnDesc>) {
    let (level, last) = levels;
    match dtype {
        DType::Leaf(leaf) if leaf.items_nullable && leaf.nullable && !shape.is_empty() => {
            // Element nulls take the leaf's bitmap; the rows' own nulls a column before it.
            path.push(STRUCT_VALIDITY.to_string());
            out.push(ColumnDesc { path: path.clone(), leaf: Leaf::new(LeafType::Void(0)).with_nullable(true), shape: Vec::new(), level, items_level: None });
            path.pop();
            out.push(ColumnDesc { path: path.clone(), leaf: *leaf, shape: shape.clone(), level, items_level: None });
        }
        DType::Leaf(leaf) => out.push(ColumnDesc { path: path.clone(), leaf: *leaf, shape: shape.clone(), level, items_level: None }),
        DType::SubArray { base, shape: dims } => {
            let n = shape.len();
            shape.extend_from_slice(dims);
            flatten(base, path, shape, (level, last), out);
            shape.truncate(n);
        }
        DType::Struct(s) => {
            if s.nullable {
                // The struct's own nulls: a zero-width column whose validity is the struct's.
                path.push(STRUCT_VALIDITY.to_string());
                let leaf = Leaf::new(LeafType::Void(0)).with_nullable(true);
                out.push(ColumnDesc { path: path.clone(), leaf, shape: shape.clone(), level, items_level: None });
                path.pop();
            }
            for f in &s.fields {
                path.push(f.name.clone());
                flatten(&f.dtype, path, shape, (level, &mut *last), out);
                path.pop();
            }
        }
        DType::List { item, nullable } => {
            *last += 1;
            let items = *last;
            let leaf = Leaf::new(LeafType::UInt(8)).with_nullable(*nullable);
            out.push(ColumnDesc { path: path.clone(), leaf, shape: shape.clone(), level, items_level: Some(items) });
            path.push(LIST_ITEMS.to_string());
            flatten(item, path, &mut Vec::new(), (items, last), out);
            path.pop();
        }
    }
}

/// All arrays of a file plus file-level metadata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// The arrays in file order.
    pub arrays: Vec<ArraySchema>,
    /// Free-form string metadata.
    pub metadata: BTreeMap<String, String>,
}

/// An array's schema plus what the file says about its rows and columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredArray {
    pub(crate) schema: ArraySchema,
    pub(crate) rows: u64,
    pub(crate) first_column: usize,
    pub(crate) columns: Vec<ColumnDesc>,
    /// Rows of each list level (index 0: level 1).
    pub(crate) item_rows: Vec<u64>,
}

impl StoredArray {
    /// Rows at `level` (0: the array's rows).
    pub(crate) fn level_rows(&self, level: usize) -> u64 {
        match level {
            0 => self.rows,
            l => self.item_rows.get(l - 1).copied().unwrap_or(0),
        }
    }
}

pub(crate) fn dtype_to_json(dtype: &DType) -> Value {
    match dtype {
        DType::Leaf(l) => {
            let mut m = Map::new();
            m.insert("type".into(), json!(l.ty.to_string()));
            if l.byte_order == ByteOrder::Big {
                m.insert("byte_order".into(), json!(">"));
            }
            if l.nullable {
                m.insert("nullable".into(), json!(true));
            }
            if l.items_nullable {
                m.insert("items_nullable".into(), json!(true));
            }
            Value::Object(m)
        }
        DType::SubArray { base, shape } => json!({"subarray": dtype_to_json(base), "shape": shape}),
        DType::Struct(s) => {
            let fields: Vec<Value> = s
                .fields
                .iter()
                .map(|f| {
                    let mut m = Map::new();
                    m.insert("name".into(), json!(f.name));
                    if let Some(t) = &f.title {
                        m.insert("title".into(), json!(t));
                    }
                    if let Some(o) = f.offset {
                        m.insert("offset".into(), json!(o));
                    }
                    m.insert("dtype".into(), dtype_to_json(&f.dtype));
                    Value::Object(m)
                })
                .collect();
            let mut m = Map::new();
            m.insert("fields".into(), Value::Array(fields));
            if let Some(n) = s.itemsize {
                m.insert("itemsize".into(), json!(n));
            }
            if s.aligned {
                m.insert("aligned".into(), json!(true));
            }
            if s.nullable {
                m.insert("nullable".into(), json!(true));
            }
            Value::Object(m)
        }
        DType::List { item, nullable } => {
            let mut m = Map::new();
            m.insert("list".into(), dtype_to_json(item));
            if *nullable {
                m.insert("nullable".into(), json!(true));
            }
            Value::Object(m)
        }
    }
}

fn get_u64(v: &Value, what: &str) -> Result<u64> {
    v.as_u64().ok_or_else(|| Error::schema(format!("{what} must be a non-negative integer")))
}

fn get_str<'a>(m: &'a Map<String, Value>, key: &str, what: &str) -> Result<&'a str> {
    m.get(key).and_then(Value::as_str).ok_or_else(|| Error::schema(format!("{what}: missing string {key:?}")))
}

pub(crate) fn dtype_from_json(v: &Value, depth: usize) -> Result<DType> {
    if depth > MAX_NESTING {
        return Err(Error::schema(format!("dtype nested deeper than {MAX_NESTING}")));
    }
    let m = v.as_object().ok_or_else(|| Error::schema("dtype must be an object"))?;
    if let Some(t) = m.get("type") {
        let text = t.as_str().ok_or_else(|| Error::schema("dtype \"type\" must be a string"))?;
        let ty = LeafType::parse(text)?;
        let order = match m.get("byte_order").map(Value::as_str) {
            None | Some(Some("<" | "|")) => ByteOrder::Little,
            Some(Some(">")) => ByteOrder::Big,
            _ => return Err(Error::schema(format!("{text}: byte_order must be \"<\", \">\" or \"|\""))),
        };
        let nullable = match m.get("nullable") {
            None => false,
            Some(b) => b.as_bool().ok_or_else(|| Error::schema("nullable must be a boolean"))?,
        };
        let items_nullable = m.get("items_nullable").and_then(Value::as_bool).unwrap_or(false);
        return Ok(DType::Leaf(Leaf::new(ty).with_byte_order(order).with_nullable(nullable).with_items_nullable(items_nullable)));
    }
    if let Some(item) = m.get("list") {
        let nullable = match m.get("nullable") {
            None => false,
            Some(b) => b.as_bool().ok_or_else(|| Error::schema("nullable must be a boolean"))?,
        };
        return Ok(DType::list(dtype_from_json(item, depth + 1)?, nullable));
    }
    if let Some(base) = m.get("subarray") {
        let shape = m
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::schema("subarray needs a \"shape\" array"))?
            .iter()
            .map(|d| get_u64(d, "subarray dimension"))
            .collect::<Result<Vec<_>>>()?;
        return Ok(DType::subarray(dtype_from_json(base, depth + 1)?, shape));
    }
    if let Some(fields) = m.get("fields") {
        let fields = fields.as_array().ok_or_else(|| Error::schema("\"fields\" must be an array"))?;
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            let fm = f.as_object().ok_or_else(|| Error::schema("a field must be an object"))?;
            let name = get_str(fm, "name", "field")?.to_string();
            let title = match fm.get("title") {
                None | Some(Value::Null) => None,
                Some(t) => Some(t.as_str().ok_or_else(|| Error::schema("title must be a string"))?.to_string()),
            };
            let offset = fm.get("offset").map(|o| get_u64(o, "field offset")).transpose()?;
            let dtype = dtype_from_json(fm.get("dtype").ok_or_else(|| Error::schema(format!("field {name:?} has no dtype")))?, depth + 1)?;
            out.push(Field { name, title, offset, dtype });
        }
        let itemsize = m.get("itemsize").map(|o| get_u64(o, "itemsize")).transpose()?;
        let aligned = m.get("aligned").and_then(Value::as_bool).unwrap_or(false);
        let nullable = m.get("nullable").and_then(Value::as_bool).unwrap_or(false);
        return Ok(DType::Struct(StructType { fields: out, itemsize, aligned, nullable }));
    }
    Err(Error::schema("dtype needs \"type\", \"subarray\", \"fields\" or \"list\""))
}

fn metadata_to_json(m: &BTreeMap<String, String>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

fn metadata_from_json(v: Option<&Value>) -> Result<BTreeMap<String, String>> {
    let Some(v) = v else { return Ok(BTreeMap::new()) };
    let m = v.as_object().ok_or_else(|| Error::schema("metadata must be an object"))?;
    m.iter().map(|(k, v)| Ok((k.clone(), v.as_str().ok_or_else(|| Error::schema("metadata values must be strings"))?.to_string()))).collect()
}

/// A region of the file that the schema document declares (format 1.5): readers use the ones they
/// know by name and skip the others; full verification checks every one's bounds and checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// What the region holds (`statistics`, ...).
    pub name: String,
    /// Where it starts (a multiple of 64).
    pub offset: u64,
    /// Its length in bytes.
    pub length: u64,
    /// xxh3-64 of its bytes.
    pub checksum: u64,
}

/// Serialises the schema document (arrays with their final row counts and the rows of each
/// list level, and the declared extension regions).
///
/// `previous`: where the trailer of the version this one was appended to starts (format 1.6).
pub(crate) fn encode_schema(arrays: &[(&ArraySchema, u64, &[u64])], metadata: &BTreeMap<String, String>, extensions: &[Extension], previous: Option<u64>) -> Vec<u8> {
    let arrays: Vec<Value> = arrays
        .iter()
        .map(|(a, rows, item_rows)| {
            let shape = a.shape.clone().unwrap_or_else(|| vec![*rows]);
            let mut m = Map::new();
            m.insert("name".into(), json!(a.name));
            m.insert("rows".into(), json!(rows));
            m.insert("shape".into(), json!(shape));
            if a.fortran_order {
                m.insert("fortran_order".into(), json!(true));
            }
            m.insert("dtype".into(), dtype_to_json(&a.dtype));
            if !item_rows.is_empty() {
                m.insert("item_rows".into(), json!(item_rows));
            }
            if !a.metadata.is_empty() {
                m.insert("metadata".into(), metadata_to_json(&a.metadata));
            }
            Value::Object(m)
        })
        .collect();
    let mut doc = json!({"arrays": arrays, "metadata": metadata_to_json(metadata)});
    if !extensions.is_empty() {
        let list: Vec<Value> = extensions.iter().map(|e| json!({"name": e.name, "offset": e.offset, "length": e.length, "checksum": e.checksum})).collect();
        doc["extensions"] = Value::Array(list);
    }
    if let Some(trailer_offset) = previous {
        doc["previous"] = json!({"trailer_offset": trailer_offset});
    }
    doc.to_string().into_bytes()
}

/// What the schema document says: the arrays, file metadata, the declared extension regions, and
/// where the previous version's trailer starts (files that were appended to, format 1.6).
pub(crate) type SchemaDocument = (Vec<StoredArray>, BTreeMap<String, String>, Vec<Extension>, Option<u64>);

/// Parses and validates the schema document; `column_count` is the directory's count.
pub(crate) fn decode_schema(bytes: &[u8], column_count: usize) -> Result<SchemaDocument> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| Error::schema(format!("not valid JSON: {e}")))?;
    let arrays = doc.get("arrays").and_then(Value::as_array).ok_or_else(|| Error::schema("missing \"arrays\""))?;
    let mut out = Vec::with_capacity(arrays.len());
    let mut first_column = 0usize;
    let mut names = std::collections::HashSet::new();
    for a in arrays {
        let m = a.as_object().ok_or_else(|| Error::schema("an array must be an object"))?;
        let name = get_str(m, "name", "array")?.to_string();
        if !names.insert(name.clone()) {
            return Err(Error::schema(format!("duplicate array name {name:?}")));
        }
        let rows = get_u64(m.get("rows").unwrap_or(&Value::Null), "rows")?;
        let shape = m
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::schema(format!("array {name:?}: missing shape")))?
            .iter()
            .map(|d| get_u64(d, "shape dimension"))
            .collect::<Result<Vec<_>>>()?;
        let product = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
        if product != Some(rows) {
            return Err(Error::schema(format!("array {name:?}: shape {shape:?} does not hold {rows} rows")));
        }
        let dtype = dtype_from_json(m.get("dtype").ok_or_else(|| Error::schema(format!("array {name:?}: missing dtype")))?, 0)?;
        dtype.validate()?;
        let fortran_order = m.get("fortran_order").and_then(Value::as_bool).unwrap_or(false);
        let schema = ArraySchema { name, dtype, shape: Some(shape), fortran_order, metadata: metadata_from_json(m.get("metadata"))? };
        let columns = schema.columns();
        let levels = columns.iter().filter(|c| c.is_list()).count();
        let item_rows = match m.get("item_rows") {
            None => Vec::new(),
            Some(v) => v
                .as_array()
                .ok_or_else(|| Error::schema(format!("array {:?}: item_rows must be an array", schema.name)))?
                .iter()
                .map(|d| get_u64(d, "item_rows entry"))
                .collect::<Result<Vec<_>>>()?,
        };
        if item_rows.len() != levels {
            return Err(Error::schema(format!("array {:?}: {} item_rows entries for {levels} lists", schema.name, item_rows.len())));
        }
        let stored = StoredArray { rows, first_column, columns, schema, item_rows };
        first_column = first_column
            .checked_add(stored.columns.len())
            .filter(|&n| n <= column_count)
            .ok_or_else(|| Error::schema(format!("the arrays have more columns than the directory's {column_count}")))?;
        out.push(stored);
    }
    if first_column != column_count {
        return Err(Error::schema(format!("the arrays have {first_column} columns but the directory has {column_count}")));
    }
    let mut extensions = Vec::new();
    if let Some(list) = doc.get("extensions") {
        for e in list.as_array().ok_or_else(|| Error::schema("extensions must be an array"))? {
            let m = e.as_object().ok_or_else(|| Error::schema("an extension must be an object"))?;
            let field = |k: &str| get_u64(m.get(k).unwrap_or(&Value::Null), k);
            extensions.push(Extension { name: get_str(m, "name", "extension")?.to_string(), offset: field("offset")?, length: field("length")?, checksum: field("checksum")? });
        }
    }
    let previous = match doc.get("previous") {
        None => None,
        Some(p) => {
            let m = p.as_object().ok_or_else(|| Error::schema("previous must be an object"))?;
            Some(get_u64(m.get("trailer_offset").unwrap_or(&Value::Null), "trailer_offset")?)
        }
    };
    Ok((out, metadata_from_json(doc.get("metadata"))?, extensions, previous))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_dtype_flattens_depth_first_with_shapes() {
        let inner = DType::structure(vec![Field::new("x", DType::leaf(LeafType::Float(4))), Field::new("s", DType::leaf(LeafType::Bytes(3)))]);
        let dt = DType::structure(vec![Field::new("id", DType::leaf(LeafType::Int(8))), Field::new("p", DType::subarray(inner, vec![2]))]);
        let cols = ArraySchema::new("a", dt).columns();
        let names: Vec<String> = cols.iter().map(ColumnDesc::name).collect();
        assert_eq!(names, ["id", "p.x", "p.s"]);
        assert_eq!(cols[1].shape, vec![2]);
        assert_eq!(cols[2].row_width(), Some(6));
    }

    #[test]
    fn schema_json_round_trips() {
        let mut f = Field::new("t", DType::Leaf(Leaf::new(LeafType::Float(8)).with_byte_order(ByteOrder::Big)));
        f.title = Some("Temp".into());
        f.offset = Some(8);
        let dt = DType::Struct(StructType { fields: vec![f], itemsize: Some(24), aligned: true, nullable: true });
        let a = ArraySchema::new("x", dt).with_shape(vec![2, 3]).with_fortran_order(true);
        let ext = Extension { name: "future".into(), offset: 64, length: 10, checksum: 7 };
        let bytes = encode_schema(&[(&a, 6, &[])], &BTreeMap::new(), std::slice::from_ref(&ext), None);
        // A nullable struct has a validity column before its fields.
        let (arrays, _, extensions, _) = decode_schema(&bytes, 2).unwrap();
        assert_eq!(extensions, [ext]);
        assert_eq!(arrays[0].schema, a);
        assert_eq!(arrays[0].rows, 6);
        assert!(arrays[0].columns[0].is_row_validity() && arrays[0].columns[0].name() == "{}" && arrays[0].columns[1].name() == "t");
    }
}
