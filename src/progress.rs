//! Progress output of work that runs on other machines: provisioner and `ssh_exec`
//! command output, and "waiting for SSH" messages, each line prefixed with the resource
//! instance address (`aws_instance.web (remote-exec): ...`).
//!
//! The engine and providers never print (see `engine`, `providers`); they hand lines to
//! the sink installed here. The CLI installs a sink that writes to stdout for human
//! output and none in machine-readable (`-json`) mode, so command output never reaches
//! the terminal there. Without a sink, lines are dropped.
//!
//! The sink is process-wide because providers are made by argument-less factories and
//! speak to the engine only through requests; one process runs one operation at a time.

use std::sync::{Arc, RwLock};

/// Receives one line of progress: the address it belongs to and the text.
pub type Sink = Arc<dyn Fn(&str, &str) + Send + Sync>;

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

/// Installs (or with `None`, removes) the process's progress sink.
pub fn set_sink(sink: Option<Sink>) {
    if let Ok(mut s) = SINK.write() {
        *s = sink;
    }
}

/// Emits one line for `addr` (a resource instance address, with a suffix such as
/// ` (remote-exec)` when the line comes from a provisioner).
pub fn line(addr: &str, text: &str) {
    let sink = SINK.read().ok().and_then(|s| s.clone());
    if let Some(f) = sink {
        f(addr, text.trim_end_matches(['\r', '\n']));
    }
}

/// A sink printing `addr: text` lines to stdout (the CLI's human output).
pub fn stdout_sink() -> Sink {
    Arc::new(|addr: &str, text: &str| {
        use std::io::Write;
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{addr}: {text}");
        let _ = o.flush();
    })
}
