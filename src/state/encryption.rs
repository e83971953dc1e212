//! Encryption at rest of state and saved plan files, and the codec every backend uses to
//! turn a `State` into stored bytes and back.
//!
//! Owns the key derivation (Argon2id, a memory-hard KDF, from a passphrase and a random
//! salt), the cipher (XChaCha20-Poly1305, an AEAD with 192-bit random nonces), the
//! envelope format of an encrypted file, and the rules for reading with several keys
//! (the primary method, then the fallbacks: key rotation reads with the old key and
//! writes with the new). It must not read configuration: the CLI turns the `terraform {
//! encryption { ... } }` block into an `EncryptionTarget` and hands it over.
//!
//! The envelope is one JSON object:
//! `{"terrane_encryption": 1, "method": "method.xchacha20_poly1305.new", "key_provider":
//! "key_provider.argon2.main", "kdf": {"algorithm": "argon2id", "salt", "m_cost",
//! "t_cost", "p_cost"}, "nonce": base64, "ciphertext": base64}`. The associated data binds
//! the ciphertext to its purpose ("state" or "plan") and to the envelope's method, key
//! provider and KDF parameters, so one cannot be passed off as another. Nothing else is in
//! clear: not the lineage, not the serial, not the addresses.
//!
//! Secrets: passphrases and derived keys live only in `Secret` values whose `Debug` prints
//! "(redacted)"; no error message contains them. A wrong key is an AEAD failure, reported
//! as "cannot be decrypted with the configured keys", which names the methods tried.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use rand::RngCore;
use serde_json::{json, Value as J};

use crate::state::backend::StateError;
use crate::state::{statefile, State};

/// Marker field (and version) of the envelope.
const ENVELOPE_FIELD: &str = "terrane_encryption";
const ENVELOPE_VERSION: u64 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
/// The shortest passphrase accepted (OpenTofu's pbkdf2 key provider asks for 16 too).
pub const MIN_PASSPHRASE_LEN: usize = 16;

/// A string that must never be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

/// Argon2id parameters. The defaults are the OWASP-recommended minimum (19 MiB, 2 passes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KdfParams {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            m_cost_kib: 19 * 1024,
            t_cost: 2,
            p_cost: 1,
        }
    }
}

/// A `key_provider "argon2" "NAME"` block.
#[derive(Clone, Debug)]
pub struct KeyProvider {
    /// `key_provider.argon2.NAME`
    pub address: String,
    pub passphrase: Secret,
    pub params: KdfParams,
}

/// A `method "TYPE" "NAME"` block.
#[derive(Clone, Debug)]
pub enum Method {
    /// `method "xchacha20_poly1305" "NAME" { keys = key_provider.argon2.X }`
    XChaCha20Poly1305 {
        address: String,
        keys: Arc<KeyProvider>,
    },
    /// `method "unencrypted" "NAME"`: plain files, only for migrating into or out of
    /// encryption.
    Unencrypted { address: String },
}

impl Method {
    pub fn address(&self) -> &str {
        match self {
            Method::XChaCha20Poly1305 { address, .. } | Method::Unencrypted { address } => address,
        }
    }
}

/// The `state { ... }` or `plan { ... }` block: what to write with, what to read with.
#[derive(Clone, Debug)]
pub struct EncryptionTarget {
    pub method: Method,
    pub fallbacks: Vec<Method>,
    /// Refuse to write unencrypted files even with an `unencrypted` method.
    pub enforced: bool,
}

/// What is being encrypted; part of the associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    State,
    Plan,
}

impl Purpose {
    fn label(self) -> &'static str {
        match self {
            Purpose::State => "state",
            Purpose::Plan => "plan",
        }
    }
}

/// Encrypts and decrypts files of one purpose with one target. Derived keys are cached
/// per (key provider, salt) so that a run pays for Argon2 once per key, not per write.
pub struct Crypt {
    target: EncryptionTarget,
    purpose: Purpose,
    write_salt: [u8; SALT_LEN],
    keys: Mutex<HashMap<(String, Vec<u8>, KdfParams), [u8; 32]>>,
}

