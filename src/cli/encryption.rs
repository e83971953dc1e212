//! The `terraform { encryption { ... } }` block, resolved into the keys and methods that
//! `state::encryption` uses for state and saved plan files. Written the way OpenTofu
//! configures it:
//!
//! ```hcl
//! terraform {
//!   encryption {
//!     key_provider "argon2" "main" { passphrase = var.state_passphrase }
//!     method "xchacha20_poly1305" "new" { keys = key_provider.argon2.main }
//!     method "unencrypted" "migrate" {}
//!     state {
//!       method = method.xchacha20_poly1305.new
//!       fallback { method = method.unencrypted.migrate }   # or the old key, to rotate
//!     }
//!     plan { method = method.xchacha20_poly1305.new }
//!   }
//! }
//! ```
//!
//! Differences from OpenTofu, by choice: the key provider is `argon2` (a memory-hard KDF;
//! OpenTofu's `pbkdf2` is not memory-hard) with optional `memory_kib`, `iterations` and
//! `parallelism`; the method is `xchacha20_poly1305` (OpenTofu's `aes_gcm` is refused with
//! a hint). `passphrase` may refer to a root variable (`var.NAME`): its value comes from
//! `TF_VAR_NAME` or the variable's default, as OpenTofu evaluates it statically. The
//! passphrase never appears in a diagnostic.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{BlockCfg, Config, Expr};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::lang::eval::{eval, RefRoot, Scope};
use crate::lang::funcs::FuncCtx;
use crate::lang::value::Value;
use crate::state::encryption::{
    Crypt, EncryptionTarget, KdfParams, KeyProvider, Method, Purpose, Secret, StateCodec,
    MIN_PASSPHRASE_LEN,
};

use super::{CliError, Ctx};

/// The resolved encryption of a working directory: `None` parts are unencrypted.
#[derive(Clone, Debug, Default)]
pub struct Encryption {
    pub state: Option<Arc<Crypt>>,
    pub plan: Option<Arc<Crypt>>,
}

impl Encryption {
    pub fn state_codec(&self) -> StateCodec {
        match &self.state {
            Some(c) => StateCodec::encrypted(c.clone()),
            None => StateCodec::plain(),
        }
    }
}

/// A scope where only `var.NAME` resolves, to `TF_VAR_NAME` or the variable's default.
struct VarScope<'a> {
    ctx: &'a Ctx,
    config: &'a Config,
}

impl Scope for VarScope<'_> {
    fn resolve(&self, root: &RefRoot, span: &Span) -> Result<Value, Diagnostic> {
        let RefRoot::Var(name) = root else {
            return Err(Diagnostic::error(
                "Invalid reference in the encryption configuration",
                format!("Only root variables (var.NAME) can be used here, not `{root}`."),
            )
            .with_span(span.clone()));
        };
        let env_name = format!("TF_VAR_{name}");
        if let Some((_, v)) = self.ctx.env.iter().find(|(k, _)| *k == env_name) {
            return Ok(Value::string(v.clone()));
        }
        let Some(var) = self.config.module.variables.get(name) else {
            return Err(Diagnostic::error(
                "Reference to undeclared input variable",
                format!("An input variable with the name \"{name}\" has not been declared."),
            )
            .with_span(span.clone()));
        };
        match &var.default {
            Some(d) => crate::engine::vars::eval_const(d, &self.ctx.cwd),
            None => Err(Diagnostic::error(
                "No value for the encryption passphrase variable",
                format!("The encryption configuration uses var.{name}, which has no default; the encryption keys are needed before any other variable is read."),
            )
            .with_span(span.clone())
            .with_help(format!("Set it in the environment: export {env_name}=..."))),
        }
    }
    fn func_ctx(&self) -> FuncCtx<'_> {
        FuncCtx {
            cwd: &self.ctx.cwd,
            impure_unknown: false,
        }
    }
}

/// `key_provider.argon2.main` → ("key_provider", "argon2", "main").
fn reference_text(e: &Expr) -> Option<(String, String, String)> {
    let span = e.span();
    let text = e.file.text.get(span.start..span.end)?.trim();
    let mut parts = text.split('.');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    (ok(a) && ok(b) && ok(c)).then(|| (a.to_string(), b.to_string(), c.to_string()))
}

