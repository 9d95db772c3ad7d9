//! The command line, as clap derive structs only; what each command does lives in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// sheaf: typed, compressed, memory-mappable structured arrays stored by column.
#[derive(Debug, Parser)]
#[command(name = "sheaf", version, about, propagate_version = true)]
pub(crate) struct Cli {
    /// Print nothing but errors (no progress bars).
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Show a file's arrays and, per column, dtype, encoding, sizes, nulls and range.
    Inspect(InspectArgs),
    /// Check a file's structure and every checksum; exit 0 if sound, 1 with the first fault.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The file to inspect.
    pub(crate) file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Skip min/max (which decode every column).
    #[arg(long)]
    pub(crate) no_stats: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The file to verify.
    pub(crate) file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}
