//! `terrane fmt`: rewrites `.tf` and `.tfvars` files in the canonical format, behaving as
//! `terraform fmt` (1.0.3) does: `[DIR|FILE|-]`, `-list` (default on), `-write` (default
//! on), `-diff`, `-check`, `-recursive`. Exit codes are Terraform's: 0 success, 2 when a
//! file could not be read or parsed (it is left untouched), 3 when `-check` finds a file
//! that is not formatted. The formatting itself is `crate::fmt`.

use std::path::{Path, PathBuf};

use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::diag::{Diagnostic, Diagnostics};

/// Exit code when files could not be read or parsed.
const EXIT_FMT_ERROR: i32 = 2;
/// Exit code of `-check` when some input is not formatted.
const EXIT_NOT_FORMATTED: i32 = 3;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Only check whether the input is formatted: exit 3 (and list the files) if not.
    #[arg(long)]
    pub check: bool,
    /// Show the formatting changes as a diff.
    #[arg(long)]
    pub diff: bool,
    /// Also process files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// Write the result to the files (-write=false to not).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub write: bool,
    /// List files whose formatting differs (-list=false to not).
    #[arg(long, action = clap::ArgAction::Set, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", value_name = "BOOL")]
    pub list: bool,
    /// The directory or file to format, or `-` for stdin (default: the working directory).
    #[arg(value_name = "TARGET")]
    pub targets: Vec<PathBuf>,
}

/// What to do with each file, resolved from the arguments.
struct Settings {
    list: bool,
    write: bool,
    diff: bool,
    recursive: bool,
}

/// Where output goes: straight to stdout, or (under `-check`) into a buffer.
struct Out {
    buffer: Option<String>,
}

impl Out {
    /// Writes one chunk as Terraform's `UiWriter` does: a final newline is dropped, then
    /// one is added.
    fn write(&mut self, ctx: &Ctx, s: &str) {
        match &mut self.buffer {
            Some(b) => b.push_str(s),
            None => ctx.ui.outln(s.strip_suffix('\n').unwrap_or(s)),
        }
    }
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    if args.targets.len() > 1 {
        return Err(CliError::error(
            "Too many arguments",
            "The fmt command expects at most one argument: a directory, a file, or - for standard input.",
        ));
    }
    let stdin = args.targets.first().is_some_and(|t| t.as_os_str() == "-");
    let mut s = Settings {
        list: args.list,
        write: args.write,
        diff: args.diff,
        recursive: args.recursive,
    };
    if stdin {
        s.list = false;
        s.write = false;
    }
    let show_list = s.list;
    if args.check {
        s.list = true;
        s.write = false;
    }
    let mut out = Out {
        buffer: args.check.then(String::new),
    };
    let mut diags = Diagnostics::new();

    if stdin {
        let mut src = Vec::new();
        if let Err(e) = std::io::Read::read_to_end(&mut std::io::stdin(), &mut src) {
            diags.push(Diagnostic::error("Failed to read <stdin>", e.to_string()));
        } else {
            process(ctx, &s, "<stdin>", None, src, &mut out, &mut diags);
        }
    } else {
        let target = args
            .targets
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."));
        let path = if target.is_absolute() {
            target.clone()
        } else {
            ctx.cwd.join(&target)
        };
        match std::fs::metadata(&path) {
            Err(_) => diags.push(Diagnostic::error(
                "No file or directory",
                format!("No file or directory at {}.", target.display()),
            )),
            Ok(m) if m.is_dir() => process_dir(ctx, &s, &path, &target, &mut out, &mut diags),
            Ok(_) => {
                if is_config_file(&path) {
                    process_path(ctx, &s, &path, &target, &mut out, &mut diags);
                } else {
                    diags.push(
                        Diagnostic::error(
                            "Only .tf and .tfvars files can be processed with terrane fmt",
                            format!("{} is neither a .tf nor a .tfvars file.", target.display()),
                        )
                        .with_help("JSON configuration (.tf.json) is not formatted"),
                    );
                }
            }
        }
    }