fn unexpected(
    b: &BlockCfg,
    allowed_attrs: &[&str],
    allowed_blocks: &[&str],
    diags: &mut Diagnostics,
) {
    for a in &b.body.attrs {
        if !allowed_attrs.contains(&a.name.as_str()) {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named \"{}\" is not expected in a {} block.",
                        a.name, b.ident
                    ),
                )
                .with_span(a.name_span.clone())
                .with_help(if allowed_attrs.is_empty() {
                    "This block takes no arguments.".to_string()
                } else {
                    format!("Expected one of: {}.", allowed_attrs.join(", "))
                }),
            );
        }
    }
    for nb in &b.body.blocks {
        if !allowed_blocks.contains(&nb.ident.as_str()) {
            diags.push(
                Diagnostic::error(
                    "Unsupported block type",
                    format!(
                        "Blocks of type \"{}\" are not expected in a {} block.",
                        nb.ident, b.ident
                    ),
                )
                .with_span(nb.ident_span.clone()),
            );
        }
    }
}

fn u32_attr(b: &BlockCfg, name: &str, ctx: &Ctx, default: u32, diags: &mut Diagnostics) -> u32 {
    let Some(a) = b.body.attr(name) else {
        return default;
    };
    match crate::engine::vars::eval_const(&a.expr, &ctx.cwd) {
        Ok(v) => match v
            .as_number()
            .and_then(|n| n.as_i64())
            .and_then(|n| u32::try_from(n).ok())
        {
            Some(n) if n > 0 => n,
            _ => {
                diags.push(
                    Diagnostic::error(
                        "Invalid value",
                        format!("`{name}` must be a positive whole number."),
                    )
                    .with_span(a.expr.span()),
                );
                default
            }
        },
        Err(d) => {
            diags.push(d);
            default
        }
    }
}

