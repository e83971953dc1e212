//! The `terrane` binary: everything is in `terrane::cli`; this only hands over the
//! process exit code.

fn main() {
    std::process::exit(terrane::cli::main());
}
