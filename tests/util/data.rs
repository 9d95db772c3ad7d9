//! Deterministic column data for tests: a small xorshift generator and inputs that match any
//! column description.

use sheaf::{ColumnData, ColumnDesc, ColumnInput, LeafType};

/// xorshift64*: deterministic, dependency-free test data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// Owned values of one column: what a test writes and later compares against.
#[derive(Debug, Clone, PartialEq)]
pub struct Owned {
    pub values: Vec<u8>,
    pub offsets: Option<Vec<u64>>,
    pub validity: Option<Vec<u8>>,
    pub rows: u64,
}

impl Owned {
    pub fn input(&self) -> ColumnInput<'_> {
        let base = match &self.offsets {
            Some(o) => ColumnInput::var(o, &self.values),
            None => ColumnInput::bytes(&self.values),
        };
        match &self.validity {
            Some(v) => base.with_validity(v),
            None => base,
        }
    }

    pub fn is_valid(&self, row: u64) -> bool {
        self.validity.as_ref().is_none_or(|v| v[(row / 8) as usize] >> (row % 8) & 1 == 1)
    }

    /// Bytes of row `row` (for a list column: none, its length is in the offsets).
    pub fn row(&self, desc: &ColumnDesc, row: u64) -> &[u8] {
        if desc.is_list() {
            return &[];
        }
        match &self.offsets {
            Some(o) => &self.values[o[row as usize] as usize..o[row as usize + 1] as usize],
            None => {
                let w = desc.row_width().unwrap() as usize;
                &self.values[row as usize * w..(row as usize + 1) * w]
            }
        }
    }
}

/// Values for `rows` rows of `desc`, in one of several styles (random, sorted, small range,
/// constant) so that every codec gets exercised.
pub fn column(desc: &ColumnDesc, rows: u64, rng: &mut Rng) -> Owned {
    let style = rng.below(4);
    // A bit a row, or a bit an element where elements are nullable one by one (format 1.5).
    let bits = rows * desc.validity_bits_per_row();
    let validity = desc.may_have_nulls().then(|| (0..bits.div_ceil(8)).map(|_| (rng.next() | rng.next()) as u8).collect::<Vec<u8>>());
    if desc.leaf.ty.is_variable() {
        let mut offsets = vec![0u64];
        let mut values = Vec::new();
        for _ in 0..rows {
            let len = rng.below(12);
            for _ in 0..len {
                if desc.leaf.ty == LeafType::Utf8 {
                    values.extend_from_slice(["a", "b", " ", "é", "中", "😀", "xyz"][rng.below(7) as usize].as_bytes());
                } else {
                    values.push(rng.next() as u8);
                }
            }
            offsets.push(values.len() as u64);
        }
        return Owned { values, offsets: Some(offsets), validity, rows };
    }
    let width = desc.row_width().unwrap() as usize;
    let unit = desc.leaf.ty.unit_width();
    let mut values = vec![0u8; rows as usize * width];
    let constant = rng.next().to_le_bytes();
    for (i, chunk) in values.chunks_mut(unit.max(1)).enumerate() {
        let v: u64 = match style {
            0 => rng.next(),
            1 => i as u64 * 3 + rng.below(2),
            2 => rng.below(50),
            _ => u64::from_le_bytes(constant),
        };
        let bytes = v.to_le_bytes();
        for (k, b) in chunk.iter_mut().enumerate() {
            *b = bytes[k % 8];
        }
        if desc.leaf.ty == LeafType::Bool {
            chunk[0] &= 1;
        }
    }
    Owned { values, offsets: None, validity, rows }
}

