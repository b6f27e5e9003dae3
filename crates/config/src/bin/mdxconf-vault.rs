//! `mdxconf-vault`: the `mdxconf vault` command on its own (same code path: `vault::cli::run_vault`), so
//! this crate's tests run the real CLI against ansible-vault without building the whole workspace.
use clap::Parser;

#[derive(Parser)]
#[command(name = "mdxconf-vault", about = "Ansible Vault files and strings (same as `mdxconf vault`)")]
struct Cli {
    #[command(flatten)]
    args: mdxconf_config::vault::cli::VaultArgs,
}

fn main() {
    let cli = Cli::parse();
    mdxconf_config::error::exit_with(mdxconf_config::vault::cli::run_vault(cli.args));
}
