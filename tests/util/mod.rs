//! Shared helpers: deterministic data, sample files, running the `sheaf` binary and Python.

pub mod data;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `sheaf` binary Cargo built for this test run (the tests are the CLI package's integration
/// test, so it is built with the same profile and features as everything else).
pub fn sheaf_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sheaf"))
}

/// Runs `sheaf` with `args`.
pub fn sheaf(args: &[&str]) -> Output {
    Command::new(sheaf_bin()).args(args).output().expect("running sheaf")
}

/// The Python interpreter the interop tests use: `SHEAF_PYTHON`, else the repo's `.venv`.
/// Panics (fails the test, never skips) when it is missing or lacks a package.
pub fn python(packages: &[&str]) -> PathBuf {
    let py = std::env::var_os("SHEAF_PYTHON").map_or_else(|| repo_root().join(".venv/bin/python"), PathBuf::from);
    let probe = format!("import {}", packages.join(", "));
    let out = Command::new(&py).args(["-c", &probe]).output();
    match out {
        Ok(o) if o.status.success() => py,
        Ok(o) => panic!("Python at {} lacks {:?}: {}. Run ./scripts/test, which installs them.", py.display(), packages, String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("no Python at {} ({e}). Run ./scripts/test, which creates the venv.", py.display()),
    }
}

/// Runs a Python script from `tests/py` with arguments; returns the output, asserting success.
pub fn run_python(packages: &[&str], script: &str, args: &[&Path]) -> Output {
    let py = python(packages);
    let out = Command::new(py).arg(repo_root().join("tests/py").join(script)).args(args).output().expect("running python");
    assert!(out.status.success(), "{script} failed:\nstdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}
