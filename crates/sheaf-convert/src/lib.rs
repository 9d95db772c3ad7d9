//! # sheaf-convert: every format as a source of arrays, and what conversions need
//!
//! The library behind the `sheaf` CLI and the Python package's conversions:
//!
//! - [`Source`] / [`SourceArray`] / [`Format`]: any readable file (sheaf, `.npy`, `.npz`, Arrow
//!   IPC file and stream, Parquet, CSV) as named arrays whose selected columns come a row range
//!   at a time, in batches of [`sheaf::ColumnData`].
//! - [`select`] and [`row_range`]: column selection by dotted path and row ranges.
//! - [`advise`] / [`plan`] / [`Narrowing`]: the narrowest exact dtype of each column
//!   (`sheaf suggest`, `convert --shrink`).
//! - [`Dataset`]: a directory or glob of sheaf files (hive partitions, added columns) as one
//!   array of a [`Source`].
//! - [`describe`]: a file described as data (`sheaf inspect --json`, Python's `sheaf.info`).
//! - [`min_max`] / [`RangeAcc`]: a column's value range as text, from the stored statistics
//!   (format 1.5) or by scanning.
//!
//! Depends on the sheaf core, sheaf-npy and sheaf-arrow; knows nothing of command lines.
//!
//! # Example: read two columns of any file, a row range at a time
//! ```
//! use sheaf_convert::{select, Format, Source};
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("t.sheaf");
//! # let ids: Vec<i64> = (0..100).collect();
//! # let dtype = sheaf::DType::structure(vec![sheaf::Field::new("id", sheaf::DType::leaf(sheaf::LeafType::Int(8))), sheaf::Field::new("twice", sheaf::DType::leaf(sheaf::LeafType::Int(8)))]);
//! # let twice: Vec<i64> = ids.iter().map(|i| i * 2).collect();
//! # sheaf::write_arrays(&path, &[(sheaf::ArraySchema::new("t", dtype), vec![sheaf::ColumnInput::fixed(&ids), sheaf::ColumnInput::fixed(&twice)])], &sheaf::WriteOptions::new())?;
//! let source = Source::open(&path, Format::from_path(&path)?)?;
//! let arrays = source.arrays(&[])?;
//! let (which, _pruned) = select(&arrays[0].schema.dtype, &["twice".to_string()])?;
//! let mut total = 0i64;
//! for batch in arrays[0].batches(&which, 10, 20, 1 << 20) {
//!     let (rows, cols) = batch?;
//!     assert_eq!(rows, 10);
//!     total += cols[0].values_as::<i64>()?.iter().sum::<i64>();
//! }
//! assert_eq!(total, (10..20i64).map(|i| i * 2).sum::<i64>());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

mod dataset;
mod describe;
mod error;
mod narrow;
mod select;
mod source;
mod stats;

pub use dataset::{is_passed_over, Dataset, Member};
pub use describe::{describe, describe_dataset, describe_file};
pub use error::{ConvertError, Result};
pub use narrow::{advise, plan, ColumnAdvice, Narrowing};
pub use select::{row_range, select};
pub use source::{Batches, Format, Source, SourceArray};
pub use stats::{datetime, min_max, RangeAcc};
