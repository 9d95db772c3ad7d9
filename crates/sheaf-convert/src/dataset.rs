//! Datasets: a directory or glob of sheaf files read as one table. Owns the listing (recursive
//! for a directory, hidden and `_`-prefixed names skipped, sorted by path), hive partitions
//! (`key=value/` folders become columns, typed `int64` when every value is an integer and `utf8`
//! otherwise, `__HIVE_DEFAULT_PARTITION__` a null), and schema evolution: files may differ by
//! top-level scalar fields that some lack (read there as nulls, the field nullable) or by
//! nullability; any other difference is an error naming both files. The rows are the files' rows
//! in path order; only the footers are read until columns are asked for.

use std::path::{Path, PathBuf};

use sheaf::{AlignedBytes, ArraySchema, Buf, ColumnData, ColumnDesc, DType, Field, Leaf, LeafType, StructType};

use crate::error::{ConvertError, Result};

/// The value hive writers use for a null partition.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// A directory or glob of sheaf files, one table.
pub struct Dataset {
    root: PathBuf,
    members: Vec<Member>,
    schema: ArraySchema,
    partitions: Vec<Partition>,
}

/// One file of a dataset.
pub struct Member {
    /// The file.
    pub path: PathBuf,
    /// Its rows.
    pub rows: u64,
    /// Its hive partition values, in the order of [`Dataset::partition_columns`] (`None`: null).
    pub partition: Vec<Option<String>>,
    file: sheaf::File,
    /// Per column of the dataset, where its values come from in this file.
    leaves: Vec<LeafSource>,
}

/// A hive partition column.
struct Partition {
    name: String,
    ty: LeafType,
}

/// Where a dataset column's values come from in one member.
#[derive(Clone, Copy)]
pub(crate) enum LeafSource {
    /// The file's column at this index.
    File(usize),
    /// Not in the file: nulls.
    Nulls,
    /// The partition column at this index: one value for the whole file.
    Partition(usize),
}

impl Dataset {
    /// Whether `path` names a dataset rather than one file: an existing directory, or a pattern
    /// (with `*`, `?` or `[`) that is not itself a file's name.
    #[must_use]
    pub fn is_dataset(path: &Path) -> bool {
        path.is_dir() || (!path.exists() && path.to_str().is_some_and(|p| p.contains(['*', '?', '['])))
    }

    /// Lists and opens the dataset `path` names (a directory or a glob), reading each file's
    /// footer and merging their schemas.
    ///
    /// # Errors
    /// No sheaf file there, a file that cannot be opened or holds other than one array, and
    /// schemas or partitions that do not agree ([`ConvertError::Dataset`], naming the files).
    pub fn open(path: &Path) -> Result<Self> {
        let (root, files) = list(path)?;
        let mut opened = Vec::with_capacity(files.len());
        for f in files {
            let file = sheaf::File::open(&f)?;
            opened.push((f, file));
        }
        Self::from_files(path, &root, opened)
    }