/// Resolves the root module's `encryption` block; no block, no encryption.
pub fn resolve(ctx: &Ctx, config: &Config) -> Result<Encryption, CliError> {
    let Some(block) = &config.module.terraform.encryption else {
        return Ok(Encryption::default());
    };
    let mut diags = Diagnostics::new();
    unexpected(
        block,
        &[],
        &[
            "key_provider",
            "method",
            "state",
            "plan",
            "remote_state_data_sources",
        ],
        &mut diags,
    );

    let mut providers: BTreeMap<String, Arc<KeyProvider>> = BTreeMap::new();
    for kp in block.body.blocks_of("key_provider") {
        let [kind, name] = kp.labels.as_slice() else {
            diags.push(Diagnostic::error("Invalid key_provider block", "A key_provider block needs two labels: the type and a name, as in key_provider \"argon2\" \"main\".").with_span(kp.ident_span.clone()));
            continue;
        };
        if kind != "argon2" {
            diags.push(
                Diagnostic::error("Unsupported key provider", format!("terrane has no key provider \"{kind}\"."))
                    .with_span(kp.span.clone())
                    .with_help("Use key_provider \"argon2\" \"NAME\" { passphrase = ... }: a passphrase-derived key with the memory-hard Argon2id."),
            );
            continue;
        }
        unexpected(
            kp,
            &["passphrase", "memory_kib", "iterations", "parallelism"],
            &[],
            &mut diags,
        );
        let Some(pa) = kp.body.attr("passphrase") else {
            diags.push(
                Diagnostic::error(
                    "Missing passphrase",
                    "The argon2 key provider needs a `passphrase`.",
                )
                .with_span(kp.span.clone()),
            );
            continue;
        };
        let passphrase = match eval(&pa.expr, &VarScope { ctx, config }) {
            Ok(v) => match v.as_str() {
                Some(s) if s.chars().count() >= MIN_PASSPHRASE_LEN => Secret::new(s),
                Some(_) => {
                    diags.push(Diagnostic::error("Passphrase too short", format!("The passphrase must be at least {MIN_PASSPHRASE_LEN} characters long.")).with_span(pa.expr.span()));
                    continue;
                }
                None => {
                    diags.push(
                        Diagnostic::error("Invalid passphrase", "The passphrase must be a string.")
                            .with_span(pa.expr.span()),
                    );
                    continue;
                }
            },
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let defaults = KdfParams::default();
        let params = KdfParams {
            m_cost_kib: u32_attr(kp, "memory_kib", ctx, defaults.m_cost_kib, &mut diags),
            t_cost: u32_attr(kp, "iterations", ctx, defaults.t_cost, &mut diags),
            p_cost: u32_attr(kp, "parallelism", ctx, defaults.p_cost, &mut diags),
        };
        let address = format!("key_provider.argon2.{name}");
        providers.insert(
            address.clone(),
            Arc::new(KeyProvider {
                address,
                passphrase,
                params,
            }),
        );
    }

    let mut methods: BTreeMap<String, Method> = BTreeMap::new();
    for m in block.body.blocks_of("method") {
        let [kind, name] = m.labels.as_slice() else {
            diags.push(Diagnostic::error("Invalid method block", "A method block needs two labels: the type and a name, as in method \"xchacha20_poly1305\" \"main\".").with_span(m.ident_span.clone()));
            continue;
        };
        let address = format!("method.{kind}.{name}");
        match kind.as_str() {
            "unencrypted" => {
                unexpected(m, &[], &[], &mut diags);
                methods.insert(address.clone(), Method::Unencrypted { address });
            }
            "xchacha20_poly1305" => {
                unexpected(m, &["keys"], &[], &mut diags);
                let Some(ka) = m.body.attr("keys") else {
                    diags.push(Diagnostic::error("Missing keys", "The method needs `keys = key_provider.argon2.NAME`.").with_span(m.span.clone()));
                    continue;
                };
                let kp = reference_text(&ka.expr)
                    .filter(|(a, _, _)| a == "key_provider")
                    .and_then(|(a, b, c)| providers.get(&format!("{a}.{b}.{c}")).cloned());
                match kp {
                    Some(keys) => {
                        methods.insert(address.clone(), Method::XChaCha20Poly1305 { address, keys });
                    }
                    None => diags.push(
                        Diagnostic::error("Unknown key provider", "`keys` must name a key_provider block declared in this encryption block, as key_provider.argon2.NAME.")
                            .with_span(ka.expr.span()),
                    ),
                }
            }
            other => diags.push(
                Diagnostic::error("Unsupported encryption method", format!("terrane has no encryption method \"{other}\"."))
                    .with_span(m.span.clone())
                    .with_help("Use method \"xchacha20_poly1305\" \"NAME\" { keys = key_provider.argon2.NAME }, or method \"unencrypted\" \"NAME\" {} to migrate."),
            ),
        }
    }

    let target = |ident: &str, diags: &mut Diagnostics| -> Option<EncryptionTarget> {
        let mut blocks = block.body.blocks_of(ident);
        let b = blocks.next()?;
        if let Some(dup) = blocks.next() {
            diags.push(
                Diagnostic::error(
                    "Duplicate block",
                    format!("Only one {ident} block is allowed."),
                )
                .with_span(dup.ident_span.clone()),
            );
        }
        unexpected(b, &["method", "enforced"], &["fallback"], diags);
        let method_of = |e: &Expr, diags: &mut Diagnostics| -> Option<Method> {
            let found = reference_text(e)
                .filter(|(a, _, _)| a == "method")
                .and_then(|(a, k, n)| methods.get(&format!("{a}.{k}.{n}")).cloned());
            if found.is_none() {
                diags.push(Diagnostic::error("Unknown encryption method", "`method` must name a method block declared in this encryption block, as method.TYPE.NAME.").with_span(e.span()));
            }
            found
        };
        let Some(ma) = b.body.attr("method") else {
            diags.push(
                Diagnostic::error(
                    "Missing method",
                    format!("The {ident} block needs `method = method.TYPE.NAME`."),
                )
                .with_span(b.span.clone()),
            );
            return None;
        };
        let method = method_of(&ma.expr, diags)?;
        let mut fallbacks = Vec::new();
        for fb in b.body.blocks_of("fallback") {
            unexpected(fb, &["method"], &[], diags);
            match fb.body.attr("method") {
                Some(fa) => fallbacks.extend(method_of(&fa.expr, diags)),
                None => diags.push(
                    Diagnostic::error(
                        "Missing method",
                        "A fallback block needs `method = method.TYPE.NAME`.",
                    )
                    .with_span(fb.span.clone()),
                ),
            }
        }
        let enforced = match b.body.attr("enforced") {
            None => false,
            Some(a) => {
                match crate::engine::vars::eval_const(&a.expr, &ctx.cwd).map(|v| v.as_bool()) {
                    Ok(Some(v)) => v,
                    _ => {
                        diags.push(
                            Diagnostic::error("Invalid value", "`enforced` must be true or false.")
                                .with_span(a.expr.span()),
                        );
                        false
                    }
                }
            }
        };
        if enforced && matches!(method, Method::Unencrypted { .. }) {
            diags.push(Diagnostic::error("Unencrypted method is enforced out", format!("The {ident} block sets enforced = true, so its method cannot be an unencrypted one.")).with_span(ma.expr.span()));
        }
        Some(EncryptionTarget {
            method,
            fallbacks,
            enforced,
        })
    };
    let state = target("state", &mut diags);
    let plan = target("plan", &mut diags);
    if diags.has_errors() {
        return Err(CliError::Diags(diags));
    }
    Ok(Encryption {
        state: state.map(|t| Arc::new(Crypt::new(t, Purpose::State))),
        plan: plan.map(|t| Arc::new(Crypt::new(t, Purpose::Plan))),
    })
}
