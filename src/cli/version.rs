//! `terrane version` (also `terrane -version`): the version and platform, as text or
//! with `-json` in the shape of Terraform's `version -json`.

use super::{CmdResult, Ctx, EXIT_OK};

#[derive(clap::Args, Debug, Default)]
pub struct Args {
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `linux_amd64`-style platform name, as Terraform prints it.
pub fn platform() -> String {
    let os = std::env::consts::OS;
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

pub fn run(ctx: &Ctx, args: Args) -> CmdResult {
    let version = env!("CARGO_PKG_VERSION");
    if args.json {
        let j = serde_json::json!({
            "terraform_version": version,
            "terrane_version": version,
            "platform": platform(),
            "provider_selections": {},
            "terraform_outdated": false,
        });
        let text = serde_json::to_string_pretty(&j).unwrap_or_else(|_| j.to_string());
        ctx.ui.outln(&text);
    } else {
        ctx.ui
            .outln(&format!("terrane v{version}\non {}", platform()));
    }
    Ok(EXIT_OK)
}
