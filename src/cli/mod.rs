//! The command-line interface: the only part of terrane that prints.
//!
//! Owns argument parsing (clap derive, after `normalize_args` has turned Terraform's
//! single-dash long flags such as `-auto-approve` or `-var-file=x` into `--flags`), the
//! global options (`-chdir`, `-no-color`/`NO_COLOR`, `-version`), the dispatch to one
//! module per subcommand, and the one error type (`CliError`) that maps to exit codes:
//! 0 success, 1 any error (usage errors included, as Terraform does), and 2 for
//! `plan -detailed-exitcode` when changes are present. Each subcommand first resolves its
//! arguments into settings, then does its work through the engine, the state backend and
//! the plan renderer, and prints through `ui::Ui` (diagnostics via miette on stderr).

pub mod apply;
pub mod console;
pub mod destroy;
pub mod encryption;
pub mod fmt;
pub mod force_unlock;
pub mod graph;
pub mod import;
pub mod init;
pub mod output;
pub mod plan;
pub mod show;
pub mod state;
pub mod ui;
pub mod validate;
pub mod version;
pub mod workdir;

use std::path::PathBuf;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::diag::{Diagnostic, Diagnostics};
use crate::engine::vars::VarArg;
use ui::Ui;

/// Exit code for success (and `plan -detailed-exitcode` with no changes).
pub const EXIT_OK: i32 = 0;
/// Exit code for every error, usage errors included.
pub const EXIT_ERROR: i32 = 1;
/// Exit code of `plan -detailed-exitcode` when the plan has changes.
pub const EXIT_CHANGES: i32 = 2;

/// Why a command failed. Every variant exits 1.
#[derive(Debug)]
pub enum CliError {
    /// Problems described as diagnostics; printed to stderr by `run`.
    Diags(Diagnostics),
    /// The user declined a confirmation; the message goes to stdout, as Terraform's does.
    Cancelled(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }
    /// A one-diagnostic error.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> CliError {
        CliError::Diags(Diagnostic::error(summary, detail).into())
    }
}

impl From<Diagnostic> for CliError {
    fn from(d: Diagnostic) -> Self {
        CliError::Diags(d.into())
    }
}

impl From<Diagnostics> for CliError {
    fn from(d: Diagnostics) -> Self {
        CliError::Diags(d)
    }
}

/// What a command returns: an exit code, or an error (exit 1).
pub type CmdResult = Result<i32, CliError>;

/// terrane: Terraform's language, a faster and state-safe engine.
#[derive(Parser, Debug)]
#[command(
    name = "terrane",
    disable_version_flag = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Switch to DIR before doing anything else.
    #[arg(long, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// Print the version (same as the `version` subcommand).
    #[arg(long, short = 'v')]
    pub version: bool,
    /// No ANSI colour in any output (also when NO_COLOR is set).
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Prepare the working directory: check the configuration and its providers.
    Init(init::Args),
    /// Check whether the configuration is valid.
    Validate(validate::Args),
    /// Show the changes required by the current configuration.
    Plan(plan::Args),
    /// Create or update infrastructure.
    Apply(apply::Args),
    /// Destroy previously-created infrastructure.
    Destroy(destroy::Args),
    /// Print the dependency graph in DOT.
    Graph(graph::Args),
    /// Associate an existing object with a resource address in the state.
    Import(import::Args),
    /// Show output values from the state.
    Output(output::Args),
    /// Show the state or a saved plan.
    Show(show::Args),
    /// Advanced state management.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Release a stuck lock on the state.
    #[command(name = "force-unlock")]
    ForceUnlock(force_unlock::Args),
    /// Show the terrane version.
    Version(version::Args),
    /// Try terrane expressions at an interactive prompt.
    Console(console::Args),
    /// Reformat configuration files in the canonical style.
    Fmt(fmt::Args),
}

