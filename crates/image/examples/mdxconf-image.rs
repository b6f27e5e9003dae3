//! `mdxconf image ...` / `mdxconf lab ...` without the rest of the workspace: the same CLI code
//! (mdxconf_image::cli) behind a minimal parser, for benchmarks and debugging this crate alone.
//!   cargo run -p mdxconf-image --example mdxconf-image -- image build images/debian12-server.yaml
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
    match r {
        Ok(c) => std::process::exit(c),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2);
        }
    }
}
