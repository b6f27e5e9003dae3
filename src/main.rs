//! mdxconf: one binary for mdx template builds (image, export) and project configuration (apply).
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "mdxconf", version, about = "Packer + Ansible replacement for the mdx academic cloud")]
struct Cli {
    /// Log filter (tracing EnvFilter syntax), e.g. `debug` or `mdxconf_transport=trace`
    #[arg(long, global = true, env = "MDXCONF_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Apply a playbook (roles) to the hosts of an inventory over SSH
    Apply(mdxconf_engine::cli::ApplyArgs),
    /// Inventory tools (from the mdx portal CSV)
    Inventory(mdxconf_portal::cli::InventoryArgs),
    /// Set the first-login password on mdx VMs (mdxpasswdinit)
    Passwdinit(mdxconf_portal::cli::PasswdInitArgs),
    /// Build VM templates with QEMU
    Image(mdxconf_image::cli::ImageArgs),
    /// Boot local VMs from a built image for testing roles
    Lab(mdxconf_image::cli::LabArgs),
    /// Export a disk image as an OVA for vSphere
    Export(mdxconf_ova::cli::ExportArgs),
    /// OVA tools (verify)
    Ova(mdxconf_ova::cli::OvaArgs),
    /// Ansible Vault files and strings (as ansible-vault)
    Vault(mdxconf_config::vault::cli::VaultArgs),
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(&cli.log)).with_writer(std::io::stderr).init();
    let result = match cli.cmd {
        Cmd::Apply(a) => mdxconf_engine::cli::run_apply(a),
        Cmd::Inventory(a) => mdxconf_portal::cli::run_inventory(a),
        Cmd::Passwdinit(a) => mdxconf_portal::cli::run_passwdinit(a),
        Cmd::Image(a) => mdxconf_image::cli::run_image(a),
        Cmd::Lab(a) => mdxconf_image::cli::run_lab(a),
        Cmd::Export(a) => mdxconf_ova::cli::run_export(a),
        Cmd::Ova(a) => mdxconf_ova::cli::run_ova(a),
        Cmd::Vault(a) => mdxconf_config::vault::cli::run_vault(a),
    };
    mdxconf_config::error::exit_with(result);
}