/// Rewrites Terraform-style single-dash long flags as `--flags` so clap can parse them:
/// a token starting with one `-` whose name (up to any `=`) is longer than one letter
/// and starts with a letter becomes `--name[=value]`. Tokens after `--` are untouched,
/// and so are negative numbers and single-letter flags (`-h`, `-v`).
pub fn normalize_args(args: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len());
    let mut rest = false;
    for (i, a) in args.into_iter().enumerate() {
        if i == 0 || rest {
            out.push(a);
            continue;
        }
        if a == "--" {
            rest = true;
            out.push(a);
            continue;
        }
        if let Some(body) = a.strip_prefix('-') {
            if !body.starts_with('-') {
                let name = body.split('=').next().unwrap_or("");
                let looks_like_flag = name.len() > 1
                    && name.starts_with(|c: char| c.is_ascii_alphabetic())
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if looks_like_flag {
                    out.push(format!("-{a}"));
                    continue;
                }
            }
        }
        out.push(a);
    }
    out
}

/// The `-var` and `-var-file` arguments of a subcommand, in command-line order.
pub fn var_args(m: &ArgMatches) -> Vec<VarArg> {
    let mut all: Vec<(usize, VarArg)> = Vec::new();
    for (id, file) in [("var", false), ("var_file", true)] {
        if !matches!(m.try_contains_id(id), Ok(true)) {
            continue;
        }
        let (Some(idx), Ok(Some(vals))) = (m.indices_of(id), m.try_get_many::<String>(id)) else {
            continue;
        };
        for (i, v) in idx.zip(vals) {
            all.push((
                i,
                if file {
                    VarArg::File(v.clone())
                } else {
                    VarArg::Var(v.clone())
                },
            ));
        }
    }
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, v)| v).collect()
}

/// Whether colour is wanted: not with `-no-color`, not when `NO_COLOR` is set (to
/// anything non-empty), and not when stdout is not a terminal.
fn want_color(no_color_flag: bool, env: &[(String, String)]) -> bool {
    if no_color_flag || env.iter().any(|(k, v)| k == "NO_COLOR" && !v.is_empty()) {
        return false;
    }
    // SAFETY: isatty only inspects the file descriptor.
    unsafe { libc::isatty(1) == 1 }
}

/// The entry point: parses `std::env::args`, runs the command, returns the exit code.
pub fn main() -> i32 {
    let args: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    // A panic is a bug in terrane: say so plainly instead of a bare Rust message, and exit
    // 1 like any other error.
    std::panic::set_hook(Box::new(|info| {
        ui::write_err(&format!(
            "\nterrane crashed: {info}\n\nThis is a bug in terrane; please report it with the command you ran.\n"
        ));
    }));
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(args, env))).unwrap_or(EXIT_ERROR)
}

/// Runs one command line (`args[0]` is the program name) with the given environment.
pub fn run(args: Vec<String>, env: Vec<(String, String)>) -> i32 {
    let args = normalize_args(args);
    let env_no_color = env.iter().any(|(k, v)| k == "NO_COLOR" && !v.is_empty());
    let matches = match Cli::command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => return clap_error(e, env_no_color),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_error(e, env_no_color),
    };
    let ui = Ui::new(want_color(cli.no_color, &env));

    if let Some(dir) = &cli.chdir {
        if let Err(e) = std::env::set_current_dir(dir) {
            ui.diag(&Diagnostic::error(
                "Error handling -chdir option",
                format!("Cannot switch to the directory {}: {e}.", dir.display()),
            ));
            return EXIT_ERROR;
        }
    }
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            ui.diag(&Diagnostic::error(
                "Cannot determine the working directory",
                format!("{e}."),
            ));
            return EXIT_ERROR;
        }
    };

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            ui.diag(&Diagnostic::error(
                "Cannot start the async runtime",
                format!("{e}."),
            ));
            return EXIT_ERROR;
        }
    };

    let sub = matches.subcommand().map(|(_, m)| m);
    let ctx = Ctx { ui, cwd, env, rt };
    let result = match cli.command {
        None if cli.version => version::run(&ctx, version::Args::default()),
        None => Ok(EXIT_OK),
        Some(Command::Init(a)) => init::run(&ctx, a),
        Some(Command::Validate(a)) => validate::run(&ctx, a),
        Some(Command::Plan(a)) => plan::run(&ctx, a, sub.map(var_args).unwrap_or_default()),
        Some(Command::Apply(a)) => apply::run(&ctx, a, sub.map(var_args).unwrap_or_default()),
        Some(Command::Destroy(a)) => destroy::run(&ctx, a, sub.map(var_args).unwrap_or_default()),
        Some(Command::Graph(a)) => graph::run(&ctx, a),
        Some(Command::Import(a)) => import::run(&ctx, a, sub.map(var_args).unwrap_or_default()),
        Some(Command::Output(a)) => output::run(&ctx, a),
        Some(Command::Show(a)) => show::run(&ctx, a),
        Some(Command::State(c)) => state::run(&ctx, c),
        Some(Command::ForceUnlock(a)) => force_unlock::run(&ctx, a),
        Some(Command::Version(a)) => version::run(&ctx, a),
        Some(Command::Console(a)) => console::run(&ctx, a),
        Some(Command::Fmt(a)) => fmt::run(&ctx, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit_code();
            match e {
                CliError::Diags(d) => ctx.ui.diags(&d),
                CliError::Cancelled(msg) => ctx.ui.outln(&msg),
            }
            code
        }
    }
}

