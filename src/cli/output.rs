//! `terrane output [NAME]`: root output values from the state. All of them as
//! `name = value` lines (sensitive ones as `<sensitive>`), one by name (its value in full),
//! `-json` (Terraform's `{"name":{"sensitive":..,"type":..,"value":..}}`, or just the value
//! for one name) and `-raw` (a string, number or bool printed as is, without a newline).

use std::path::PathBuf;

use super::ui::format_outputs;
use super::workdir::{load_config, open_backend, read_state_opt};
use super::{CliError, CmdResult, Ctx, EXIT_OK};
use crate::diag::Diagnostic;
use crate::lang::value::Value;
use crate::plan::render::render_value;
use crate::state::statefile::type_to_json;
use crate::state::State;

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// The output to show; all of them when omitted.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print a string, number or bool output's value as is, for scripts.
    #[arg(long)]
    pub raw: bool,
    /// Path of the state file (overrides the backend configuration).
    #[arg(long, value_name = "PATH")]
    pub state: Option<PathBuf>,
}

fn pretty(j: &serde_json::Value) -> String {
    serde_json::to_string_pretty(j).unwrap_or_else(|_| j.to_string())
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    if args.json && args.raw {
        return Err(CliError::error(
            "Invalid output format",
            "The -raw and -json options are mutually exclusive.",
        ));
    }
    let config = load_config(ctx)?;
    let b = open_backend(ctx, args.state.as_deref(), &config)?;
    let state = ctx
        .rt
        .block_on(read_state_opt(&*b))?
        .unwrap_or_else(State::new);

    let Some(name) = &args.name else {
        if args.raw {
            return Err(CliError::error(
                "Output name required",
                "You must give the name of a single output value when using the -raw option.",
            ));
        }
        if args.json {
            let mut m = serde_json::Map::new();
            for (k, o) in &state.outputs {
                let v = o.value.clone().deep_unmark();
                m.insert(
                    k.clone(),
                    serde_json::json!({ "sensitive": o.sensitive, "type": type_to_json(&v.type_of()), "value": v.to_json() }),
                );
            }
            ctx.ui.outln(&pretty(&serde_json::Value::Object(m)));
        } else if state.outputs.is_empty() {
            ctx.ui.diag(&Diagnostic::warning(
                "No outputs found",
                "The state file either has no outputs defined, or all the defined outputs are empty. Please define an output in your configuration with the `output` keyword and run `terrane apply` for it to become available.",
            ));
        } else {
            ctx.ui.out(&format_outputs(&state.outputs));
        }
        return Ok(EXIT_OK);
    };

    let Some(o) = state.outputs.get(name) else {
        return Err(CliError::error(
            format!("Output \"{name}\" not found"),
            "The output variable requested could not be found in the state file. If you recently added this to your configuration, be sure to run `terrane apply`, since the state won't be updated with new output variables until that command is run.",
        ));
    };
    let v = o.value.clone().deep_unmark();
    if args.json {
        ctx.ui.outln(&pretty(&v.to_json()));
    } else if args.raw {
        match &v {
            Value::String(s) => ctx.ui.out(s),
            Value::Number(n) => ctx.ui.out(&n.to_string()),
            Value::Bool(b) => ctx.ui.out(&b.to_string()),
            Value::Null(_) => {
                return Err(CliError::error(
                    "Unsupported value for raw output",
                    format!("The -raw option only supports strings, numbers, and boolean values, but output value \"{name}\" is null. Use the -json option for machine-readable representations of output values that have complex types."),
                ))
            }
            other => {
                return Err(CliError::error(
                    "Unsupported value for raw output",
                    format!("The -raw option only supports strings, numbers, and boolean values, but output value \"{name}\" is {}. Use the -json option for machine-readable representations of output values that have complex types.", other.friendly_type()),
                ))
            }
        }
    } else {
        ctx.ui.outln(&render_value(&v, 0));
    }
    Ok(EXIT_OK)
}
