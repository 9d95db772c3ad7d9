//! What the writer takes: one [`ColumnInput`] per leaf column, borrowing the caller's memory,
//! checked against the column's description before anything is written.

use crate::buffer::NativeType;
use crate::dtype::LeafType;
use crate::error::{Error, Result};
use crate::read::ColumnData;
use crate::schema::ColumnDesc;

/// The values of one leaf column for a run of rows, borrowed from the caller.
#[derive(Debug, Clone, Copy)]
pub enum ColumnInput<'a> {
    /// Fixed-width values: `rows * row_width` little-endian bytes.
    Fixed {
        /// The bytes.
        bytes: &'a [u8],
        /// Validity bitmap (LSB first, 1 = valid), for nullable columns.
        validity: Option<&'a [u8]>,
    },
    /// Variable-length values: `rows + 1` offsets into `data` (the first need not be 0).
    Var {
        /// Offsets.
        offsets: &'a [u64],
        /// The bytes the offsets point into.
        data: &'a [u8],
        /// Validity bitmap (LSB first, 1 = valid), for nullable columns.
        validity: Option<&'a [u8]>,
    },
}

impl<'a> ColumnInput<'a> {
    /// Fixed-width values from a typed slice (elements of the leaf, subarray elements flattened).
    #[must_use]
    pub fn fixed<T: NativeType>(values: &'a [T]) -> Self {
        ColumnInput::Fixed { bytes: bytemuck::cast_slice(values), validity: None }
    }

    /// Fixed-width values from raw little-endian bytes.
    #[must_use]
    pub fn bytes(bytes: &'a [u8]) -> Self {
        ColumnInput::Fixed { bytes, validity: None }
    }

    /// Variable-length values.
    #[must_use]
    pub fn var(offsets: &'a [u64], data: &'a [u8]) -> Self {
        ColumnInput::Var { offsets, data, validity: None }
    }

    /// The same values with a validity bitmap.
    #[must_use]
    pub fn with_validity(self, bitmap: &'a [u8]) -> Self {
        match self {
            ColumnInput::Fixed { bytes, .. } => ColumnInput::Fixed { bytes, validity: Some(bitmap) },
            ColumnInput::Var { offsets, data, .. } => ColumnInput::Var { offsets, data, validity: Some(bitmap) },
        }
    }

    /// Borrows decoded column data (for copying columns between files).
    #[must_use]
    pub fn from_data(d: &'a ColumnData<'_>) -> Self {
        let validity = d.validity.as_deref();
        match &d.offsets {
            Some(o) => ColumnInput::Var { offsets: o, data: &d.values, validity },
            None => ColumnInput::Fixed { bytes: &d.values, validity },
        }
    }

    pub(crate) fn validity(&self) -> Option<&'a [u8]> {
        match self {
            ColumnInput::Fixed { validity, .. } | ColumnInput::Var { validity, .. } => *validity,
        }
    }

    /// For a list column: (rows, items) of `Var` input whose offsets count items of the list's
    /// item columns (its data is not used and should be empty).
    pub(crate) fn list_rows(&self, desc: &ColumnDesc, name: &str) -> Result<(u64, u64)> {
        let bad = |reason: String| Error::BadInput { column: name.to_string(), reason };
        let ColumnInput::Var { offsets, validity, .. } = self else {
            return Err(bad("a list column takes offsets (ColumnInput::var with empty data)".into()));
        };
        let (rows, first, last) = offset_span(offsets).map_err(bad)?;
        check_validity(*validity, desc, rows).map_err(bad)?;
        Ok((rows, last - first))
    }

    /// Rows held, checked against the column's description; `None` for zero-width columns,
    /// whose bytes cannot tell.
    pub(crate) fn rows(&self, desc: &ColumnDesc, name: &str) -> Result<Option<u64>> {
        let bad = |reason: String| Error::BadInput { column: name.to_string(), reason };
        let rows = match (self, desc.row_width()) {
            (ColumnInput::Fixed { bytes, .. }, Some(w)) => {
                let len = bytes.len() as u64;
                if w == 0 {
                    if len > 0 {
                        return Err(bad("bytes given for a zero-width column".into()));
                    }
                    return Ok(None);
                }
                if !len.is_multiple_of(w) {
                    return Err(bad(format!("{len} bytes is not a whole number of {w}-byte rows")));
                }
                len / w
            }
            (ColumnInput::Var { offsets, data, .. }, None) => {
                let (rows, _, prev) = offset_span(offsets).map_err(bad)?;
                if prev > data.len() as u64 {
                    return Err(bad(format!("offsets reach {prev}, past the {} data bytes", data.len())));
                }
                if desc.leaf.ty == LeafType::Utf8 {
                    for (i, w) in offsets.windows(2).enumerate() {
                        if std::str::from_utf8(&data[w[0] as usize..w[1] as usize]).is_err() {
                            return Err(bad(format!("row {i} is not valid UTF-8")));
                        }
                    }
                }
                rows
            }
            (ColumnInput::Fixed { .. }, None) => return Err(bad("variable-length column given fixed-width values".into())),
            (ColumnInput::Var { .. }, Some(_)) => return Err(bad("fixed-width column given variable-length values".into())),
        };
        check_validity(self.validity(), desc, rows).map_err(bad)?;
        Ok(Some(rows))
    }
}

/// (rows, first, last) of `rows + 1` offsets that must not decrease.
fn offset_span(offsets: &[u64]) -> std::result::Result<(u64, u64, u64), String> {
    let (&first, rest) = offsets.split_first().ok_or("offsets must hold rows + 1 entries")?;
    let mut prev = first;
    for &o in rest {
        if o < prev {
            return Err("offsets decrease".into());
        }
        prev = o;
    }
    Ok((rest.len() as u64, first, prev))
}

/// A validity bitmap, if given, must belong to a nullable column and cover `rows`.
fn check_validity(validity: Option<&[u8]>, desc: &ColumnDesc, rows: u64) -> std::result::Result<(), String> {
    let Some(v) = validity else { return Ok(()) };
    if !desc.may_have_nulls() {
        return Err("validity given for a column that is not nullable".into());
    }
    let bits = rows.saturating_mul(desc.validity_bits_per_row());
    if (v.len() as u64) < bits.div_ceil(8) {
        return Err(format!("validity bitmap of {} bytes is short for {rows} rows ({bits} bits)", v.len()));
    }
    Ok(())
}
