//! Cross-crate and end-to-end tests of sheaf, one integration binary.
//!
//! - `roundtrip`: proptest round trips over random schemas and data, every codec.
//! - `corrupt`: truncations and byte flips of valid files give errors, never panics.
//! - `golden`: the committed v1 files still read as they were written.
//! - `spec_reader`: an independent Python reader, written from `spec/`, reads Rust-written files.
//! - `cli`: the `sheaf` binary's commands, exit codes and messages.
//! - `atomic`: failed and abandoned writes leave the target untouched.
//! - `bad_files`: the bad-file corpus of tests/data/bad and a case for every error variant.
//! - `append`: appends in place, crash-safe; `sheaf append`.
//! - `embedding`: owned handles, the byte-source drivers, the requests a read makes.
//! - `dataset`: directories and globs of sheaf files as one table (hive partitions, added
//!   columns) in the library, head, inspect, convert and sql.
//! - `file_tools`: `sheaf concat`, `split` and `diff`.

#![allow(missing_docs, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

mod util;

mod append;
mod atomic;
mod bad_files;
mod cli;
mod corrupt;
mod dataset;
mod embedding;
mod file_tools;
mod golden;
mod interop_arrow;
mod interop_numpy;
mod remote;
mod roundtrip;
mod spec_reader;
mod sql;
