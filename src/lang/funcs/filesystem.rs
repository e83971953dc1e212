//! Filesystem functions: abspath, basename, dirname, file, filebase64, fileexists,
//! fileset, pathexpand; and `read_file`, the file reading shared with the file hashing
//! functions.
//!
//! Relative paths resolve against `FuncCtx::cwd` (after `~` expansion), as Terraform
//! resolves them against its working directory. Path manipulation follows Go's
//! `path/filepath` (Unix separators). Error messages quote the path as given.

use std::path::{Path, PathBuf};

use base64::Engine;

use super::strings::sv;
use super::{str_arg, FResult, FuncCtx, FuncError};
use crate::lang::value::Value;

pub(super) fn call(name: &str, a: &[Value], ctx: &FuncCtx) -> Option<FResult> {
    Some(match name {
        "abspath" => str_arg(a, 0).map(|p| {
            let joined = if p.starts_with('/') {
                p
            } else {
                format!("{}/{}", ctx.cwd.to_string_lossy(), p)
            };
            sv(&clean(&joined))
        }),
        "basename" => str_arg(a, 0).map(|p| sv(&basename(&p))),
        "dirname" => str_arg(a, 0).map(|p| sv(&dirname(&p))),
        "pathexpand" => str_arg(a, 0).and_then(|p| {
            expand_home(&p)
                .map(|p| sv(&p))
                .map_err(|m| FuncError::arg(0, m))
        }),
        "file" => file(a, ctx),
        "filebase64" => str_arg(a, 0)
            .and_then(|p| read_file(&p, ctx))
            .map(|b| Value::String(base64::engine::general_purpose::STANDARD.encode(b))),
        "fileexists" => fileexists(a, ctx),
        "fileset" => fileset(a, ctx),
        _ => return None,
    })
}

/// Go's path.Clean.
pub(super) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Go's filepath.Base.
fn basename(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's filepath.Dir.
fn dirname(p: &str) -> String {
    let idx = p.rfind('/').map(|i| i + 1).unwrap_or(0);
    clean(&p[..idx])
}

/// go-homedir's Expand.
fn expand_home(p: &str) -> Result<String, String> {
    if !p.starts_with('~') {
        return Ok(p.to_string());
    }
    if p.len() > 1 && !p[1..].starts_with('/') {
        return Err("cannot expand user-specific home dir".into());
    }
    let home = std::env::var("HOME").map_err(|_| "cannot find home directory".to_string())?;
    Ok(format!("{home}{}", &p[1..]))
}

fn resolve(p: &str, ctx: &FuncCtx) -> Result<PathBuf, FuncError> {
    let expanded =
        expand_home(p).map_err(|m| FuncError::arg(0, format!("failed to expand ~: {m}")))?;
    let path = Path::new(&expanded);
    Ok(if path.is_absolute() {
        path.to_path_buf()
    } else {
        ctx.cwd.join(path)
    })
}

/// Reads a file for the file functions, with Terraform's messages.
pub(super) fn read_file(p: &str, ctx: &FuncCtx) -> Result<Vec<u8>, FuncError> {
    let path = resolve(p, ctx)?;
    match std::fs::read(&path) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(FuncError::arg(
            0,
            format!(
                "no file exists at {p}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"
            ),
        )),
        Err(_) => Err(FuncError::arg(0, format!("failed to read {p}"))),
    }
}

fn file(a: &[Value], ctx: &FuncCtx) -> FResult {
    let p = str_arg(a, 0)?;
    let bytes = read_file(&p, ctx)?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok(sv(&s)),
        Err(_) => Err(FuncError::new(format!(
            "contents of {p} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead"
        ))),
    }
}

