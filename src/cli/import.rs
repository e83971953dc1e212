//! `terrane import ADDR ID`: reads an existing object through its provider and records
//! it in the state at ADDR, under the state lock, as Terraform's `import` does.
//!
//! The resource block for ADDR must exist in the root module (importing into child
//! modules is not supported yet). The provider is configured from its `provider` block,
//! whose arguments may refer to root variables (`-var`, `-var-file`, tfvars, defaults)
//! but to nothing else, as Terraform requires for import.

use std::collections::BTreeMap;

use crate::addrs::{AbsResourceInstance, ResourceMode};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::engine::eval::decode_body;
use crate::engine::vars::{self, eval_const, VarArg};
use crate::lang::eval::{RefRoot, Scope};
use crate::lang::funcs::FuncCtx;
use crate::lang::value::Value;
use crate::providers::Registry;
use crate::state::{InstanceObject, ObjectStatus};

use super::plan::{open, OpFlags, OpSettings};
use super::workdir::{read_state, with_lock, write_changed_state};
use super::{CliError, CmdResult, Ctx, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub flags: OpFlags,
    /// The resource instance address to import into, e.g. aws_instance.web or
    /// 'aws_instance.tier["app"]'.
    #[arg(value_name = "ADDR")]
    pub address: String,
    /// The provider's id of the existing object, e.g. i-0123456789abcdef0.
    #[arg(value_name = "ID")]
    pub id: String,
}

/// Answers `var.NAME` from the root variables; every other reference is refused.
struct VarScope {
    values: BTreeMap<String, Value>,
    cwd: std::path::PathBuf,
}

impl Scope for VarScope {
    fn resolve(&self, root: &RefRoot, span: &Span) -> Result<Value, Diagnostic> {
        match root {
            RefRoot::Var(n) => self.values.get(n).cloned().ok_or_else(|| {
                Diagnostic::error("No value for required variable", format!("The root variable \"{n}\" has no value; give one with -var or a tfvars file.")).with_span(span.clone())
            }),
            other => Err(Diagnostic::error(
                "Invalid provider configuration for import",
                format!("The provider configuration used by import may refer to variables only; `{other}` cannot be known before the import."),
            )
            .with_span(span.clone())),
        }
    }
    fn func_ctx(&self) -> FuncCtx<'_> {
        FuncCtx {
            cwd: &self.cwd,
            impure_unknown: false,
        }
    }
}

