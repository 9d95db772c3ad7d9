//! One module per subcommand; each is glue between the arguments and the libraries.

mod convert;
mod head;
mod inspect;
mod suggest;
mod verify;

use crate::args::{Cli, Command};

/// Appends the rows of `b` to `a`, column by column (small heads only).
pub(crate) fn concat<'a>(a: Vec<sheaf::ColumnData<'a>>, b: Vec<sheaf::ColumnData<'a>>) -> Vec<sheaf::ColumnData<'a>> {
    a.into_iter()
        .zip(b)
        .map(|(x, y)| {
            let rows = x.rows + y.rows;
            let mut values = x.values.to_vec();
            // A list column's offsets count items, not bytes: continue from its last one.
            let base = x.offsets.as_ref().and_then(|o| o.last().copied()).unwrap_or(values.len() as u64);
            values.extend_from_slice(&y.values);
            let offsets = match (x.offsets, y.offsets) {
                (Some(mut o), Some(p)) => {
                    o.extend(p[1..].iter().map(|v| v + base));
                    Some(o)
                }
                _ => None,
            };
            let validity = if x.validity.is_none() && y.validity.is_none() {
                None
            } else {
                let mut v = vec![0u8; rows.div_ceil(8) as usize];
                for r in 0..rows as usize {
                    let valid = if (r as u64) < x.rows {
                        x.validity.as_ref().is_none_or(|b| b[r / 8] >> (r % 8) & 1 == 1)
                    } else {
                        let k = r - x.rows as usize;
                        y.validity.as_ref().is_none_or(|b| b[k / 8] >> (k % 8) & 1 == 1)
                    };
                    if valid {
                        v[r / 8] |= 1 << (r % 8);
                    }
                }
                Some(v)
            };
            sheaf::ColumnData { rows, values: sheaf::Buf::Owned(sheaf::AlignedBytes::copy_from(&values)), offsets, validity }
        })
        .collect()
}

pub(crate) fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Convert(a) => convert::run(a, cli.quiet),
        Command::Inspect(a) => inspect::run(a),
        Command::Head(a) => head::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Suggest(a) => suggest::run(a),
    }
}
