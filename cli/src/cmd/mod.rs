//! One module per subcommand; each is glue between the arguments and the libraries.

mod append;
mod concat;
mod convert;
mod diff;
mod head;
mod inspect;
mod split;
mod sql;
mod suggest;
mod verify;

use crate::args::{Cli, Command};

/// Appends the rows of `b` to `a`, column by column (`descs` in the same order).
pub(crate) fn concat(descs: &[sheaf::ColumnDesc], a: Vec<sheaf::ColumnData<'_>>, b: Vec<sheaf::ColumnData<'_>>) -> Vec<sheaf::ColumnData<'static>> {
    descs.iter().zip(a.iter().zip(&b)).map(|(d, (x, y))| sheaf::ColumnData::concat(d, &[x, y])).collect()
}

pub(crate) fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Append(a) => append::run(a, cli.quiet),
        Command::Convert(a) => convert::run(a, cli.quiet),
        Command::Concat(a) => concat::run(a, cli.quiet),
        Command::Split(a) => split::run(a, cli.quiet),
        Command::Diff(a) => diff::run(a),
        Command::Inspect(a) => inspect::run(a),
        Command::Head(a) => head::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Suggest(a) => suggest::run(a),
        Command::Sql(a) => sql::run(a),
    }
}
