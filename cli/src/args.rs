//! The command line, as clap derive structs only; what each command does lives in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use sheaf_convert::Format;

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
    /// Convert between .sheaf, .npy and .npz (format from the extension).
    Convert(ConvertArgs),
    /// Append the rows of files (any format convert reads) to a sheaf file, in place: atomic, in
    /// time proportional to the rows added; the inputs' dtypes must be the target's.
    Append(AppendArgs),
    /// Join the rows of files (any format convert reads) into one sheaf file; sheaf inputs give
    /// their stored chunks as they are, without decoding or encoding.
    Concat(ConcatArgs),
    /// Cut a file into pieces of N rows or about S bytes: OUT_PATTERN holds `{}` (or `{:04}`) for
    /// the piece's number.
    Split(SplitArgs),
    /// Compare two files (any formats): schemas, then values; exit 0 if the same, 1 with the first
    /// difference.
    Diff(DiffArgs),
    /// Show a file's arrays and, per column, dtype, encoding, sizes, nulls and range.
    Inspect(InspectArgs),
    /// Print the first rows as a table, values as NumPy prints them.
    Head(HeadArgs),
    /// Check a file's structure and every checksum; exit 0 if sound, 1 with the first fault.
    Verify(VerifyArgs),
    /// Advise narrower dtypes: per column the value range and the narrowest exact dtype.
    Suggest(SuggestArgs),
    /// Run a SQL query over files named in it ('a.sheaf', 'b.parquet', 'dir/', 'x/*.sheaf').
    Sql(SqlArgs),
}

/// A codec choice: `auto`, `none`, `zstd`, `zstd:LEVEL`, `lz4`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodecArg(pub(crate) sheaf::Codec);

impl std::str::FromStr for CodecArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        s.parse().map(CodecArg)
    }
}