    /// A dataset of files opened already (from an object store, say): each named by a path
    /// under `root` (`bucket/events/year=2024/a.sheaf` under `bucket/events`), whose folders
    /// give the partitions; `path` is what the user named, for messages. The order given is the
    /// order of the rows.
    ///
    /// # Errors
    /// As [`Dataset::open`].
    pub fn from_files(path: &Path, root: &Path, files: Vec<(PathBuf, sheaf::File)>) -> Result<Self> {
        if files.is_empty() {
            return Err(dataset_error(path, "no .sheaf files there".into()));
        }
        let root = root.to_path_buf();
        let keys = partition_keys(&root, &files[0].0);
        let mut opened: Vec<Opened> = Vec::with_capacity(files.len());
        for (f, file) in files {
            let pairs = partition_pairs(&root, &f);
            if pairs.iter().map(|(k, _)| k).ne(keys.iter()) {
                return Err(dataset_error(
                    path,
                    format!(
                        "{} is partitioned by [{}], {} by [{}]: every file needs the same partition folders",
                        opened.first().map_or(f.as_path(), |o: &Opened| o.path.as_path()).display(),
                        keys.join(", "),
                        f.display(),
                        pairs.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let arrays: Vec<sheaf::Array> = file.arrays().collect();
            let [array] = arrays.as_slice() else {
                return Err(dataset_error(path, format!("{} holds {} arrays; a dataset's files hold one each", f.display(), arrays.len())));
            };
            let (schema, rows) = (array.schema().clone(), array.rows());
            opened.push(Opened { path: f, file, schema, rows, partition: pairs.into_iter().map(|(_, v)| v).collect() });
        }
        let partitions: Vec<Partition> = keys
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let all_int = opened.iter().filter_map(|o| o.partition[k].as_deref()).all(|v| v.parse::<i64>().is_ok());
                Partition { name: name.clone(), ty: if all_int { LeafType::Int(8) } else { LeafType::Utf8 } }
            })
            .collect();
        let schemas: Vec<(&Path, &ArraySchema)> = opened.iter().map(|o| (o.path.as_path(), &o.schema)).collect();
        let mut schema = merge(path, &schemas)?;
        if !partitions.is_empty() {
            let DType::Struct(s) = &mut schema.dtype else {
                return Err(dataset_error(path, "hive partitions become columns, which arrays that are not records do not have".into()));
            };
            for p in &partitions {
                if s.fields.iter().any(|f| f.name == p.name) {
                    return Err(dataset_error(path, format!("the partition folder name {:?} is also a column of the files", p.name)));
                }
                s.fields.push(Field::new(p.name.clone(), DType::Leaf(Leaf::new(p.ty).with_nullable(true))));
            }
        }
        // The files' Arrow types, for the merged fields and the partition columns: the first
        // file's `arrow:schema` alone would describe other fields than the table has.
        let members: Vec<&ArraySchema> = opened.iter().map(|o| &o.schema).collect();
        match sheaf_arrow::types::merged_arrow_schema(&schema, &members).map_err(|e| dataset_error(path, e.to_string()))? {
            Some(hex) => schema.metadata.insert(sheaf_arrow::types::ARROW_SCHEMA.to_string(), hex),
            None => schema.metadata.remove(sheaf_arrow::types::ARROW_SCHEMA),
        };
        // Files join along the first dimension; the rest (checked equal by merge) is kept.
        let first_dims = opened.iter().map(|o| o.schema.shape.as_ref().and_then(|v| v.first().copied()).unwrap_or(o.rows)).try_fold(0u64, u64::checked_add);
        let mut shape = vec![first_dims.ok_or_else(|| dataset_error(path, "more rows than a count holds".into()))?];
        shape.extend_from_slice(inner_dims(&schema));
        schema = schema.with_shape(shape);
        let columns = schema.columns();
        let members = opened
            .into_iter()
            .map(|Opened { path, file, schema: file_schema, rows, partition }| {
                let own = file_schema.columns();
                let leaves = columns
                    .iter()
                    .map(|c| match own.iter().position(|o| o.path == c.path) {
                        Some(i) => LeafSource::File(i),
                        None => match partitions.iter().position(|p| c.path.len() == 1 && c.path[0] == p.name) {
                            Some(k) => LeafSource::Partition(k),
                            None => LeafSource::Nulls,
                        },
                    })
                    .collect();
                Member { path, rows, partition, file, leaves }
            })
            .collect();
        Ok(Dataset { root, members, schema, partitions })
    }

    /// The files a dataset path names, sorted, and the directory partition folders start from
    /// (for a glob, the folder before its first pattern), without opening them.
    ///
    /// # Errors
    /// A folder that cannot be read, or a pattern that is not valid.
    pub fn list(path: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
        list(path)
    }

    /// The directory the files were listed from (for a glob, the folder before its first
    /// pattern), where partition folders start.
    #[must_use]
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The merged schema: the files' fields in the order first seen, then the partition columns;
    /// its shape's first dimension is the rows of all files.
    #[must_use]
    pub fn schema(&self) -> &ArraySchema {
        &self.schema
    }

    /// The files, in the order their rows come.
    #[must_use]
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The names of the hive partition columns.
    #[must_use]
    pub fn partition_columns(&self) -> Vec<&str> {
        self.partitions.iter().map(|p| p.name.as_str()).collect()
    }

    /// The rows of all files.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.members.iter().map(|m| m.rows).sum()
    }

    /// The name a dataset's table goes by: its root folder's name.
    #[must_use]
    pub fn name(&self) -> String {
        self.root.file_name().map_or_else(|| "dataset".to_string(), |n| n.to_string_lossy().into_owned())
    }
}

impl Member {
    /// The open file.
    #[must_use]
    pub fn file(&self) -> &sheaf::File {
        &self.file
    }

    /// Where dataset column `index` comes from in this file.
    pub(crate) fn leaf(&self, index: usize) -> LeafSource {
        self.leaves[index]
    }
}

/// A column of `rows` values of dataset column `desc` for a member that has none: all null.
pub(crate) fn null_column(desc: &ColumnDesc, rows: u64) -> ColumnData<'static> {
    let n = rows as usize;
    let (values, offsets) = match desc.row_width() {
        Some(w) => (AlignedBytes::zeroed(n * w as usize), None),
        None => (AlignedBytes::zeroed(0), Some(vec![0u64; n + 1])),
    };
    ColumnData { rows, values: Buf::Owned(values), offsets, validity: Some(vec![0u8; n.div_ceil(8)]) }
}

