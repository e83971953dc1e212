//! The local state backend: one state file on the local file system, its lock file and
//! its kept earlier versions.
//!
//! Owns the files `<path>` (the state, mode 0600), `<path>.backup` (the version before the last
//! run), `<path>.history/<serial>.tfstate` (every version replaced by a run; directory mode
//! 0700) and `<path>.lock.info` (the lock, created with O_EXCL and holding the `LockInfo`
//! JSON). Writes are atomic and durable: temp file in the same directory, fsync, rename,
//! fsync of the directory. A stored state that cannot be parsed is never overwritten: the
//! write fails with `Corrupt` and a person decides. Serialisation is `statefile`'s business (through the `StateCodec`, which may encrypt); this module must not interpret
//! the state beyond lineage and serial, and it does not take the lock on its own: callers
//! lock around read-modify-write. It never panics on what it finds on disk.
//!
//! Choice on equal serials: a write whose serial equals the stored one is accepted only
//! when its content is identical (then it is a no-op); with different content it is refused
//! as `SerialConflict`, because two writers that both bumped from the same serial would
//! otherwise silently lose one update. Every caller must bump the serial on every change.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::state::backend::{hostname, Backend, HistoryEntry, LockInfo, StateError};
use crate::state::encryption::StateCodec;
use crate::state::statefile;
use crate::state::State;

/// File mode of every file this backend creates.
const FILE_MODE: u32 = 0o600;

/// A state stored in one local file.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    path: PathBuf,
    codec: StateCodec,
    /// What this backend value (one command run; clones share it) last wrote: the
    /// version before a run is kept once as backup and history, not every checkpoint an
    /// apply writes as instances complete (which would fill the disk with near-identical
    /// copies and make large applies quadratic).
    run: Arc<Mutex<RunWrites>>,
}

#[derive(Debug, Default)]
struct RunWrites {
    /// The pre-run version has been kept.
    kept: bool,
    /// Lineage, serial, length and modification time of our last write: when the file
    /// still matches, it is our own write and need not be read back and parsed.
    last: Option<(String, u64, u64, SystemTime)>,
}

impl LocalBackend {
    /// A backend for the state file at `path` (the CLI uses `state/terraform.tfstate` under
    /// the working directory). Nothing is touched until the first operation; parent
    /// directories are created when needed.
    pub fn new(path: PathBuf) -> LocalBackend {
        LocalBackend {
            path,
            codec: StateCodec::plain(),
            run: Arc::default(),
        }
    }

