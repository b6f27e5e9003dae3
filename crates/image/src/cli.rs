//! `mdxconf image build|list` and `mdxconf lab up|down|status`.
use crate::image::{self, cache::Cache, BuildOptions, OnError};
use crate::lab;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct ImageArgs {
    #[command(subcommand)]
    cmd: ImageCmd,
}

#[derive(Subcommand, Debug)]
enum ImageCmd {
    /// Build an image from a definition (images/NAME.yaml); unchanged definitions are not rebuilt
    Build {
        definition: PathBuf,
        /// What to do with the VM when a step fails
        #[arg(long, value_enum, default_value = "abort")]
        on_error: OnError,
        /// Rebuild even if the cache holds this exact build
        #[arg(long)]
        force: bool,
        /// Rebuild (with its bases) only if their package archives changed since the cached build:
        /// fetches the apt Release files (`upstream:`, default the rootfs mirror's suite). For cron jobs
        #[arg(long)]
        refresh: bool,
        /// Cache directory (default ~/.cache/mdxconf)
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
        /// Where outputs go (default output/<name>)
        #[arg(long)]
        output_dir: Option<PathBuf>,
        /// Extra role directories
        #[arg(long)]
        roles_path: Vec<PathBuf>,
        /// No progress spinners
        #[arg(long, short)]
        quiet: bool,
    },
    /// List the images in the cache
    List {
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug)]
pub struct LabArgs {
    #[command(subcommand)]
    cmd: LabCmd,
}

#[derive(Subcommand, Debug)]
enum LabCmd {
    /// Boot N VMs from a built image on a private network; writes DIR/inventory.ini and DIR/lab.json
    Up {
        count: usize,
        /// Image file (qcow2/raw) or the name of a built image
        #[arg(long)]
        image: String,
        /// MiB per VM
        #[arg(long, default_value_t = 512)]
        memory: u32,
        #[arg(long, default_value_t = 1)]
        cpus: u32,
        /// Lab directory (state, inventory, overlays, logs)
        #[arg(long, default_value = ".mdxconf-lab")]
        dir: PathBuf,
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
        /// Seconds to wait for SSH on every VM
        #[arg(long, default_value_t = 600)]
        ssh_timeout: u64,
    },
    /// Stop the lab's VMs (ACPI power-off, then quit/kill) and remove their files
    Down {
        #[arg(long, default_value = ".mdxconf-lab")]
        dir: PathBuf,
        /// Seconds to wait for each guest to power off before stopping QEMU
        #[arg(long, default_value_t = 90)]
        grace: u64,
    },
    /// Show the lab's VMs
    Status {
        #[arg(long, default_value = ".mdxconf-lab")]
        dir: PathBuf,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

/// Run `fut`, but stop at Ctrl-C/SIGTERM: dropping the future kills every QEMU/mmdebstrap it started
/// and removes its temporary files (guards' Drop).
async fn interruptible<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = fut => r,
        _ = tokio::signal::ctrl_c() => anyhow::bail!("interrupted (Ctrl-C): stopped the VM and removed temporary files"),
        _ = term.recv() => anyhow::bail!("terminated: stopped the VM and removed temporary files"),
    }
}

pub fn run_image(a: ImageArgs) -> Result<i32> {
    match a.cmd {
        ImageCmd::Build { definition, on_error, force, refresh, cache_dir, output_dir, roles_path, quiet } => {
            let opts = BuildOptions { cache_dir, force, on_error, quiet, output_dir, roles_path, refresh };
            let r = runtime()?.block_on(interruptible(image::build(&definition, &opts)))?;
            println!("{}: {} ({})", r.name, if r.cached { "cached, not rebuilt" } else { "built" }, r.entry.image().display());
            for o in &r.outputs {
                println!("  output: {}", o.display());
            }
            println!("  record: {}", r.entry.record().display());
            Ok(0)
        }
        ImageCmd::List { cache_dir } => {
            let cache = Cache::new(cache_dir);
            let entries = cache.list();
            if entries.is_empty() {
                println!("no images in {}", cache.root.display());
            }
            for (name, e) in entries {
                let latest = cache.latest(&name).map(|l| l.dir == e.dir).unwrap_or(false);
                let rec: serde_json::Value = std::fs::read(e.record()).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
                let size = std::fs::metadata(e.image()).map(|m| m.len()).unwrap_or(0) + std::fs::metadata(e.stage()).map(|m| m.len()).unwrap_or(0);
                println!(
                    "{name}\t{}{}\tkernel {}\t{} MiB\t{}",
                    e.key(),
                    if latest { " (latest)" } else { "" },
                    rec["running_kernel"].as_str().unwrap_or("?"),
                    size >> 20,
                    e.image().display()
                );
            }
            Ok(0)
        }
    }
}

pub fn run_lab(a: LabArgs) -> Result<i32> {
    let rt = runtime()?;
    match a.cmd {
        LabCmd::Up { count, image, memory, cpus, dir, cache_dir, ssh_timeout } => {
            let o = lab::UpOptions { count, image, memory, cpus, dir, cache_dir, ssh_timeout: Duration::from_secs(ssh_timeout), quiet: false };
            let st = rt.block_on(interruptible(lab::up(&o)))?;
            for v in &st.vms {
                println!("{}\tssh -p {} -i {} -o UserKnownHostsFile={} root@127.0.0.1\tprivate {}", v.name, v.ssh_port, st.key.display(), st.known_hosts.display(), v.private_ip);
            }
            println!("inventory: {}", st.inventory.display());
            Ok(0)
        }
        LabCmd::Down { dir, grace } => {
            let r = rt.block_on(lab::down(&dir, Duration::from_secs(grace)))?;
            for (n, s) in r {
                println!("{n}: {s}");
            }
            Ok(0)
        }
        LabCmd::Status { dir } => {
            for l in rt.block_on(lab::status(&dir))? {
                println!("{l}");
            }
            Ok(0)
        }
    }
}