impl fmt::Debug for Crypt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crypt")
            .field("method", &self.target.method.address())
            .field("purpose", &self.purpose)
            .finish()
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

impl Crypt {
    pub fn new(target: EncryptionTarget, purpose: Purpose) -> Crypt {
        let mut write_salt = [0u8; SALT_LEN];
        rand::thread_rng().fill_bytes(&mut write_salt);
        Crypt {
            target,
            purpose,
            write_salt,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn derive(&self, kp: &KeyProvider, salt: &[u8], params: KdfParams) -> Result<[u8; 32], String> {
        let cache_key = (kp.address.clone(), salt.to_vec(), params);
        if let Ok(cache) = self.keys.lock() {
            if let Some(k) = cache.get(&cache_key) {
                return Ok(*k);
            }
        }
        let p = argon2::Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
            .map_err(|e| format!("invalid Argon2 parameters for {}: {e}", kp.address))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
        let mut out = [0u8; 32];
        argon
            .hash_password_into(kp.passphrase.expose(), salt, &mut out)
            .map_err(|e| format!("deriving the key of {} failed: {e}", kp.address))?;
        if let Ok(mut cache) = self.keys.lock() {
            cache.insert(cache_key, out);
        }
        Ok(out)
    }

    fn aad(&self, method: &str, key_provider: &str, params: KdfParams, salt: &str) -> Vec<u8> {
        format!(
            "terrane-{}|v{ENVELOPE_VERSION}|{method}|{key_provider}|argon2id:{}:{}:{}|{salt}",
            self.purpose.label(),
            params.m_cost_kib,
            params.t_cost,
            params.p_cost
        )
        .into_bytes()
    }

    /// Encrypts `plain` with the primary method (or returns it unchanged when that method
    /// is `unencrypted` and the target is not enforced).
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, String> {
        let (address, kp) = match &self.target.method {
            Method::Unencrypted { address } => {
                if self.target.enforced {
                    return Err(format!(
                        "the {} encryption is enforced, so the unencrypted method {address} cannot be used to write",
                        self.purpose.label()
                    ));
                }
                return Ok(plain.to_vec());
            }
            Method::XChaCha20Poly1305 { address, keys } => (address, keys),
        };
        let params = kp.params;
        let key = self.derive(kp, &self.write_salt, params)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&key)
            .map_err(|_| "invalid key length".to_string())?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let salt_b64 = b64().encode(self.write_salt);
        let aad = self.aad(address, &kp.address, params, &salt_b64);
        let nonce_arr = chacha20poly1305::XNonce::try_from(&nonce[..])
            .map_err(|_| "invalid nonce length".to_string())?;
        let ct = cipher
            .encrypt(
                &nonce_arr,
                Payload {
                    msg: plain,
                    aad: &aad,
                },
            )
            .map_err(|_| "encryption failed".to_string())?;
        let doc = json!({
            ENVELOPE_FIELD: ENVELOPE_VERSION,
            "purpose": self.purpose.label(),
            "method": address,
            "key_provider": kp.address,
            "kdf": {
                "algorithm": "argon2id",
                "salt": salt_b64,
                "m_cost": params.m_cost_kib,
                "t_cost": params.t_cost,
                "p_cost": params.p_cost,
            },
            "nonce": b64().encode(nonce),
            "ciphertext": b64().encode(ct),
        });
        let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?;
        out.push(b'\n');
        Ok(out)
    }

    /// Decrypts an envelope with the method it names if configured, else with every
    /// configured method in turn; returns plain bytes unchanged only when an `unencrypted`
    /// method is configured (migration into encryption).
    pub fn decrypt(&self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let Some(env) = parse_envelope(bytes) else {
            let allowed = std::iter::once(&self.target.method)
                .chain(&self.target.fallbacks)
                .any(|m| matches!(m, Method::Unencrypted { .. }));
            if allowed {
                return Ok(bytes.to_vec());
            }
            return Err(format!(
                "the {0} is not encrypted, but the configuration asks for encrypted {0}; to encrypt an existing {0}, add `fallback {{ method = method.unencrypted.NAME }}` (with a `method \"unencrypted\" \"NAME\" {{}}` block) for one run",
                self.purpose.label()
            ));
        };
        let env = env?;
        if env.purpose != self.purpose.label() {
            return Err(format!(
                "this is an encrypted {} file, not a {} file",
                env.purpose,
                self.purpose.label()
            ));
        }
        let mut candidates: Vec<&Method> = std::iter::once(&self.target.method)
            .chain(&self.target.fallbacks)
            .collect();
        // Try the method the file names first.
        candidates.sort_by_key(|m| m.address() != env.method);
        let mut tried = Vec::new();
        for m in candidates {
            let Method::XChaCha20Poly1305 { address, keys } = m else {
                continue;
            };
            tried.push(address.clone());
            let key = self.derive(keys, &env.salt, env.params)?;
            let cipher = XChaCha20Poly1305::new_from_slice(&key)
                .map_err(|_| "invalid key length".to_string())?;
            let aad = self.aad(&env.method, &env.key_provider, env.params, &env.salt_b64);
            let Ok(nonce) = chacha20poly1305::XNonce::try_from(&env.nonce[..]) else {
                return Err("the encrypted file has a nonce of the wrong length".into());
            };
            if let Ok(plain) = cipher.decrypt(
                &nonce,
                Payload {
                    msg: &env.ciphertext,
                    aad: &aad,
                },
            ) {
                return Ok(plain);
            }
        }
        if tried.is_empty() {
            return Err(format!(
                "the {} is encrypted (with {}), but no encrypting method is configured",
                self.purpose.label(),
                env.method
            ));
        }
        Err(format!(
            "the {} cannot be decrypted with the configured keys (tried {}; it was written with {}): the passphrase is wrong or the key was rotated without a fallback",
            self.purpose.label(),
            tried.join(", "),
            env.method
        ))
    }
}

struct Envelope {
    purpose: String,
    method: String,
    key_provider: String,
    params: KdfParams,
    salt: Vec<u8>,
    salt_b64: String,
    nonce: Vec<u8>,
    ciphertext: Vec<u8>,
}

/// `None` when `bytes` is not an envelope at all; `Some(Err)` when it is a broken one.
fn parse_envelope(bytes: &[u8]) -> Option<Result<Envelope, String>> {
    // Cheap test before parsing a possibly large plain file twice.
    let head = &bytes[..bytes.len().min(256)];
    if !head
        .windows(ENVELOPE_FIELD.len())
        .any(|w| w == ENVELOPE_FIELD.as_bytes())
    {
        return None;
    }
    let doc: J = serde_json::from_slice(bytes).ok()?;
    let obj = doc.as_object()?;
    let version = obj.get(ENVELOPE_FIELD)?.as_u64();
    Some((|| {
        if version != Some(ENVELOPE_VERSION) {
            return Err(format!(
                "the file is encrypted with envelope version {version:?}, which this terrane does not read"
            ));
        }
        let s = |k: &str| {
            obj.get(k)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| format!("the encrypted file has no {k:?}"))
        };
        let kdf = obj
            .get("kdf")
            .and_then(|v| v.as_object())
            .ok_or("the encrypted file has no \"kdf\"")?;
        if kdf.get("algorithm").and_then(|v| v.as_str()) != Some("argon2id") {
            return Err("the encrypted file names an unknown key derivation".into());
        }
        let n = |k: &str| {
            kdf.get(k)
                .and_then(|v| v.as_u64())
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| format!("the encrypted file has no valid kdf {k:?}"))
        };
        let dec = |k: &str| -> Result<Vec<u8>, String> {
            b64()
                .decode(s(k)?)
                .map_err(|_| format!("the encrypted file's {k:?} is not base64"))
        };
        let salt_b64 = kdf
            .get("salt")
            .and_then(|v| v.as_str())
            .ok_or("the encrypted file has no kdf salt")?
            .to_string();
        let salt = b64()
            .decode(&salt_b64)
            .map_err(|_| "the encrypted file's salt is not base64".to_string())?;
        Ok(Envelope {
            purpose: s("purpose")?,
            method: s("method")?,
            key_provider: s("key_provider")?,
            params: KdfParams {
                m_cost_kib: n("m_cost")?,
                t_cost: n("t_cost")?,
                p_cost: n("p_cost")?,
            },
            salt,
            salt_b64,
            nonce: dec("nonce")?,
            ciphertext: dec("ciphertext")?,
        })
    })())
}