    ctx.ui.diags(&diags);
    if diags.has_errors() {
        return Ok(EXIT_FMT_ERROR);
    }
    if let Some(buf) = out.buffer {
        if show_list && !buf.is_empty() {
            ctx.ui.outln(buf.strip_suffix('\n').unwrap_or(&buf));
        }
        return Ok(if buf.is_empty() {
            EXIT_OK
        } else {
            EXIT_NOT_FORMATTED
        });
    }
    Ok(EXIT_OK)
}

fn is_config_file(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("tf" | "tfvars")
    )
}

/// Files Terraform ignores: hidden files and editor backups.
fn is_ignored(name: &str) -> bool {
    name.starts_with('.') || name.ends_with('~') || (name.starts_with('#') && name.ends_with('#'))
}

/// `shown` is how the user named the directory; files are shown joined to it.
fn process_dir(
    ctx: &Ctx,
    s: &Settings,
    dir: &Path,
    shown: &Path,
    out: &mut Out,
    diags: &mut Diagnostics,
) {
    let mut entries: Vec<(String, bool)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok())
            .map(|e| {
                let is_dir = std::fs::metadata(e.path())
                    .map(|m| m.is_dir())
                    .unwrap_or(false);
                (e.file_name().to_string_lossy().into_owned(), is_dir)
            })
            .collect(),
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot read directory",
                format!("Cannot read directory {}: {e}.", shown.display()),
            ));
            return;
        }
    };
    entries.sort();
    for (name, is_dir) in entries {
        if is_ignored(&name) {
            continue;
        }
        let path = dir.join(&name);
        let shown = join_shown(shown, &name);
        if is_dir {
            // Like plan, fmt works on one module at a time unless asked to recurse.
            if s.recursive {
                process_dir(ctx, s, &path, &shown, out, diags);
            }
            continue;
        }
        if is_config_file(&path) {
            process_path(ctx, s, &path, &shown, out, diags);
        }
    }
}

/// `dir/name` as Go's `filepath.Join` writes it (`./x` is `x`).
fn join_shown(dir: &Path, name: &str) -> PathBuf {
    if dir.as_os_str() == "." {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

fn process_path(
    ctx: &Ctx,
    s: &Settings,
    path: &Path,
    shown: &Path,
    out: &mut Out,
    diags: &mut Diagnostics,
) {
    let shown_s = shown.to_string_lossy().into_owned();
    match std::fs::read(path) {
        Ok(src) => process(ctx, s, &shown_s, Some(path), src, out, diags),
        Err(e) => diags.push(Diagnostic::error(
            "Failed to read file",
            format!("Failed to read file {shown_s}: {e}."),
        )),
    }
}

/// Formats one file's bytes; lists, writes, diffs or prints as the settings say.
fn process(
    ctx: &Ctx,
    s: &Settings,
    name: &str,
    path: Option<&Path>,
    src: Vec<u8>,
    out: &mut Out,
    diags: &mut Diagnostics,
) {
    let src = match String::from_utf8(src) {
        Ok(t) => t,
        Err(e) => {
            diags.push(
                Diagnostic::error(
                    "Invalid UTF-8",
                    format!(
                        "{name} is not valid UTF-8 text (at byte {}).",
                        e.utf8_error().valid_up_to()
                    ),
                )
                .with_help("configuration files must be UTF-8 encoded"),
            );
            return;
        }
    };
    let result = match crate::fmt::format_source(name, &src) {
        Ok(r) => r,
        Err(d) => {
            diags.extend(d);
            return;
        }
    };
    if result != src {
        if s.list {
            out.write(ctx, &format!("{name}\n"));
        }
        if s.write {
            if let Some(path) = path {
                if let Err(e) = std::fs::write(path, &result) {
                    diags.push(Diagnostic::error(
                        "Failed to write file",
                        format!("Failed to write {name}: {e}."),
                    ));
                    return;
                }
            }
        }
        if s.diff {
            out.write(ctx, &crate::fmt::diff::unified(&src, &result, name));
        }
    }
    if !s.list && !s.write && !s.diff {
        out.write(ctx, &result);
    }
}
