//! The `terrane` binary: everything is in `terrane::cli`; this only hands over the
//! process exit code.

/// mimalloc instead of the system allocator: loading a configuration makes millions of
/// small allocations (hcl-edit syntax trees), where glibc's malloc and free took a third
/// of the time (see docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(terrane::cli::main());
}