/// Whether `bytes` look like an encrypted terrane file.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    parse_envelope(bytes).is_some()
}

/// State to stored bytes and back: `statefile` JSON, encrypted when configured.
#[derive(Clone, Debug, Default)]
pub struct StateCodec {
    crypt: Option<Arc<Crypt>>,
}

impl StateCodec {
    /// Plain JSON.
    pub fn plain() -> StateCodec {
        StateCodec { crypt: None }
    }

    pub fn encrypted(crypt: Arc<Crypt>) -> StateCodec {
        StateCodec { crypt: Some(crypt) }
    }

    pub fn encode(&self, state: &State) -> Result<Vec<u8>, StateError> {
        let text = statefile::to_json(state);
        match &self.crypt {
            None => Ok(text.into_bytes()),
            Some(c) => c
                .encrypt(text.as_bytes())
                .map_err(|e| StateError::Other(format!("encrypting the state: {e}"))),
        }
    }

    /// Decodes stored bytes; `Ok(None)` for an empty file. `what` names the file.
    pub fn decode(&self, bytes: &[u8], what: &str) -> Result<Option<State>, StateError> {
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(None);
        }
        let plain = match &self.crypt {
            Some(c) => c.decrypt(bytes).map_err(|reason| StateError::Corrupt {
                path: what.to_string(),
                reason,
            })?,
            None if is_encrypted(bytes) => {
                return Err(StateError::Corrupt {
                    path: what.to_string(),
                    reason: "the state is encrypted, but no `encryption` block is configured; add the `terraform { encryption { ... } }` block it was written with".into(),
                })
            }
            None => bytes.to_vec(),
        };
        let text = String::from_utf8(plain).map_err(|e| StateError::Corrupt {
            path: what.to_string(),
            reason: format!("not UTF-8 text: {e}"),
        })?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        statefile::from_json(&text, what).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kp(name: &str, pass: &str) -> Arc<KeyProvider> {
        Arc::new(KeyProvider {
            address: format!("key_provider.argon2.{name}"),
            passphrase: Secret::new(pass),
            // Small parameters keep the unit tests quick; the format records them.
            params: KdfParams {
                m_cost_kib: 64,
                t_cost: 1,
                p_cost: 1,
            },
        })
    }

