//! # sheaf: typed, compressed, memory-mappable structured arrays stored by column
//!
//! A sheaf file holds named arrays of records (NumPy structured arrays, Arrow tables). Every leaf
//! field is its own column; plain columns come back as zero-copy slices of a memory map, encoded
//! columns decode in parallel. This crate is the format core: it depends on no Arrow or Parquet
//! code (interop lives in its own crates).
//!
//! - [`File`]: an open file (mapped, read by position, from bytes, or from any [`ByteSource`]);
//!   [`Array`] and [`Column`] inside it, owned handles (`Send + Sync + 'static`).
//! - [`ByteSource`] / [`FetchHints`]: where a file's bytes come from, by range
//!   ([`MappedSource`], [`PositionedSource`], [`MemorySource`]).
//! - [`ChunkStats`] / [`StatValue`]: per-chunk statistics stored by the writer (format 1.5).
//! - [`Writer`] / [`write_arrays`]: streaming and in-memory writers, atomic by rename.
//! - [`DType`], [`LeafType`], [`Field`], [`ArraySchema`]: the type system and schema.
//! - [`ColumnInput`] / [`ColumnData`]: column values going in and coming out.
//! - [`Codec`]: `none`, `zstd`, `lz4`, `auto`.
//!
//! # Reading
//! [`File::open`] reads only the trailer, the schema document and the column directory: O(1) in
//! the data size (one bounded read of the file's tail, a second only when the footer is larger).
//! A column's chunk table is read and checked on first use, then cached. [`Column::as_slice`] views a plain column in place; [`Column::read`],
//! [`Column::read_rows`] and [`Column::read_chunk`] decode, checking checksums.
//!
//! # Writing
//! [`Writer::append`] takes batches of any size; [`Writer::finish`] renames the finished file
//! into place. Dropping a writer leaves nothing behind. [`Writer::open_append`] adds rows to an
//! existing file in place, in time proportional to the rows added, committed in one step (a
//! kill leaves the old version or the new); [`File::previous_version`] reads the file as it was
//! before an append.
//!
//! # Example: write, open, read a column without copying
//! ```
//! use sheaf::{ArraySchema, Codec, ColumnInput, DType, File, LeafType, WriteOptions};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("t.sheaf");
//! let t: Vec<i64> = (0..10_000).map(|i| 1_700_000_000_000 + i * 1000).collect();
//! let schema = ArraySchema::new("ticks", DType::leaf(LeafType::Int(8)));
//! sheaf::write_arrays(&path, &[(schema, vec![ColumnInput::fixed(&t)])], &WriteOptions::new().with_codec(Codec::None))?;
//!
//! let file = File::open(&path)?;
//! let col = file.single()?.column("")?;
//! let view: &[i64] = col.as_slice()?; // no copy: a slice of the memory map
//! assert_eq!(view, &t[..]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # File format
//! ```text
//! +--------+---------------------------------+-------------+--------+-----------+---------+
//! | header | data buffers (64-byte aligned)  | chunk tables| schema | directory | trailer |
//! | 64 B   | validity / offsets / values ... | 144 B/chunk | JSON   | 32 B/col  | 64 B    |
//! +--------+---------------------------------+-------------+--------+-----------+---------+
//! ```
//! The normative description is `spec/format.md` in the repository.

#[cfg(not(target_endian = "little"))]
compile_error!("sheaf supports little-endian targets only: its zero-copy views assume the file's byte order");

mod buffer;
pub mod codec;
mod dtype;
mod error;
pub mod format;
mod limits;
mod mmap;
mod read;
mod schema;
mod source;
mod stats;
mod write;

pub use buffer::{release_recycled_memory, set_memory_recycling, AlignedBytes, Buf, NativeType, SharedSlice};
pub use dtype::{ByteOrder, DType, Field, Leaf, LeafType, StructType, TimeUnit};
pub use error::{Error, Result};
pub use limits::{memory_limit, parse_size, set_memory_limit};
pub use mmap::MappedFile;
pub use read::{Array, Column, ColumnData, File, PlainLayout, ReadOptions, VerifyReport};
pub use schema::{ArraySchema, ColumnDesc, Extension, Schema, LIST_ITEMS, STRUCT_VALIDITY};
pub use source::{coalesce, ByteSource, FetchHints, MappedSource, MemorySource, PositionedSource, PrefixSource};
pub use stats::{ChunkStats, StatValue, MAX_BOUND_LEN};
pub use write::{write_arrays, ArrayId, AtomicFile, Codec, ColumnInput, PlainArray, WriteOptions, Writer, DEFAULT_ROW_GROUP_ROWS};