/// Prints a clap error or help text; help and version exit 0, usage errors 1.
fn clap_error(e: clap::Error, no_color: bool) -> i32 {
    use clap::error::ErrorKind;
    let text = if no_color {
        e.render().to_string()
    } else {
        e.render().ansi().to_string()
    };
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            ui::write_out(&text);
            EXIT_OK
        }
        _ => {
            ui::write_err(&text);
            EXIT_ERROR
        }
    }
}

/// What every command gets: the printer, the working directory (after `-chdir`), the
/// environment and an async runtime.
pub struct Ctx {
    pub ui: Ui,
    pub cwd: PathBuf,
    pub env: Vec<(String, String)>,
    pub rt: tokio::runtime::Runtime,
}

impl Ctx {
    /// Reads one line from stdin after printing `prompt`; `None` at end of input.
    pub fn prompt(&self, prompt: &str) -> Option<String> {
        self.ui.out(prompt);
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn normalizes_single_dash_long_flags() {
        let got = normalize_args(v(&[
            "terrane",
            "-chdir=dir",
            "apply",
            "-auto-approve",
            "-var",
            "a=b",
            "-var-file=x.tfvars",
            "--json",
            "-h",
            "-1",
            "-refresh=false",
            "-",
            "--",
            "-not-a-flag",
        ]));
        assert_eq!(
            got,
            v(&[
                "terrane",
                "--chdir=dir",
                "apply",
                "--auto-approve",
                "--var",
                "a=b",
                "--var-file=x.tfvars",
                "--json",
                "-h",
                "-1",
                "--refresh=false",
                "-",
                "--",
                "-not-a-flag",
            ])
        );
        // The program name is never touched.
        assert_eq!(normalize_args(v(&["-weird"])), v(&["-weird"]));
    }

    #[test]
    fn parses_terraform_style_flags() {
        let args = normalize_args(v(&[
            "terrane",
            "plan",
            "-var",
            "a=1",
            "-var-file=f.tfvars",
            "-var=b=2",
            "-refresh=false",
            "-lock=false",
            "-parallelism=3",
            "-detailed-exitcode",
            "-out=p.tfplan",
        ]));
        let m = Cli::command().try_get_matches_from(&args).expect("parses");
        let cli = Cli::from_arg_matches(&m).expect("from matches");
        let Some(Command::Plan(p)) = cli.command else {
            panic!("not plan")
        };
        assert!(!p.flags.refresh);
        assert!(!p.flags.lock);
        assert!(p.detailed_exitcode);
        assert_eq!(p.flags.parallelism, 3);
        assert_eq!(p.out.as_deref(), Some(std::path::Path::new("p.tfplan")));
        let sub = m.subcommand().map(|(_, s)| s).expect("sub");
        assert_eq!(
            var_args(sub),
            vec![
                VarArg::Var("a=1".into()),
                VarArg::File("f.tfvars".into()),
                VarArg::Var("b=2".into())
            ]
        );
    }

    #[test]
    fn bool_flags_accept_explicit_values() {
        let args = normalize_args(v(&[
            "terrane",
            "apply",
            "-auto-approve=true",
            "-input=false",
        ]));
        let cli = Cli::try_parse_from(&args).expect("parses");
        let Some(Command::Apply(a)) = cli.command else {
            panic!("not apply")
        };
        assert!(a.auto_approve);
        assert!(!a.flags.input);
    }
}
