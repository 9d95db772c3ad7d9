//! Parquet read one row group at a time, each checked against the file before it is decoded.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;

use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{io, panic_text, ArrowFormat, BATCH_ROWS};
use crate::error::{ArrowInteropError, Result};

/// Parquet row groups decoded on several threads at once, handed out in file order. The arrow-rs
/// decoder is single-threaded, so one reader leaves cores idle; each row group gets its own
/// reader on its own thread, at most one per core ahead of the consumer (memory stays bounded by
/// those row groups).
pub(super) struct RowGroups {
    path: PathBuf,
    metadata: parquet::arrow::arrow_reader::ArrowReaderMetadata,
    next_group: usize,
    pending: std::collections::VecDeque<std::sync::mpsc::Receiver<Result<Vec<RecordBatch>>>>,
    ready: std::collections::VecDeque<RecordBatch>,
    ahead: usize,
}

impl RowGroups {
    pub(super) fn new(path: &Path, metadata: parquet::arrow::arrow_reader::ArrowReaderMetadata) -> Self {
        let ahead = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).max(2);
        RowGroups { path: path.to_path_buf(), metadata, next_group: 0, pending: std::collections::VecDeque::new(), ready: std::collections::VecDeque::new(), ahead }
    }

    fn decode(path: &Path, metadata: parquet::arrow::arrow_reader::ArrowReaderMetadata, group: usize) -> Result<Vec<RecordBatch>> {
        let unreadable = |reason: String| ArrowInteropError::Unreadable { format: ArrowFormat::Parquet.name(), reason };
        let file = File::open(path).map_err(|e| io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata).with_row_groups(vec![group]).with_batch_size(BATCH_ROWS).build()?;
        // The declared sizes were checked before; this also bounds what they cannot foresee
        // (dictionary strings longer than their average), one batch at a time.
        let limit = sheaf::memory_limit();
        let collect = || {
            let mut held = 0u64;
            let mut batches = Vec::new();
            for b in reader {
                let b = b.map_err(|e| unreadable(e.to_string()))?;
                held = held.saturating_add(b.get_array_memory_size() as u64);
                if held > limit {
                    return Err(ArrowInteropError::MemoryLimit { what: format!("{}: Parquet row group {group} as decoded", path.display()), declared: held, limit });
                }
                batches.push(b);
            }
            Ok(batches)
        };
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(collect));
        decoded.unwrap_or_else(|p| Err(unreadable(format!("the Parquet reader failed on this file: {}", panic_text(&p)))))
    }

    fn start_more(&mut self) {
        while self.pending.len() < self.ahead && self.next_group < self.metadata.metadata().num_row_groups() {
            let (tx, rx) = std::sync::mpsc::sync_channel(1);
            let (path, metadata, group) = (self.path.clone(), self.metadata.clone(), self.next_group);
            std::thread::spawn(move || {
                let _ = tx.send(Self::decode(&path, metadata, group));
            });
            self.pending.push_back(rx);
            self.next_group += 1;
        }
    }
}

impl Iterator for RowGroups {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(b) = self.ready.pop_front() {
                return Some(Ok(b));
            }
            self.start_more();
            let rx = self.pending.pop_front()?;
            match rx.recv() {
                Ok(Ok(batches)) => self.ready.extend(batches),
                Ok(Err(e)) => {
                    // Nothing after a failed row group: stop here.
                    self.pending.clear();
                    self.next_group = usize::MAX;
                    return Some(Err(e));
                }
                Err(_) => return Some(Err(ArrowInteropError::Unreadable { format: ArrowFormat::Parquet.name(), reason: "a row group decoder stopped".into() })),
            }
            // Keep the other threads busy while this row group is consumed.
            self.start_more();
        }
    }
}