    fn method(name: &str, keys: Arc<KeyProvider>) -> Method {
        Method::XChaCha20Poly1305 {
            address: format!("method.xchacha20_poly1305.{name}"),
            keys,
        }
    }

    fn target(m: Method, fallbacks: Vec<Method>) -> EncryptionTarget {
        EncryptionTarget {
            method: m,
            fallbacks,
            enforced: false,
        }
    }

    #[test]
    fn round_trip_and_nothing_in_clear() {
        let c = Crypt::new(
            target(
                method("a", kp("one", "correct horse battery staple")),
                vec![],
            ),
            Purpose::State,
        );
        let plain = br#"{"lineage": "lin-123", "secret": "hunter2"}"#;
        let enc = c.encrypt(plain).unwrap();
        let text = String::from_utf8_lossy(&enc);
        assert!(
            !text.contains("hunter2") && !text.contains("lin-123"),
            "{text}"
        );
        assert!(!text.contains("correct horse"), "{text}");
        assert!(is_encrypted(&enc));
        assert_eq!(c.decrypt(&enc).unwrap(), plain);
        // A fresh Crypt (another process) with the same passphrase reads it.
        let c2 = Crypt::new(
            target(
                method("a", kp("one", "correct horse battery staple")),
                vec![],
            ),
            Purpose::State,
        );
        assert_eq!(c2.decrypt(&enc).unwrap(), plain);
    }