/// Go's FileMode.String: type letters (or "-") then the permission bits.
fn mode_string(md: &std::fs::Metadata) -> String {
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let ft = md.file_type();
    let mut s = String::from(if ft.is_dir() {
        "d"
    } else if ft.is_symlink() {
        "L"
    } else if ft.is_fifo() {
        "p"
    } else if ft.is_socket() {
        "S"
    } else if ft.is_char_device() {
        "Dc"
    } else if ft.is_block_device() {
        "D"
    } else {
        "-"
    });
    let mode = md.permissions().mode();
    for (i, c) in "rwxrwxrwx".chars().enumerate() {
        s.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    s
}

fn fileexists(a: &[Value], ctx: &FuncCtx) -> FResult {
    let p = str_arg(a, 0)?;
    let path = resolve(&p, ctx)?;
    match std::fs::metadata(&path) {
        Ok(md) if md.is_file() => Ok(Value::Bool(true)),
        Ok(md) => Err(FuncError::new(format!(
            "{p} is not a regular file, but {:?}",
            mode_string(&md)
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(_) => Err(FuncError::new(format!("failed to stat {p}"))),
    }
}

fn fileset(a: &[Value], ctx: &FuncCtx) -> FResult {
    let base = str_arg(a, 0)?;
    let pattern = str_arg(a, 1)?;
    let base_abs = resolve(&base, ctx).map_err(|e| FuncError::arg(0, e.message))?;
    let shown = clean(&format!("{base}/{pattern}"));
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let mut found = Vec::new();
    // Terraform's glob library (doublestar) supports `{a,b}` alternatives; the glob
    // crate does not, so each alternative is globbed on its own.
    for mut pat in expand_braces(&pattern) {
        if pat == "**" || pat.ends_with("/**") {
            pat.push_str("/*");
        }
        let full = format!(
            "{}/{}",
            glob::Pattern::escape(&base_abs.to_string_lossy()),
            pat
        );
        let paths = glob::glob_with(&full, opts).map_err(|_| {
            FuncError::new(format!(
                "failed to glob pattern ({shown}): syntax error in pattern"
            ))
        })?;
        found.extend(paths.flatten());
    }
    let mut out = Vec::new();
    for p in found {
        let Ok(md) = std::fs::metadata(&p) else {
            continue;
        };
        if !md.is_file() {
            continue;
        }
        let Ok(rel) = p.strip_prefix(&base_abs) else {
            continue;
        };
        out.push(sv(&rel.to_string_lossy().replace('\\', "/")));
    }
    Ok(Value::set_from(out))
}

/// Expands the first top-level `{a,b,...}` of a glob pattern (recursively, so nested
/// and later groups expand too). An unclosed brace is left as it is.
fn expand_braces(pat: &str) -> Vec<String> {
    let b = pat.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'{' => {
                let (mut depth, mut j) = (0, i);
                let mut parts = Vec::new();
                let mut start = i + 1;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 1,
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                parts.push(&pat[start..j]);
                                let (pre, post) = (&pat[..i], &pat[j + 1..]);
                                return parts
                                    .into_iter()
                                    .flat_map(|alt| expand_braces(&format!("{pre}{alt}{post}")))
                                    .collect();
                            }
                        }
                        b',' if depth == 1 => {
                            parts.push(&pat[start..j]);
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                return vec![pat.to_string()];
            }
            _ => i += 1,
        }
    }
    vec![pat.to_string()]
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check_in, E};

    #[test]
    fn filesystem() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let d = dir.path();
        let w = |p: &str, b: &[u8]| {
            let full = d.join(p);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).expect("mkdir");
            }
            std::fs::write(full, b).expect("write");
        };
        w("hello.txt", b"hello\n");
        w("bin.dat", &[0xff, 0xfe]);
        w("sub/a/x.txt", b"");
        w("sub/b.txt", b"");
        w("sub/c.md", b"");
        let abs = format!("\"{}/b\"", d.to_string_lossy());
        check_in(
            d,
            &[
                ("file(\"hello.txt\")", "<<EOT\nhello\nEOT"),
                (
                    "file(\"nope.txt\")",
                    "!no file exists at nope.txt; this function works only with files",
                ),
                (
                    "file(\"bin.dat\")",
                    "!contents of bin.dat are not valid UTF-8",
                ),
                ("file(\"sub\")", "!failed to read sub"),
                ("filebase64(\"bin.dat\")", "\"//4=\""),
                ("filebase64(\"nope\")", E),
                ("fileexists(\"hello.txt\")", "true"),
                ("fileexists(\"nope\")", "false"),
                (
                    "fileexists(\"sub\")",
                    "!sub is not a regular file, but \"drwx",
                ),
                (
                    "fileset(\".\", \"sub/**/*.txt\")",
                    "toset([ \"sub/a/x.txt\", \"sub/b.txt\", ])",
                ),
                ("fileset(\"sub\", \"*\")", "toset([ \"b.txt\", \"c.md\", ])"),
                (
                    "fileset(\"sub\", \"**\")",
                    "toset([ \"a/x.txt\", \"b.txt\", \"c.md\", ])",
                ),
                ("fileset(\"nope\", \"*\")", "toset([])"),
                (
                    "fileset(\".\", \"[\")",
                    "!failed to glob pattern ([): syntax error in pattern",
                ),
                ("basename(\"/a/b/c.txt\")", "\"c.txt\""),
                ("basename(\"\")", "\".\""),
                ("basename(\"/\")", "\"/\""),
                ("basename(\"a/b/\")", "\"b\""),
                ("basename([])", E),
                ("dirname(\"/a/b/c.txt\")", "\"/a/b\""),
                ("dirname(\"c\")", "\".\""),
                ("dirname(\"\")", "\".\""),
                ("dirname(\"/a/b/\")", "\"/a/b\""),
                ("dirname(\"a//b\")", "\"a\""),
                ("dirname([])", E),
                ("abspath(\"a/../b\")", &abs),
                ("abspath([])", E),
                ("pathexpand(\"x\")", "\"x\""),
                ("pathexpand(\"~other/x\")", E),
            ],
        );
    }
}
