//! `mdxconf image ...` / `mdxconf lab ...` without the rest of the workspace: the same CLI code
//! (mdxconf_image::cli) and exit path as `mdxconf`, behind a minimal parser — for this crate's
//! process-level tests (Ctrl-C, --on-error keep), benchmarks and debugging.
//!   cargo run -p mdxconf-image --bin mdxconf-image -- image build images/debian12-server.yaml
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "mdxconf")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    Image(mdxconf_image::cli::ImageArgs),
    Lab(mdxconf_image::cli::LabArgs),
}

fn main() {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Image(a) => mdxconf_image::cli::run_image(a),
        Cmd::Lab(a) => mdxconf_image::cli::run_lab(a),
    };
    mdxconf_config::error::exit_with(r);
}
