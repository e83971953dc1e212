//! Compiled-in providers that need no cloud: "terraform" (`terraform_data`), "random"
//! (`random_id`, `random_string`, `random_password`, `random_integer`, `random_pet`,
//! `random_uuid`, `random_shuffle`), "local" (`local_file`, `local_sensitive_file`
//! and the data sources of the same names) and "ssh" (`ssh_file`, `ssh_exec`, data
//! source `ssh_host`).
//!
//! This module owns their registration (`register`); the helpers they share with every
//! other provider live in `providers::sdk`.

pub mod local;
pub mod random;
pub mod ssh;
pub mod terraform;

use super::Registry;

/// Registers "terraform", "random", "local" and "ssh".
pub fn register(r: &mut Registry) {
    r.register("terraform", terraform::new_provider);
    r.register("random", random::new_provider);
    r.register("local", local::new_provider);
    r.register("ssh", ssh::new_provider);
}