/// Values for every column of an array of `rows` rows: a list column gets 0..4 items per row,
/// and the columns inside it as many rows as its lists hold items.
pub fn columns(descs: &[ColumnDesc], rows: u64, rng: &mut Rng) -> Vec<Owned> {
    let mut level_rows = vec![rows];
    descs
        .iter()
        .map(|d| {
            let n = level_rows[d.level];
            if d.is_list() {
                let mut offsets = vec![0u64];
                for _ in 0..n {
                    offsets.push(offsets.last().unwrap() + rng.below(4));
                }
                level_rows.push(*offsets.last().unwrap());
                let validity = d.leaf.nullable.then(|| (0..n.div_ceil(8)).map(|_| (rng.next() | rng.next()) as u8).collect());
                Owned { values: Vec::new(), offsets: Some(offsets), validity, rows: n }
            } else {
                column(d, n, rng)
            }
        })
        .collect()
}

/// The rows of every level that rows `range` of the array cover (index 0: `range`).
pub fn level_ranges(descs: &[ColumnDesc], data: &[Owned], range: std::ops::Range<u64>) -> Vec<std::ops::Range<u64>> {
    let mut out = vec![range];
    for (d, o) in descs.iter().zip(data) {
        if d.is_list() {
            let r = out[d.level].clone();
            let offs = o.offsets.as_ref().unwrap();
            out.push(offs[r.start as usize]..offs[r.end as usize]);
        }
    }
    out
}

/// Asserts that `got` holds rows `start..start + got.rows` of `want`: validity and bytes.
pub fn assert_rows(desc: &ColumnDesc, want: &Owned, got: &ColumnData<'_>, start: u64) {
    let rows: Vec<u64> = (start..start + got.rows).collect();
    assert_rows_at(desc, want, got, &rows);
}

/// Asserts that row `r` of `got` is row `rows[r]` of `want`, for every row of `got`: validity
/// and bytes (for a list column, its length).
pub fn assert_rows_at(desc: &ColumnDesc, want: &Owned, got: &ColumnData<'_>, rows: &[u64]) {
    assert_eq!(got.rows, rows.len() as u64, "{}: rows", desc.name());
    for (r, &row) in rows.iter().enumerate() {
        let r = r as u64;
        // Every validity bit of the row: one, or its elements' (format 1.5).
        let k = desc.validity_bits_per_row();
        for j in 0..k {
            assert_eq!(got.is_valid((r * k + j) as usize), want.is_valid(row * k + j), "{}: validity of row {row}, bit {j}", desc.name());
        }
        if desc.is_list() {
            let (o, w) = (got.offsets.as_ref().unwrap(), want.offsets.as_ref().unwrap());
            assert_eq!(o[r as usize + 1] - o[r as usize], w[row as usize + 1] - w[row as usize], "{}: length of list {row}", desc.name());
            continue;
        }
        let bytes = match &got.offsets {
            Some(_) => got.var_value(r as usize).unwrap(),
            None => {
                let w = desc.row_width().unwrap() as usize;
                &got.values[r as usize * w..(r as usize + 1) * w]
            }
        };
        assert_eq!(bytes, want.row(desc, row), "{}: row {row}", desc.name());
    }
}

/// Rows `start..end` of one column (rows of its own level), as a column of their own.
pub fn slice_rows(d: &Owned, desc: &ColumnDesc, start: u64, end: u64) -> Owned {
    // A row has one validity bit, or one per element where items are nullable (format 1.5).
    let k = desc.validity_bits_per_row();
    let validity = d.validity.as_ref().map(|_| {
        let mut v = vec![0u8; ((end - start) * k).div_ceil(8) as usize];
        for bit in start * k..end * k {
            if d.is_valid(bit) {
                let at = bit - start * k;
                v[(at / 8) as usize] |= 1 << (at % 8);
            }
        }
        v
    });
    match &d.offsets {
        Some(o) => {
            let base = o[start as usize];
            Owned {
                // A list's offsets count items in other columns: it has no values of its own.
                values: if desc.is_list() { Vec::new() } else { d.values[base as usize..o[end as usize] as usize].to_vec() },
                offsets: Some(o[start as usize..=end as usize].iter().map(|x| x - base).collect()),
                validity,
                rows: end - start,
            }
        }
        None => {
            let w = desc.row_width().unwrap() as usize;
            Owned { values: d.values[start as usize * w..end as usize * w].to_vec(), offsets: None, validity, rows: end - start }
        }
    }
}