    /// A backend whose files are written and read through `codec` (encryption at rest).
    pub fn with_codec(path: PathBuf, codec: StateCodec) -> LocalBackend {
        LocalBackend { path, codec, run: Arc::default() }
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<path>.lock.info`
    pub fn lock_path(&self) -> PathBuf {
        suffixed(&self.path, ".lock.info")
    }

    /// `<path>.backup`: the version replaced by the last write.
    pub fn backup_path(&self) -> PathBuf {
        suffixed(&self.path, ".backup")
    }

    /// `<path>.history/`: every replaced version, as `<serial>.tfstate`.
    pub fn history_dir(&self) -> PathBuf {
        suffixed(&self.path, ".history")
    }
}

/// True when the lock holder is known to be gone: it ran on this host (the host part of
/// `who`) and its pid no longer exists (`kill(pid, 0)` fails with ESRCH). False whenever
/// that cannot be established (another host, pid 0, our own pid, permission errors), so a
/// `true` is safe to show as "this lock looks stale".
pub fn holder_is_dead(info: &LockInfo) -> bool {
    let host = match info.who.rsplit_once('@') {
        Some((_, h)) => h,
        None => return false,
    };
    if host != hostname() || info.pid == 0 || info.pid == std::process::id() {
        return false;
    }
    let pid = match libc::pid_t::try_from(info.pid) {
        Ok(p) if p > 0 => p,
        _ => return false,
    };
    // SAFETY: kill with signal 0 sends nothing; it only checks that the pid exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn io_err(context: String) -> impl FnOnce(std::io::Error) -> StateError {
    move |source| StateError::Io { context, source }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn ensure_parent(path: &Path) -> Result<(), StateError> {
    let dir = parent_dir(path);
    fs::create_dir_all(&dir).map_err(io_err(format!("creating directory {}", dir.display())))
}

fn fsync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(format!("syncing directory {}", dir.display())))
}

/// Reads a file as text; `Ok(None)` when it does not exist.
fn read_text(path: &Path) -> Result<Option<String>, StateError> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|e| StateError::Corrupt {
                path: path.display().to_string(),
                reason: format!("not UTF-8 text: {e}"),
            }),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::Io {
            context: format!("reading {}", path.display()),
            source: e,
        }),
    }
}

/// Reads and parses (decrypting if need be) a state file; `None` when it is missing or
/// empty.
fn read_state_file(path: &Path, codec: &StateCodec) -> Result<Option<State>, StateError> {
    match read_text(path)? {
        None => Ok(None),
        Some(t) => codec.decode(t.as_bytes(), &path.display().to_string()),
    }
}

/// Creates `path` exclusively (mode 0600), writes `bytes` and fsyncs it.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let ctx = || format!("writing {}", path.display());
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)
        .map_err(io_err(ctx()))?;
    // The umask can only clear bits, but be explicit in case the file system mapped them.
    f.set_permissions(fs::Permissions::from_mode(FILE_MODE))
        .map_err(io_err(ctx()))?;
    f.write_all(bytes).map_err(io_err(ctx()))?;
    f.sync_all().map_err(io_err(ctx()))
}

/// Atomically replaces `path` with `bytes` (temp file in the same directory, fsync,
/// rename, fsync the directory). `mtime`, when given, is set on the new file.
fn replace_file(path: &Path, bytes: &[u8], mtime: Option<SystemTime>) -> Result<(), StateError> {
    let dir = parent_dir(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        write_new_file(&tmp, bytes)?;
        if let Some(t) = mtime {
            // Best effort: the history listing falls back to the copy time.
            if let Ok(f) = OpenOptions::new().write(true).open(&tmp) {
                let _ = f.set_modified(t);
            }
        }
        fs::rename(&tmp, path).map_err(io_err(format!(
            "renaming {} to {}",
            tmp.display(),
            path.display()
        )))?;
        fsync_dir(&dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// What we can say about a lock whose file exists but cannot be read or parsed.
fn unreadable_lock(lock_path: &Path, state_path: &Path, why: String) -> LockInfo {
    let created = fs::metadata(lock_path)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_else(|_| "an unknown time".into());
    LockInfo {
        id: String::new(),
        operation: format!(
            "unknown (lock file {} is unreadable: {why})",
            lock_path.display()
        ),
        who: "unknown".into(),
        version: String::new(),
        created,
        path: state_path.display().to_string(),
        pid: 0,
    }
}

/// The holder recorded in the lock file: `Ok(None)` when there is no lock file,
/// `Ok(Some(Err(partial)))` when there is one that cannot be understood.
fn read_lock(
    lock_path: &Path,
    state_path: &Path,
) -> Result<Option<Result<LockInfo, LockInfo>>, StateError> {
    let text = match read_text(lock_path) {
        Ok(None) => return Ok(None),
        Ok(Some(t)) => t,
        Err(StateError::Corrupt { reason, .. }) => {
            return Ok(Some(Err(unreadable_lock(lock_path, state_path, reason))))
        }
        Err(e) => return Err(e),
    };
    if text.trim().is_empty() {
        // Either being written right now by the taker, or left torn by a crash.
        return Ok(Some(Err(unreadable_lock(
            lock_path,
            state_path,
            "it is empty".into(),
        ))));
    }
    match serde_json::from_str::<LockInfo>(&text) {
        Ok(info) => Ok(Some(Ok(info))),
        Err(e) => Ok(Some(Err(unreadable_lock(
            lock_path,
            state_path,
            e.to_string(),
        )))),
    }
}

fn mtime_rfc3339(path: &Path) -> String {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default()
}

impl LocalBackend {
    fn write_blocking(&self, state: &State, force: bool) -> Result<(), StateError> {
        ensure_parent(&self.path)?;
        let new_bytes = self.codec.encode(state)?;
        // A checkpoint over our own last write of this run: same lineage, a higher serial,
        // nothing more to keep.
        let mut run = self.run.lock().unwrap_or_else(|e| e.into_inner());
        if let (false, true, Some((lineage, serial, len, mtime))) = (force, run.kept, &run.last) {
            let unchanged = fs::metadata(&self.path).ok().is_some_and(|m| m.len() == *len && m.modified().ok() == Some(*mtime));
            if unchanged && *lineage == state.lineage && state.serial > *serial {
                replace_file(&self.path, &new_bytes, None)?;
                run.last = own_write(&self.path, state);
                return Ok(());
            }
        }
        let r = self.write_checked(state, force, &new_bytes);
        if r.is_ok() {
            run.kept = true;
            run.last = own_write(&self.path, state);
        }
        r
    }

    fn write_checked(&self, state: &State, force: bool, new_bytes: &[u8]) -> Result<(), StateError> {
        let new_text = statefile::to_json(state);
        let old_text = read_text(&self.path)?.filter(|t| !t.trim().is_empty());
        if let (Some(old_text), true) = (&old_text, force) {
            // `state push -force`: whatever is there is kept as history, readable or not.
            let serial = self
                .codec
                .decode(old_text.as_bytes(), &self.path.display().to_string())
                .ok()
                .flatten()
                .map_or(0, |s| s.serial);
            let old_mtime = fs::metadata(&self.path).and_then(|m| m.modified()).ok();
            self.keep_version(old_text.as_bytes(), serial, old_mtime)?;
        } else if let Some(old_text) = &old_text {
            let Some(stored) = self
                .codec
                .decode(old_text.as_bytes(), &self.path.display().to_string())?
            else {
                return replace_file(&self.path, new_bytes, None);
            };
            if stored.lineage != state.lineage {
                return Err(StateError::LineageMismatch {
                    stored: stored.lineage,
                    given: state.lineage.clone(),
                });
            }
            if state.serial < stored.serial {
                return Err(StateError::SerialConflict {
                    stored: stored.serial,
                    given: state.serial,
                });
            }
            if state.serial == stored.serial {
                if statefile::to_json(&stored) == new_text {
                    return Ok(()); // identical: nothing to do
                }
                return Err(StateError::SerialConflict {
                    stored: stored.serial,
                    given: state.serial,
                });
            }
            let old_mtime = fs::metadata(&self.path).and_then(|m| m.modified()).ok();
            self.keep_version(old_text.as_bytes(), stored.serial, old_mtime)?;
        }
        replace_file(&self.path, new_bytes, None)
    }

    /// Keeps the version about to be replaced as `<path>.backup` and in the history.
    fn keep_version(
        &self,
        bytes: &[u8],
        serial: u64,
        mtime: Option<SystemTime>,
    ) -> Result<(), StateError> {
        replace_file(&self.backup_path(), bytes, mtime)?;
        let dir = self.history_dir();
        if !dir.is_dir() {
            // Owner-only, like the files in it; the parent entry is made durable too.
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => fsync_dir(&parent_dir(&dir))?,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(StateError::Io {
                        context: format!("creating directory {}", dir.display()),
                        source: e,
                    })
                }
            }
        }
        // `<serial>.tfstate`; should that name be taken by different content (a state that
        // was deleted and started over with a new lineage), `<serial>.<n>.tfstate`.
        for n in 0u32.. {
            let name = if n == 0 {
                format!("{serial}.tfstate")
            } else {
                format!("{serial}.{n}.tfstate")
            };
            let target = dir.join(name);
            match fs::read(&target) {
                Ok(existing) if existing == bytes => return Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return replace_file(&target, bytes, mtime);
                }
                Err(e) => {
                    return Err(StateError::Io {
                        context: format!("reading {}", target.display()),
                        source: e,
                    })
                }
            }
        }
        Err(StateError::Other(format!(
            "no free history file name for serial {serial} in {}",
            dir.display()
        )))
    }

    fn history_blocking(&self) -> Result<Vec<HistoryEntry>, StateError> {
        let dir = self.history_dir();
        let rd = match fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(StateError::Io {
                    context: format!("listing {}", dir.display()),
                    source: e,
                })
            }
        };
        let mut entries: Vec<(HistoryEntry, Option<SystemTime>)> = Vec::new();
        for ent in rd {
            let ent = ent.map_err(io_err(format!("listing {}", dir.display())))?;
            let name = ent.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(".tfstate") else {
                continue;
            };
            if name.starts_with('.') {
                continue; // a temp file being written
            }
            let Ok(name_serial) = stem.split('.').next().unwrap_or("").parse::<u64>() else {
                continue;
            };
            let path = ent.path();
            // An unreadable version is still listed (from its name) so that it is not
            // silently hidden; `read_version` then reports what is wrong with it.
            let (serial, lineage) = match read_state_file(&path, &self.codec) {
                Ok(Some(st)) => (st.serial, st.lineage),
                _ => (name_serial, String::new()),
            };
            let mtime = fs::metadata(&path).and_then(|m| m.modified()).ok();
            entries.push((
                HistoryEntry {
                    serial,
                    lineage,
                    written: mtime_rfc3339(&path),
                    reference: path.display().to_string(),
                },
                mtime,
            ));
        }
        entries.sort_by(|(a, at), (b, bt)| {
            b.serial
                .cmp(&a.serial)
                .then(bt.cmp(at))
                .then(b.reference.cmp(&a.reference))
        });
        Ok(entries.into_iter().map(|(e, _)| e).collect())
    }

    fn read_version_blocking(&self, entry: &HistoryEntry) -> Result<State, StateError> {
        let path = PathBuf::from(&entry.reference);
        if path.parent() != Some(self.history_dir().as_path()) {
            return Err(StateError::Other(format!(
                "{} is not a history file of {}",
                entry.reference,
                self.path.display()
            )));
        }
        read_state_file(&path, &self.codec)?.ok_or_else(|| {
            StateError::Other(format!("history file {} no longer exists", path.display()))
        })
    }

    fn lock_blocking(&self, info: &LockInfo) -> Result<(), StateError> {
        ensure_parent(&self.path)?;
        let lock_path = self.lock_path();
        let mut info = info.clone();
        info.path = self.path.display().to_string();
        let text = serde_json::to_string_pretty(&info)
            .map_err(|e| StateError::Other(format!("encoding lock info: {e}")))?;
        let opened = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(FILE_MODE)
            .open(&lock_path);
        let mut f = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                let holder = match read_lock(&lock_path, &self.path)? {
                    Some(Ok(h)) | Some(Err(h)) => h,
                    // Released between our attempt and the read: report it as locked all
                    // the same, the caller retries.
                    None => unreadable_lock(
                        &lock_path,
                        &self.path,
                        "it was released while being read".into(),
                    ),
                };
                return Err(StateError::Locked(Box::new(holder)));
            }
            Err(e) => {
                return Err(StateError::Io {
                    context: format!("creating lock file {}", lock_path.display()),
                    source: e,
                })
            }
        };
        let written = f
            .write_all(text.as_bytes())
            .and_then(|_| f.write_all(b"\n"))
            .and_then(|_| f.sync_all())
            .map_err(io_err(format!("writing lock file {}", lock_path.display())));
        if let Err(e) = written {
            let _ = fs::remove_file(&lock_path);
            return Err(e);
        }
        fsync_dir(&parent_dir(&lock_path))
    }

    fn unlock_blocking(&self, id: &str) -> Result<(), StateError> {
        let lock_path = self.lock_path();
        match read_lock(&lock_path, &self.path)? {
            None => Err(StateError::NotLocked),
            Some(Err(partial)) => Err(StateError::Corrupt {
                path: lock_path.display().to_string(),
                reason: format!(
                    "the lock file cannot be read ({}), so lock ID {id:?} cannot be checked against it; \
                     if no terrane process is using this state, delete the file by hand",
                    partial.operation
                ),
            }),
            Some(Ok(held)) if held.id != id => Err(StateError::LockIdMismatch { given: id.to_string(), held: held.id }),
            Some(Ok(_)) => match fs::remove_file(&lock_path) {
                Ok(()) => fsync_dir(&parent_dir(&lock_path)),
                Err(e) if e.kind() == ErrorKind::NotFound => Err(StateError::NotLocked),
                Err(e) => Err(StateError::Io { context: format!("removing lock file {}", lock_path.display()), source: e }),
            },
        }
    }
}

/// Runs blocking file work off the async executor.
async fn blocking<T, F>(f: F) -> Result<T, StateError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, StateError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StateError::Other(format!("state file task failed: {e}")))?
}

#[async_trait::async_trait]
impl Backend for LocalBackend {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    async fn read(&self) -> Result<Option<State>, StateError> {
        let (path, codec) = (self.path.clone(), self.codec.clone());
        blocking(move || read_state_file(&path, &codec)).await
    }

    async fn write(&self, state: &State) -> Result<(), StateError> {
        let (me, state) = (self.clone(), state.clone());
        blocking(move || me.write_blocking(&state, false)).await
    }

    async fn overwrite(&self, state: &State) -> Result<(), StateError> {
        let (me, state) = (self.clone(), state.clone());
        blocking(move || me.write_blocking(&state, true)).await
    }

    async fn lock(&self, info: &LockInfo) -> Result<(), StateError> {
        let (me, info) = (self.clone(), info.clone());
        blocking(move || me.lock_blocking(&info)).await
    }

    async fn unlock(&self, id: &str) -> Result<(), StateError> {
        let (me, id) = (self.clone(), id.to_string());
        blocking(move || me.unlock_blocking(&id)).await
    }

    async fn lock_info(&self) -> Result<Option<LockInfo>, StateError> {
        let (lock_path, path) = (self.lock_path(), self.path.clone());
        blocking(move || {
            Ok(read_lock(&lock_path, &path)?.map(|r| r.unwrap_or_else(|partial| partial)))
        })
        .await
    }

    async fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        let me = self.clone();
        blocking(move || me.history_blocking()).await
    }

    async fn read_version(&self, entry: &HistoryEntry) -> Result<State, StateError> {
        let (me, entry) = (self.clone(), entry.clone());
        blocking(move || me.read_version_blocking(&entry)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sibling_paths() {
        let b = LocalBackend::new(PathBuf::from("state/terraform.tfstate"));
        assert_eq!(
            b.lock_path(),
            PathBuf::from("state/terraform.tfstate.lock.info")
        );
        assert_eq!(
            b.backup_path(),
            PathBuf::from("state/terraform.tfstate.backup")
        );
        assert_eq!(
            b.history_dir(),
            PathBuf::from("state/terraform.tfstate.history")
        );
        assert_eq!(parent_dir(Path::new("x.tfstate")), PathBuf::from("."));
    }

    #[test]
    fn holder_is_dead_is_conservative() {
        let mut info = LockInfo::new("apply");
        assert!(!holder_is_dead(&info), "our own pid is alive");
        info.pid = 0;
        assert!(!holder_is_dead(&info));
        info.pid = u32::MAX;
        assert!(!holder_is_dead(&info), "pid out of range");
        info.pid = 1;
        info.who = "someone@another-host-that-is-not-this-one".into();
        assert!(!holder_is_dead(&info), "another host");
        info.who = "no-at-sign".into();
        assert!(!holder_is_dead(&info));
    }
}

/// What identifies our own write of `state` to `path` (see `RunWrites::last`).
fn own_write(path: &Path, state: &State) -> Option<(String, u64, u64, SystemTime)> {
    let m = fs::metadata(path).ok()?;
    Some((state.lineage.clone(), state.serial, m.len(), m.modified().ok()?))
}