pub fn run(ctx: &Ctx, args: Args, var_order: Vec<VarArg>) -> CmdResult {
    let settings = OpSettings::resolve(&args.flags, var_order)?;
    let addr: AbsResourceInstance = args.address.parse().map_err(|e| {
        CliError::from(Diagnostic::error("Invalid address", format!("{e}.")).with_help("Give a resource instance address, such as aws_instance.web or 'aws_instance.web[\"a\"]'."))
    })?;
    if addr.resource.mode != ResourceMode::Managed {
        return Err(CliError::error(
            "Invalid address",
            format!("{addr} is a data source; only managed resources can be imported."),
        ));
    }
    if !addr.module.0.is_empty() {
        return Err(CliError::error(
            "Import into a module is not supported",
            format!("terrane can import into root module resources only, not {addr}."),
        ));
    }
    let session = open(ctx, &settings)?;
    let config = &session.engine.config;
    let Some(rc) = config.module.resources.get(&addr.resource) else {
        return Err(CliError::from(
            Diagnostic::error(
                "Configuration for import target does not exist",
                format!(
                    "The configuration has no resource block for {}.",
                    addr.resource
                ),
            )
            .with_help(format!(
                "Add a `resource \"{}\" \"{}\" {{ ... }}` block first, then import into it.",
                addr.resource.type_, addr.resource.name
            )),
        ));
    };
    let pref = rc.provider_ref();
    let Some(factory) = Registry::builtin().get(&pref.name) else {
        return Err(CliError::from(
            Diagnostic::error(
                "Provider not available",
                format!("The provider \"{}\" is not built into terrane.", pref.name),
            )
            .with_span(rc.span.clone()),
        ));
    };
    let provider = factory();

    // The root variables: given values, else declared defaults.
    let mut values = vars::to_values(&session.variables, &config.module.variables, &ctx.cwd)
        .map_err(CliError::Diags)?;
    for (name, v) in &config.module.variables {
        if !values.contains_key(name) {
            if let Some(d) = &v.default {
                values.insert(name.clone(), eval_const(d, &ctx.cwd)?);
            }
        }
    }
    let scope = VarScope {
        values,
        cwd: ctx.cwd.clone(),
    };
    let key = pref.key();
    let pconfig = match config.module.providers.iter().find(|p| p.key() == key) {
        Some(pb) => {
            let mut d = Diagnostics::new();
            let v = decode_body(
                &pb.body,
                &provider.schema().provider,
                &scope,
                &[],
                &pb.span,
                &format!("the provider \"{}\" configuration", pref.name),
                &mut d,
            );
            if d.has_errors() {
                return Err(CliError::Diags(d));
            }
            v
        }
        None if pref.alias.is_some() => {
            return Err(CliError::error(
                "Provider configuration not present",
                format!("No provider configuration {key} exists in the root module."),
            ))
        }
        None => Value::Object(
            provider
                .schema()
                .provider
                .attributes
                .iter()
                .map(|(k, a)| (k.clone(), Value::Null(a.ty.clone())))
                .collect(),
        ),
    };
    let provider_addr =
        crate::engine::graph::provider_addr_string(&crate::addrs::ModulePath::root(), &key);

    let b = session.backend.clone();
    let ty = addr.resource.type_.clone();
    let imported = ctx.rt.block_on(with_lock(ctx, &*b, "import", settings.lock, settings.lock_timeout, async {
        let mut state = read_state(&*b).await?;
        if state.instance(&addr).is_some() {
            return Err(CliError::from(
                Diagnostic::error("Resource already managed by terrane", format!("{addr} is already in the state; terrane manages one object per address."))
                    .with_help(format!("Remove it first with `terrane state rm '{addr}'` if you mean to import another object there.")),
            ));
        }
        let pd = provider.configure(&pconfig.deep_unmark()).await;
        if let Some(e) = pd.iter().find(|d| d.error) {
            return Err(CliError::error(e.summary.clone(), format!("Configuring provider \"{key}\": {}", e.detail)));
        }
        let resp = provider.import(&ty, &args.id).await;
        let errors: Vec<Diagnostic> = resp.diags.iter().filter(|d| d.error).map(|d| Diagnostic::error(d.summary.clone(), format!("{addr}: {}", d.detail))).collect();
        if !errors.is_empty() {
            let mut d = Diagnostics::new();
            for e in errors {
                d.push(e);
            }
            return Err(CliError::Diags(d));
        }
        let Some(obj) = resp.state else {
            return Err(CliError::error("Cannot import non-existent remote object", format!("The provider found no object with id {:?} for {addr}.", args.id)));
        };
        let inst = InstanceObject {
            status: ObjectStatus::Ready,
            schema_version: 0,
            attributes: obj.deep_unmark(),
            dependencies: Vec::new(),
            create_before_destroy: rc.lifecycle.create_before_destroy,
            private: None,
            sensitive_attrs: Default::default(),
        };
        state.set_instance(&addr, &provider_addr, Some(inst));
        write_changed_state(&*b, &mut state).await?;
        Ok(addr.clone())
    }))?;
    ctx.ui.outln(&format!(
        "{imported}: Import prepared!\n  Prepared {} for import",
        addr.resource.type_
    ));
    ctx.ui.outln(&format!(
        "{imported}: Refreshing state... [id={}]\n",
        args.id
    ));
    ctx.ui.outln("Import successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour terrane state and will henceforth be managed by terrane.");
    Ok(EXIT_OK)
}
