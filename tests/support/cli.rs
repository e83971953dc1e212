//! Running the built `terrane` binary in a test directory: one command builder and the
//! output helpers every CLI test uses.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `terrane ARGS` in `dir`, uncoloured, with its output captured.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_terrane"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Runs `c` with `stdin` written to its standard input, and waits for it.
pub fn run_with_stdin(mut c: Command, stdin: &str) -> Output {
    let mut child = c.stdin(Stdio::piped()).spawn().expect("spawn terrane");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

pub fn terrane_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    run_with_stdin(command(dir, args), stdin)
}

pub fn terrane(dir: &Path, args: &[&str]) -> Output {
    terrane_stdin(dir, args, "")
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
