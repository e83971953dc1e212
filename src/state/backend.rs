//! The storage contract every state backend implements (local file, S3), with locking.
//!
//! A backend stores and returns `State` values and serialises access with a lock. It
//! never interprets the state beyond lineage and serial.

use crate::state::State;

/// Who holds a lock, for the message a second writer sees.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockInfo {
    #[serde(rename = "ID")]
    pub id: String,
    /// The operation: "plan", "apply", "destroy", "state rm", ...
    #[serde(rename = "Operation")]
    pub operation: String,
    /// user@host
    #[serde(rename = "Who")]
    pub who: String,
    #[serde(rename = "Version")]
    pub version: String,
    /// RFC 3339
    #[serde(rename = "Created")]
    pub created: String,
    /// What is locked (file path, bucket/key).
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "Pid", default)]
    pub pid: u32,
}

impl LockInfo {
    /// A new lock request for `operation` by this process.
    pub fn new(operation: &str) -> LockInfo {
        let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
        let host = hostname();
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: format!("{user}@{host}"),
            version: env!("CARGO_PKG_VERSION").to_string(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            path: String::new(),
            pid: std::process::id(),
        }
    }
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into())
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state is locked by {} (lock ID {}, operation {:?}, since {})", .0.who, .0.id, .0.operation, .0.created)]
    Locked(Box<LockInfo>),
    #[error("lock ID {given:?} does not match the lock held ({held:?})")]
    LockIdMismatch { given: String, held: String },
    #[error("the state is not locked")]
    NotLocked,
    #[error("the stored state has lineage {stored}, this one {given}: they are different states")]
    LineageMismatch { stored: String, given: String },
    #[error("the stored state has serial {stored}, newer than this one's {given}")]
    SerialConflict { stored: u64, given: u64 },
    #[error("the state file {path} is not valid: {reason}")]
    Corrupt { path: String, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

/// One stored earlier version of the state.
#[derive(Clone, Debug)]
pub struct HistoryEntry {
    pub serial: u64,
    pub lineage: String,
    /// RFC 3339 time of the write.
    pub written: String,
    /// Opaque reference the backend uses to fetch this version.
    pub reference: String,
}

/// Where state lives. Implementations: `local::LocalBackend`, `s3::S3Backend`.
#[async_trait::async_trait]
pub trait Backend: Send + Sync {
    /// A description for messages ("state/terraform.tfstate", "s3://bucket/key").
    fn describe(&self) -> String;

    /// The stored state, or `None` when there is none yet.
    async fn read(&self) -> Result<Option<State>, StateError>;

    /// Stores `state` durably and atomically. Refuses a lineage that differs from the
    /// stored one, and a serial lower than the stored one. Keeps the previous version.
    async fn write(&self, state: &State) -> Result<(), StateError>;

    /// Replaces whatever is stored with `state`, without the lineage and serial checks
    /// (`state push -force`). The replaced version is kept like any other.
    async fn overwrite(&self, state: &State) -> Result<(), StateError>;

    /// Takes the lock, or fails at once with `StateError::Locked` naming the holder.
    async fn lock(&self, info: &LockInfo) -> Result<(), StateError>;

    /// Releases the lock with this ID; a different ID is refused.
    async fn unlock(&self, id: &str) -> Result<(), StateError>;

    /// The current lock holder, if any.
    async fn lock_info(&self) -> Result<Option<LockInfo>, StateError>;

    /// Earlier versions, newest first.
    async fn history(&self) -> Result<Vec<HistoryEntry>, StateError> {
        Ok(Vec::new())
    }

    /// Reads one earlier version.
    async fn read_version(&self, entry: &HistoryEntry) -> Result<State, StateError> {
        Err(StateError::Other(format!(
            "{} keeps no history (asked for serial {})",
            self.describe(),
            entry.serial
        )))
    }
}
