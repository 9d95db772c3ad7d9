//! The `sheaf` binary: parse the command line, run one command, map the outcome to an exit code
//! (0 ok, 1 error, 2 usage). Thin glue over the `sheaf` library.

mod args;
mod cmd;
mod format;
mod human;
mod place;
mod progress;

use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version are not errors; clap exits 2 for usage errors.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // A panic is a bug (or a dependency's assertion on a malformed file, which the libraries
    // catch and turn into errors): stay quiet here and report one line if it reaches the top.
    std::panic::set_hook(Box::new(|_| {}));
    // One command's batches reuse the memory of the batches before (the library's default is off,
    // for embedders).
    sheaf::set_memory_recycling(true);
    let outcome = match std::panic::catch_unwind(|| cmd::run(&cli)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p.downcast_ref::<&str>().map(|s| (*s).to_string()).or_else(|| p.downcast_ref::<String>().cloned()).unwrap_or_default();
            // `println!` panics when stdout is a closed pipe (`sheaf head | head -3`): not an error.
            if msg.contains("Broken pipe") {
                return ExitCode::SUCCESS;
            }
            eprintln!("sheaf: error: internal error (a bug, please report it): {msg}");
            return ExitCode::from(1);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)) {
                return ExitCode::SUCCESS;
            }
            eprintln!("sheaf: error: {}", one_line(&e));
            ExitCode::from(1)
        }
    }
}

/// The error and its causes on one line, without repeating a cause already in the message.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if out.contains(&s) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&s);
    }
    place::as_shown(out.replace('\n', " "))
}
