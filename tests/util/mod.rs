//! Shared helpers: deterministic data, sample files, running the `sheaf` binary and Python.

pub mod data;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The built `sheaf` binary (built once per test run if needed).
pub fn sheaf_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let profile_dir = std::env::current_exe().unwrap().parent().unwrap().parent().unwrap().to_path_buf();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "sheaf-cli"]).current_dir(repo_root());
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build");
        assert!(status.success(), "building the sheaf binary failed");
        profile_dir.join("sheaf")
    })
    .clone()
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