/// A column of `rows` copies of member `member`'s value of partition column `k` of `dataset`.
pub(crate) fn partition_column(dataset: &Dataset, member: &Member, k: usize, rows: u64) -> ColumnData<'static> {
    let n = rows as usize;
    let Some(value) = member.partition[k].as_deref() else {
        return null_column(&ColumnDesc::new(vec![dataset.partitions[k].name.clone()], Leaf::new(dataset.partitions[k].ty).with_nullable(true), Vec::new()), rows);
    };
    if dataset.partitions[k].ty == LeafType::Int(8) {
        let v: i64 = value.parse().unwrap_or_default();
        let bytes: Vec<u8> = std::iter::repeat_n(v.to_le_bytes(), n).flatten().collect();
        return ColumnData { rows, values: Buf::Owned(AlignedBytes::copy_from(&bytes)), offsets: None, validity: None };
    }
    let bytes = value.as_bytes().repeat(n);
    let offsets = (0..=n as u64).map(|i| i * value.len() as u64).collect();
    ColumnData { rows, values: Buf::Owned(AlignedBytes::copy_from(&bytes)), offsets: Some(offsets), validity: None }
}

fn dataset_error(path: &Path, reason: String) -> ConvertError {
    ConvertError::Dataset { path: path.to_path_buf(), reason }
}

/// A member file as first opened, before the schemas are merged.
struct Opened {
    path: PathBuf,
    file: sheaf::File,
    schema: ArraySchema,
    rows: u64,
    partition: Vec<Option<String>>,
}

/// The root and the sorted files of a directory (recursively) or a glob.
fn list(path: &Path) -> Result<(PathBuf, Vec<PathBuf>)> {
    if path.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files)?;
        files.sort();
        return Ok((path.to_path_buf(), files));
    }
    let text = path.to_str().ok_or_else(|| dataset_error(path, "a pattern must be UTF-8".into()))?;
    let root: PathBuf = path.components().take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '['])).collect();
    let entries = glob::glob(text).map_err(|e| dataset_error(path, format!("not a valid pattern: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let p = entry.map_err(|e| dataset_error(path, e.to_string()))?;
        if p.is_file() && !hidden(&p) {
            files.push(p);
        }
    }
    files.sort();
    Ok((root, files))
}

/// Names that readers of datasets pass over: dot files (our own temporaries among them) and
/// `_`-prefixed ones (`_SUCCESS`, `_metadata`).
fn hidden(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(is_passed_over)
}

/// Whether a dataset listing passes over a file named `name` (`.` and `_` names).
#[must_use]
pub fn is_passed_over(name: &str) -> bool {
    name.starts_with(['.', '_'])
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| dataset_error(dir, e.to_string()))?;
    for entry in entries {
        let p = entry.map_err(|e| dataset_error(dir, e.to_string()))?.path();
        if hidden(&p) {
            continue;
        }
        if p.is_dir() {
            walk(&p, files)?;
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case(crate::source::SHEAF_EXTENSION)) {
            files.push(p);
        }
    }
    Ok(())
}

/// The `key=value` folders between `root` and `file`, values percent-decoded.
fn partition_pairs(root: &Path, file: &Path) -> Vec<(String, Option<String>)> {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let folders: Vec<_> = rel.parent().map(|p| p.components().collect()).unwrap_or_default();
    folders
        .iter()
        .filter_map(|c| {
            let s = c.as_os_str().to_str()?;
            let (k, v) = s.split_once('=')?;
            let v = percent_decode(v);
            Some((percent_decode(k), (v != NULL_PARTITION).then_some(v)))
        })
        .collect()
}

fn partition_keys(root: &Path, file: &Path) -> Vec<String> {
    partition_pairs(root, file).into_iter().map(|(k, _)| k).collect()
}

