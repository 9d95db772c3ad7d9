//! One module per subcommand; each is glue between the arguments and the libraries.

mod convert;
mod head;
mod inspect;
mod suggest;
mod verify;

use crate::args::{Cli, Command};

pub(crate) fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Convert(a) => convert::run(a, cli.quiet),
        Command::Inspect(a) => inspect::run(a),
        Command::Head(a) => head::run(a),
        Command::Verify(a) => verify::run(a),
        Command::Suggest(a) => suggest::run(a),
    }
}
