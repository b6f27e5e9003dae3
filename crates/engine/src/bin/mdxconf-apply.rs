//! `mdxconf-apply`: the `mdxconf apply` command on its own (same code path: `cli::run_apply`), so the
//! engine's integration tests and benchmarks can run the real CLI without building the whole workspace.
use clap::Parser;

#[derive(Parser)]
#[command(name = "mdxconf-apply", about = "Apply a playbook (same as `mdxconf apply`)")]
struct Cli {
    #[command(flatten)]
    args: mdxconf_engine::cli::ApplyArgs,
}

fn main() {
    let cli = Cli::parse();
    mdxconf_config::error::exit_with(mdxconf_engine::cli::run_apply(cli.args));
}
