//! Formats the CLI converts between, seen through one shape: a source of named arrays whose
//! columns can be read a row range at a time (sheaf files, `.npy`, `.npz`), and sinks that take
//! arrays batch by batch. Column selection and row ranges apply on the way through.

use std::path::Path;

use anyhow::{bail, Context};
use sheaf::{AlignedBytes, ArraySchema, Buf, Column, ColumnData, DType, Field, StructType};
use sheaf_npy::layout::{records_to_columns, ColumnLayout};
use sheaf_npy::NpyFile;

/// A file format the CLI knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// sheaf
    Sheaf,
    /// NumPy .npy
    Npy,
    /// NumPy .npz (stored)
    Npz,
}

impl Format {
    /// The format named by a path's extension.
    pub(crate) fn from_path(path: &Path) -> anyhow::Result<Self> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        Ok(match ext.as_deref() {
            Some("sheaf") => Format::Sheaf,
            Some("npy") => Format::Npy,
            Some("npz") => Format::Npz,
            Some(other) => bail!("{}: unknown extension .{other} (known: .sheaf, .npy, .npz; or pass --from/--to)", path.display()),
            None => bail!("{}: no extension to tell the format by (pass --from/--to)", path.display()),
        })
    }
}

/// An open input file.
pub(crate) enum Source {
    Sheaf(sheaf::File),
    Npy(Vec<(String, NpyFile)>),
}

impl Source {
    pub(crate) fn open(path: &Path, format: Format) -> anyhow::Result<Self> {
        Ok(match format {
            Format::Sheaf => Source::Sheaf(sheaf::File::open(path)?),
            Format::Npy => {
                let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                Source::Npy(vec![(name, NpyFile::open(path)?)])
            }
            Format::Npz => Source::Npy(sheaf_npy::read_npz(path)?),
        })
    }

    /// The arrays, filtered by name when `only` is not empty.
    pub(crate) fn arrays(&self, only: &[String]) -> anyhow::Result<Vec<SourceArray<'_>>> {
        let mut out = Vec::new();
        match self {
            Source::Sheaf(f) => {
                for a in f.arrays() {
                    out.push(SourceArray { name: a.name().to_string(), schema: a.schema().clone(), rows: a.rows(), kind: Kind::Sheaf(a.columns()?) });
                }
            }
            Source::Npy(members) => {
                for (name, npy) in members {
                    let h = npy.header();
                    let schema = ArraySchema::new(name.clone(), h.dtype.clone()).with_shape(h.shape.clone()).with_fortran_order(h.fortran_order);
                    out.push(SourceArray { name: name.clone(), schema, rows: npy.rows(), kind: Kind::Npy(npy) });
                }
            }
        }
        for want in only {
            if !out.iter().any(|a| &a.name == want) {
                let names: Vec<&str> = out.iter().map(|a| a.name.as_str()).collect();
                bail!("no array named {want:?} (arrays: {names:?})");
            }
        }
        if !only.is_empty() {
            out.retain(|a| only.contains(&a.name));
        }
        Ok(out)
    }
}

enum Kind<'a> {
    Sheaf(Vec<Column<'a>>),
    Npy(&'a NpyFile),
}

/// One array of a source.
pub(crate) struct SourceArray<'a> {
    pub(crate) name: String,
    pub(crate) schema: ArraySchema,
    pub(crate) rows: u64,
    kind: Kind<'a>,
}

impl<'a> SourceArray<'a> {
    /// Rows `start..end` of the leaf columns `which` (indices in depth-first order).
    pub(crate) fn read(&self, which: &[usize], start: u64, end: u64) -> anyhow::Result<Vec<ColumnData<'a>>> {
        match &self.kind {
            Kind::Sheaf(cols) => which.iter().map(|&i| cols[i].read_rows(start..end).map_err(Into::into)).collect(),
            Kind::Npy(npy) => {
                let itemsize = npy.header().itemsize().unwrap_or(0) as usize;
                let layouts: Vec<ColumnLayout> = which.iter().map(|&i| npy.layouts()[i].clone()).collect();
                let (s, e) = (start as usize, end as usize);
                let cols = records_to_columns(&npy.data()[s * itemsize..e * itemsize], itemsize, e - s, &layouts);
                Ok(cols.into_iter().map(|values: AlignedBytes| ColumnData { rows: end - start, values: Buf::Owned(values), offsets: None, validity: None }).collect())
            }
        }
    }
}

/// The columns picked by `--select` (dotted path prefixes) and the dtype pruned to them.
pub(crate) fn select(dtype: &DType, select: &[String]) -> anyhow::Result<(Vec<usize>, DType)> {
    let descs = ArraySchema::new("", dtype.clone()).columns();
    if select.is_empty() {
        return Ok(((0..descs.len()).collect(), dtype.clone()));
    }
    let wanted: Vec<Vec<&str>> = select.iter().map(|s| s.split('.').collect()).collect();
    for (w, text) in wanted.iter().zip(select) {
        if !descs.iter().any(|d| d.path.len() >= w.len() && d.path.iter().zip(w).all(|(a, b)| a == b)) {
            let names: Vec<String> = descs.iter().map(sheaf::ColumnDesc::name).collect();
            bail!("no column {text:?} to select (columns: {})", names.join(", "));
        }
    }
    let keep = |path: &[String]| wanted.iter().any(|w| path.len() >= w.len() && path.iter().zip(w).all(|(a, b)| a == b));
    let which: Vec<usize> = descs.iter().enumerate().filter(|(_, d)| keep(&d.path)).map(|(i, _)| i).collect();
    let pruned = prune(dtype, &mut Vec::new(), &keep).context("selecting columns")?;
    Ok((which, pruned))
}

fn prune(dtype: &DType, path: &mut Vec<String>, keep: &dyn Fn(&[String]) -> bool) -> Option<DType> {
    match dtype {
        DType::Struct(s) => {
            let mut fields = Vec::new();
            for f in &s.fields {
                path.push(f.name.clone());
                if let Some(d) = prune(&f.dtype, path, keep) {
                    // Offsets and padding of the source record no longer apply: packed.
                    fields.push(Field { name: f.name.clone(), title: f.title.clone(), offset: None, dtype: d });
                }
                path.pop();
            }
            (!fields.is_empty()).then(|| DType::Struct(StructType { fields, itemsize: None, aligned: false }))
        }
        DType::SubArray { base, shape } => prune(base, path, keep).map(|b| DType::subarray(b, shape.clone())),
        DType::Leaf(_) => keep(path).then(|| dtype.clone()),
    }
}

/// Parses `START:END` (either side may be empty) against `rows`.
pub(crate) fn row_range(text: Option<&str>, rows: u64) -> anyhow::Result<(u64, u64)> {
    let Some(text) = text else { return Ok((0, rows)) };
    let (a, b) = text.split_once(':').with_context(|| format!("--rows {text:?}: expected START:END"))?;
    let parse = |s: &str, default: u64| -> anyhow::Result<u64> {
        if s.is_empty() {
            Ok(default)
        } else {
            s.parse::<u64>().with_context(|| format!("--rows {text:?}: {s:?} is not a row number"))
        }
    };
    let (start, end) = (parse(a, 0)?, parse(b, rows)?.min(rows));
    if start > end {
        bail!("--rows {text:?}: start is after end");
    }
    Ok((start, end))
}