    #[test]
    fn wrong_key_fails_without_the_passphrase_in_the_message() {
        let c = Crypt::new(
            target(method("a", kp("one", "the right passphrase!")), vec![]),
            Purpose::State,
        );
        let enc = c.encrypt(b"{}").unwrap();
        let wrong = Crypt::new(
            target(method("a", kp("one", "the wrong passphrase!")), vec![]),
            Purpose::State,
        );
        let err = wrong.decrypt(&enc).unwrap_err();
        assert!(err.contains("cannot be decrypted"), "{err}");
        assert!(!err.contains("passphrase!"), "{err}");
    }

    #[test]
    fn rotation_reads_with_the_fallback_and_writes_with_the_new_key() {
        let old = Crypt::new(
            target(method("old", kp("old", "old passphrase 123")), vec![]),
            Purpose::State,
        );
        let enc_old = old.encrypt(b"{\"v\":1}").unwrap();
        let rotated = Crypt::new(
            target(
                method("new", kp("new", "new passphrase 456")),
                vec![method("old", kp("old", "old passphrase 123"))],
            ),
            Purpose::State,
        );
        assert_eq!(rotated.decrypt(&enc_old).unwrap(), b"{\"v\":1}");
        let enc_new = rotated.encrypt(b"{\"v\":2}").unwrap();
        assert!(String::from_utf8_lossy(&enc_new).contains("method.xchacha20_poly1305.new"));
        assert!(
            old.decrypt(&enc_new).is_err(),
            "the old key alone cannot read the new file"
        );
        let only_new = Crypt::new(
            target(method("new", kp("new", "new passphrase 456")), vec![]),
            Purpose::State,
        );
        assert_eq!(only_new.decrypt(&enc_new).unwrap(), b"{\"v\":2}");
    }

    #[test]
    fn plan_cannot_pass_as_state_and_tampering_is_caught() {
        let k = kp("k", "a passphrase for both");
        let st = Crypt::new(target(method("m", k.clone()), vec![]), Purpose::State);
        let pl = Crypt::new(target(method("m", k), vec![]), Purpose::Plan);
        let enc = pl.encrypt(b"plan").unwrap();
        assert!(st.decrypt(&enc).is_err());
        let mut doc: J = serde_json::from_slice(&enc).unwrap();
        doc["purpose"] = J::String("state".into());
        let forged = serde_json::to_vec(&doc).unwrap();
        assert!(st
            .decrypt(&forged)
            .unwrap_err()
            .contains("cannot be decrypted"));
    }

    #[test]
    fn plain_files_need_an_unencrypted_method() {
        let c = Crypt::new(
            target(method("m", kp("k", "sixteen chars at least")), vec![]),
            Purpose::State,
        );
        assert!(c
            .decrypt(b"{\"version\": 4}")
            .unwrap_err()
            .contains("not encrypted"));
        let migrating = Crypt::new(
            target(
                method("m", kp("k", "sixteen chars at least")),
                vec![Method::Unencrypted {
                    address: "method.unencrypted.migrate".into(),
                }],
            ),
            Purpose::State,
        );
        assert_eq!(
            migrating.decrypt(b"{\"version\": 4}").unwrap(),
            b"{\"version\": 4}"
        );
        let codec = StateCodec::plain();
        let enc = c.encrypt(b"{}").unwrap();
        match codec.decode(&enc, "x") {
            Err(StateError::Corrupt { reason, .. }) => {
                assert!(reason.contains("encrypted"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let k = kp("k", "do not print this passphrase");
        assert!(!format!("{k:?}").contains("do not print"));
        let c = Crypt::new(target(method("m", k), vec![]), Purpose::State);
        assert!(!format!("{c:?}").contains("do not print"));
    }
}
