//! One module per subcommand; each is glue between the arguments and the libraries.

mod inspect;
mod verify;

use crate::args::{Cli, Command};

pub(crate) fn run(cli: &Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Inspect(a) => inspect::run(a),
        Command::Verify(a) => verify::run(a),
    }
}