/// `%XX` escapes decoded (as hive writers escape `/`, `=` and the like); a malformed escape is
/// kept as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// The dtype a dataset's files share. Identical schemas are kept as they are (layout, titles and
/// all); records that differ are merged by field name into a packed record: a field must have one
/// dtype wherever it is (nullability aside: nullable if nullable anywhere), and a field some
/// files lack must be a scalar (it reads as nulls there, so it becomes nullable).
fn merge(path: &Path, schemas: &[(&Path, &ArraySchema)]) -> Result<ArraySchema> {
    let (first_path, first) = schemas[0];
    for &(p, s) in &schemas[1..] {
        if inner_dims(s) != inner_dims(first) {
            return Err(dataset_error(path, format!("{} has rows of shape {:?}, {} of shape {:?}", first_path.display(), inner_dims(first), p.display(), inner_dims(s))));
        }
        if (s.fortran_order || first.fortran_order) && !inner_dims(s).is_empty() {
            return Err(dataset_error(path, format!("{} or {} is in Fortran order: such arrays do not join along their first dimension", first_path.display(), p.display())));
        }
    }
    if schemas.iter().all(|(_, s)| s.dtype == first.dtype) {
        return Ok(first.clone());
    }
    let mut fields: Vec<(Field, usize)> = Vec::new();
    let mut nullable_struct = false;
    for (p, s) in schemas {
        let DType::Struct(st) = &s.dtype else {
            return Err(dataset_error(
                path,
                format!(
                    "{} holds {}, {} holds {}: files of a dataset hold one dtype, or records that differ by fields",
                    first_path.display(),
                    dtype_text(&first.dtype),
                    p.display(),
                    dtype_text(&s.dtype)
                ),
            ));
        };
        nullable_struct |= st.nullable;
        for f in &st.fields {
            match fields.iter_mut().find(|(g, _)| g.name == f.name) {
                Some((g, seen)) => {
                    g.dtype = widen(&g.dtype, &f.dtype).ok_or_else(|| {
                        dataset_error(
                            path,
                            format!(
                                "column {:?} is {} in {} and {} in {}",
                                f.name,
                                dtype_text(&g.dtype),
                                first_with(schemas, &f.name).display(),
                                dtype_text(&f.dtype),
                                p.display()
                            ),
                        )
                    })?;
                    *seen += 1;
                }
                None => fields.push((Field { name: f.name.clone(), title: f.title.clone(), offset: None, dtype: f.dtype.clone() }, 1)),
            }
        }
    }
    let merged = fields
        .into_iter()
        .map(|(mut f, seen)| {
            if seen == schemas.len() {
                return Ok(f);
            }
            match &mut f.dtype {
                DType::Leaf(l) => {
                    l.nullable = true;
                    Ok(f)
                }
                other => Err(dataset_error(
                    path,
                    format!(
                        "column {:?} ({}) is missing from {}: only scalar columns can be missing (they read as nulls)",
                        f.name,
                        dtype_text(other),
                        missing_from(schemas, &f.name).display()
                    ),
                )),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let dtype = DType::Struct(StructType { fields: merged, itemsize: None, aligned: false, nullable: nullable_struct });
    Ok(ArraySchema::new(first.name.clone(), dtype))
}

/// The dimensions of a file's array after the first (empty for a table).
fn inner_dims(schema: &ArraySchema) -> &[u64] {
    schema.shape.as_deref().and_then(|s| s.get(1..)).unwrap_or_default()
}

/// `a` and `b` as one dtype: equal, or leaves equal but for nullability.
fn widen(a: &DType, b: &DType) -> Option<DType> {
    match (a, b) {
        (x, y) if x == y => Some(x.clone()),
        (DType::Leaf(x), DType::Leaf(y)) if x.with_nullable(true) == y.with_nullable(true) => Some(DType::Leaf(x.with_nullable(true))),
        _ => None,
    }
}

fn first_with<'a>(schemas: &[(&'a Path, &ArraySchema)], name: &str) -> &'a Path {
    schemas.iter().find(|(_, s)| matches!(&s.dtype, DType::Struct(st) if st.fields.iter().any(|f| f.name == name))).map_or(schemas[0].0, |(p, _)| p)
}

fn missing_from<'a>(schemas: &[(&'a Path, &ArraySchema)], name: &str) -> &'a Path {
    schemas.iter().find(|(_, s)| !matches!(&s.dtype, DType::Struct(st) if st.fields.iter().any(|f| f.name == name))).map_or(schemas[0].0, |(p, _)| p)
}

/// A dtype as the leaf columns it has, for messages.
fn dtype_text(dtype: &DType) -> String {
    let cols = ArraySchema::new("", dtype.clone()).columns();
    let parts: Vec<String> = cols.iter().map(|c| if c.path.is_empty() { c.type_text() } else { format!("{}: {}", c.name(), c.type_text()) }).collect();
    if parts.len() == 1 && cols[0].path.is_empty() {
        parts[0].clone()
    } else {
        format!("{{{}}}", parts.join(", "))
    }
}