#[derive(Debug, Args)]
pub(crate) struct ConvertArgs {
    /// Input file, or a dataset: a directory or glob (quoted: 'data/*.sheaf') of .sheaf files.
    pub(crate) input: PathBuf,
    /// Output file, or `-` for stdout (then --to is needed).
    pub(crate) output: PathBuf,
    /// Input format: sheaf, npy, npz, arrow, arrows, parquet, csv (default: from the extension).
    #[arg(long)]
    pub(crate) from: Option<Format>,
    /// Output format: sheaf, npy, npz, arrow, arrows, parquet, csv (default: from the extension).
    #[arg(long)]
    pub(crate) to: Option<Format>,
    /// Codec: for sheaf auto, smallest, none, zstd[:LEVEL], lz4; for Parquet also snappy; for Arrow IPC
    /// none, lz4, zstd.
    #[arg(long, default_value = "auto")]
    pub(crate) codec: String,
    /// Rows per row group in sheaf output.
    #[arg(long)]
    pub(crate) row_group_rows: Option<u64>,
    /// Columns to keep: comma-separated dotted paths (`id,pos,inner.x`).
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,
    /// Rows to keep, `START:END` (either may be empty); one-dimensional arrays only.
    #[arg(long)]
    pub(crate) rows: Option<String>,
    /// Arrays to convert (default: all); repeatable.
    #[arg(long)]
    pub(crate) array: Vec<String>,
    /// Narrow columns to the smallest exact dtype (see `sheaf suggest`).
    #[arg(long)]
    pub(crate) shrink: bool,
    /// Deflate .npz members, as np.savez_compressed does.
    #[arg(long)]
    pub(crate) deflate: bool,
    /// CSV: the file has no header line (columns are named column_1, ...).
    #[arg(long)]
    pub(crate) no_header: bool,
    /// CSV: the field delimiter.
    #[arg(long)]
    pub(crate) delimiter: Option<String>,
    /// CSV: column types instead of inferred ones, `NAME:TYPE` (int64, float64, utf8, bool,
    /// date32, timestamp[ms], ...); comma-separated or repeated.
    #[arg(long, value_delimiter = ',')]
    pub(crate) schema: Vec<String>,
    /// Arrow, Parquet, CSV: leave out columns sheaf has no lossless type for (a warning per
    /// column) instead of refusing the file.
    #[arg(long)]
    pub(crate) skip_unsupported: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AppendArgs {
    /// The sheaf file to append to (local).
    pub(crate) target: PathBuf,
    /// Files whose rows to append, in order.
    #[arg(required = true)]
    pub(crate) inputs: Vec<PathBuf>,
    /// Input format: sheaf, npy, npz, arrow, arrows, parquet, csv (default: from the extension).
    #[arg(long)]
    pub(crate) from: Option<Format>,
    /// The target array (default: the input array's name, or the target's only array).
    #[arg(long)]
    pub(crate) array: Option<String>,
    /// Codec of the appended chunks: auto, smallest, none, zstd[:LEVEL], lz4.
    #[arg(long, default_value = "auto")]
    pub(crate) codec: CodecArg,
    /// Rows per row group of the appended chunks.
    #[arg(long)]
    pub(crate) row_group_rows: Option<u64>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ConcatArgs {
    /// The inputs, in order, then the output (.sheaf).
    #[arg(required = true, num_args = 2.., value_name = "INPUT... OUTPUT")]
    pub(crate) paths: Vec<PathBuf>,
    /// Input format: sheaf, npy, npz, arrow, arrows, parquet, csv (default: from each extension).
    #[arg(long)]
    pub(crate) from: Option<Format>,
    /// Encode every row with this codec (auto, smallest, none, zstd[:LEVEL], lz4) instead of
    /// copying sheaf inputs' stored chunks.
    #[arg(long)]
    pub(crate) codec: Option<CodecArg>,
    /// Encode every row in row groups of this many rows (instead of copying stored chunks).
    #[arg(long)]
    pub(crate) row_group_rows: Option<u64>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SplitArgs {
    /// The file to split (any format convert reads).
    pub(crate) input: PathBuf,
    /// Output names: `{}` or `{:0N}` stands for the piece's number from 0 (`part-{:03}.sheaf`).
    pub(crate) out_pattern: String,
    /// Rows per piece.
    #[arg(long, conflicts_with = "size", required_unless_present = "size")]
    pub(crate) rows: Option<u64>,
    /// Bytes per piece, about (stored size of the rows): 64M, 1G, 500k, or bytes. A sheaf input
    /// is cut at the nearest chunk boundary, so that its chunks are copied as they are.
    #[arg(long)]
    pub(crate) size: Option<String>,
    /// Input format (default: from the extension).
    #[arg(long)]
    pub(crate) from: Option<Format>,
    /// Codec of the pieces where rows are encoded (auto, smallest, none, zstd[:LEVEL], lz4). With
    /// `auto`, a sheaf input's whole chunks are copied instead, not encoded again.
    #[arg(long, default_value = "auto")]
    pub(crate) codec: CodecArg,
    /// Print the pieces as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The first file (any format convert reads).
    pub(crate) a: PathBuf,
    /// The second file.
    pub(crate) b: PathBuf,
    /// Format of the first file (default: from the extension).
    #[arg(long)]
    pub(crate) from_a: Option<Format>,
    /// Format of the second file (default: from the extension).
    #[arg(long)]
    pub(crate) from_b: Option<Format>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// The file to inspect (any format convert reads), or a directory or glob of .sheaf files.
    pub(crate) file: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Skip min/max (which decode every column).
    #[arg(long)]
    pub(crate) no_stats: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HeadArgs {
    /// The file (any format convert reads), or a directory or glob of .sheaf files.
    pub(crate) file: PathBuf,
    /// Rows to print.
    #[arg(short = 'n', long, default_value_t = 10)]
    pub(crate) rows: u64,
    /// Columns to print: comma-separated dotted paths.
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,
    /// Array to print (default: each).
    #[arg(long)]
    pub(crate) array: Vec<String>,
    /// Print JSON rows instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The file to verify.
    pub(crate) file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SuggestArgs {
    /// The file (.sheaf, .npy, .npz).
    pub(crate) file: PathBuf,
    /// Columns to consider: comma-separated dotted paths.
    #[arg(long, value_delimiter = ',')]
    pub(crate) select: Vec<String>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SqlArgs {
    /// The query; files are tables by their quoted path: SELECT * FROM 'a.sheaf' JOIN 'b.parquet' USING (id).
    pub(crate) query: String,
    /// Print JSON (an array of row objects).
    #[arg(long, conflicts_with_all = ["csv", "output"])]
    pub(crate) json: bool,
    /// Print CSV with a header line.
    #[arg(long, conflicts_with = "output")]
    pub(crate) csv: bool,
    /// Write the result to this file instead (format from the extension, or --to).
    #[arg(long, short = 'o')]
    pub(crate) output: Option<PathBuf>,
    /// Output format for --output: sheaf, npy, npz, arrow, arrows, parquet, csv.
    #[arg(long, requires = "output")]
    pub(crate) to: Option<Format>,
    /// Partitions the query runs in (default: the number of cores).
    #[arg(long)]
    pub(crate) partitions: Option<usize>,
}
