//! `mdxconf image build|list` and `mdxconf lab up|down|status`.
use crate::deploy::options::{Cloud, DeployOptions, Metadata, StaticIpv4};
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
    /// Build an image from a definition (images/NAME.yaml), or every definition of a directory
    /// (bases first, `--jobs` at once; a failure stops only the images built on it); unchanged
    /// definitions are not rebuilt, so an interrupted catalogue build resumes by running it again
    Build {
        /// A definition file, or a directory of them (a catalogue); several are a catalogue too
        #[arg(required = true, num_args = 1..)]
        definition: Vec<PathBuf>,
        /// Catalogue builds: images built at once (default: one per two cores, as memory allows)
        #[arg(long, short = 'j')]
        jobs: Option<usize>,
        /// Catalogue builds: the summary as a table or one JSON document
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
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
        /// Fetch packages (mmdebstrap and the build VMs' apt) through one apt-cacher-ng for the run,
        /// so rebuilds download only what changed; apt still verifies everything it gets
        #[arg(long, value_enum, default_value = "auto", env = "MDXCONF_PACKAGE_CACHE")]
        package_cache: image::package_cache_options::PackageCacheMode,
        /// Where the package cache keeps its files (default: packages/ in the cache directory)
        #[arg(long)]
        package_cache_dir: Option<PathBuf>,
        /// No progress spinners
        #[arg(long, short)]
        quiet: bool,
    },
    /// Boot an exported template the way its cloud would (an OVA as vSphere does, an openstack qcow2
    /// as OpenStack does) and check that a person can use it: SSH with the metadata's key, the
    /// first-login password, hostname, grown disk, cloud-init, sudo, NIC, controller, guest agent,
    /// reboot and new-instance behaviour. Exit code 1 when a check fails
    Test {
        /// NAME.ova or NAME-openstack.qcow2 (with NAME-openstack.json beside it)
        artifact: PathBuf,
        /// Default: from the artifact
        #[arg(long, value_enum)]
        cloud: Option<Cloud>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Keep the VM's disk, seeds and console logs here (default: a temporary directory)
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Seconds each boot may take until SSH answers
        #[arg(long, default_value_t = 900)]
        boot_timeout: u64,
        /// Override the CPUs the artifact asks for
        #[arg(long)]
        cpus: Option<u32>,
        /// Override the memory (MiB) the artifact asks for
        #[arg(long)]
        memory: Option<u32>,
    },
    /// Deploy one VM from an exported template as its cloud would and leave it running (its first
    /// login still asks for a password: see `mdxconf passwdinit`); stop it with `mdxconf lab down --dir DIR`
    Deploy {
        artifact: PathBuf,
        /// VM name (also the default hostname)
        #[arg(long)]
        name: String,
        /// Directory for the VM's files and the lab state (lab.json)
        #[arg(long, default_value = ".mdxconf-lab")]
        dir: PathBuf,
        /// Public key for the default user (the metadata's SSH key)
        #[arg(long)]
        public_key: PathBuf,
        /// Loopback address SSH is forwarded from (127.0.0.0/8)
        #[arg(long, default_value = "127.0.0.1")]
        ssh_addr: String,
        /// Port SSH is forwarded from (default: a free one)
        #[arg(long)]
        ssh_port: Option<u16>,
        #[arg(long)]
        hostname: Option<String>,
        /// Default: a new random id
        #[arg(long)]
        instance_id: Option<String>,
        /// cloud-init user-data file
        #[arg(long)]
        user_data: Option<PathBuf>,
        /// OpenStack: a static address in QEMU's user network (10.0.2.N/24) given by network_data.json
        /// instead of DHCP
        #[arg(long)]
        static_ip_octet: Option<u8>,
        /// Disk beyond the image's size, in GiB
        #[arg(long, default_value_t = 2)]
        grow: u64,
        /// Also append the VM's host keys (from its console) to this known_hosts file
        #[arg(long)]
        known_hosts: Option<PathBuf>,
        #[arg(long, default_value_t = 900)]
        boot_timeout: u64,
        #[arg(long)]
        cpus: Option<u32>,
        #[arg(long)]
        memory: Option<u32>,
    },
    /// Remove old cached builds: beyond the `--keep` newest of each image and/or finished before
    /// `--older-than`. Never an image's newest build, the base of a kept build, or a build a running
    /// VM uses
    Prune {
        /// Only these images (default: all)
        names: Vec<String>,
        /// Keep this many newest builds of each image (at least 1)
        #[arg(long)]
        keep: Option<usize>,
        /// Remove only builds older than this (30d, 12h, 2w)
        #[arg(long, value_parser = image::prune::parse_age)]
        older_than: Option<Duration>,
        /// Show what would be removed; remove nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
    },
    /// What changed between two versions of a template (default: its last two builds): packages
    /// added, removed and upgraded, kernels, DKMS modules per kernel, definition and role changes
    Diff {
        name: String,
        /// Older version: `3`, `v3` or a cache key (prefix)
        a: Option<String>,
        /// Newer version (default: the newest)
        b: Option<String>,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
    },
    /// Write the catalogue as a static web page and JSON: DIR/index.html (one row per template:
    /// version, build date, kernel, size, age, last change, links to each version's changelog),
    /// DIR/catalogue.json and DIR/NAME/vN-KEY.html
    Report {
        #[arg(long, short, default_value = "output/catalogue")]
        output: PathBuf,
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
    },
    /// Write a systemd service + timer that refreshes the catalogue on a schedule (build --refresh,
    /// outputs, report, prune --keep, under one lock); `--install` enables it. `--kubernetes` also
    /// writes the equivalent CronJob (an Indexed Job, one template per index; not run here)
    Schedule {
        /// The catalogue directory
        catalogue: PathBuf,
        /// Where the unit files go (default: ./ ; with --install, /etc/systemd/system or, with
        /// --user, ~/.config/systemd/user)
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long, default_value = "Sun 03:00")]
        on_calendar: String,
        /// The timer's RandomizedDelaySec= (`0`: start exactly on the calendar time)
        #[arg(long, default_value = "10min")]
        randomized_delay: String,
        #[arg(long, default_value_t = 3)]
        keep: usize,
        #[arg(long)]
        jobs: Option<usize>,
        #[arg(long, default_value = "mdxconf-catalogue")]
        unit: String,
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
        /// Default: output/ beside the catalogue directory
        #[arg(long)]
        output_dir: Option<PathBuf>,
        /// daemon-reload and enable --now the timer
        #[arg(long)]
        install: bool,
        /// The user's systemd instead of the system's
        #[arg(long)]
        user: bool,
        /// Also write UNIT-cronjob.yaml for Kubernetes
        #[arg(long)]
        kubernetes: bool,
        #[arg(long, default_value = "registry.example/mdxconf:latest")]
        k8s_image: String,
        #[arg(long, default_value = "mdxconf-cache")]
        k8s_claim: String,
    },
    /// List the images in the cache
    List {
        #[arg(long, env = "MDXCONF_CACHE")]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
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
        ImageCmd::Build { definition, jobs, format, on_error, force, refresh, cache_dir, output_dir, roles_path, package_cache, package_cache_dir, quiet } => {
            let opts = BuildOptions { cache_dir, force, on_error, quiet, output_dir, roles_path, refresh, package_cache, package_cache_dir, package_proxy: None };
            let rt = runtime()?;
            if definition.len() > 1 || definition[0].is_dir() {
                let cat = image::catalogue::Catalogue::load_paths(&definition)?;
                let jobs = jobs.unwrap_or_else(|| cat.default_jobs());
                let (mut report, traffic) = rt.block_on(interruptible(image::package_cache::around(&opts, |o| async move { cat.build(&o, jobs).await })))?;
                report.package_cache = traffic;
                match format {
                    Format::Human => print!("{}", report.table()),
                    Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                }
                return Ok(if report.failed() > 0 { 1 } else { 0 });
            }
            let (r, traffic) = rt.block_on(interruptible(image::package_cache::around(&opts, |o| async move { image::build(&definition[0], &o).await })))?;
            let r = r?;
            println!("{}: {} ({})", r.name, if r.cached { "cached, not rebuilt" } else { "built" }, r.entry.image().display());
            for o in &r.outputs {
                println!("  output: {}", o.display());
            }
            println!("  record: {}", r.entry.record().display());
            if let Some(t) = traffic {
                println!("  {}", t.summary());
            }
            Ok(0)
        }
        ImageCmd::Test { artifact, cloud, format, dir, boot_timeout, cpus, memory } => {
            let o = crate::deploy::test::TestOptions {
                artifact,
                cloud,
                dir,
                boot_timeout: Duration::from_secs(boot_timeout),
                cpus,
                memory_mib: memory,
                progress: format == Format::Human,
            };
            let report = runtime()?.block_on(interruptible(crate::deploy::test::run_test(&o)))?;
            match format {
                Format::Human => print!("{}", report.human()),
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            Ok(if report.passed { 0 } else { 1 })
        }
        ImageCmd::Deploy {
            artifact,
            name,
            dir,
            public_key,
            ssh_addr,
            ssh_port,
            hostname,
            instance_id,
            user_data,
            static_ip_octet,
            grow,
            known_hosts,
            boot_timeout,
            cpus,
            memory,
        } => {
            if !ssh_addr.parse::<std::net::Ipv4Addr>().is_ok_and(|a| a.is_loopback()) {
                anyhow::bail!("--ssh-addr {ssh_addr}: must be a loopback address (127.0.0.0/8)");
            }
            if !crate::image::definition::valid_name(&name) {
                anyhow::bail!("--name {name}: use 1-64 of [A-Za-z0-9._-]");
            }
            let key = std::fs::read_to_string(&public_key).map_err(|e| anyhow::anyhow!("--public-key {}: {e}", public_key.display()))?;
            let user_data = user_data.map(|p| std::fs::read(&p).map_err(|e| anyhow::anyhow!("--user-data {}: {e}", p.display()))).transpose()?;
            let port = match ssh_port {
                Some(p) => p,
                None => crate::qemu::ports::free_tcp_port()?.persist(),
            };
            let id = instance_id.unwrap_or_else(|| format!("mdxconf-{name}-{}", crate::image::record::now()));
            let metadata = Metadata {
                instance_id: id,
                hostname: hostname.unwrap_or_else(|| name.clone()),
                public_keys: key.lines().filter(|l| !l.trim().is_empty()).map(|l| l.trim().to_string()).collect(),
                user_data,
                password: None,
                ipv4: static_ip_octet.map(StaticIpv4::in_user_net),
            };
            let o = DeployOptions { artifact, cloud: None, dir, name, ssh_addr, ssh_port: port, grow_gib: grow, metadata, cpus, memory_mib: memory };
            let (vm, keys) = runtime()?.block_on(interruptible(crate::deploy::up(o, known_hosts.as_deref(), Duration::from_secs(boot_timeout))))?;
            println!("{}	ssh -p {} mdxuser@{}	pid {}", vm.name, vm.ssh_port, vm.ssh_addr, vm.pid);
            for (t, k) in keys {
                println!("  host key {t} {}...", &k[..k.len().min(40)]);
            }
            Ok(0)
        }
        ImageCmd::Prune { names, keep, older_than, dry_run, format, cache_dir } => {
            let cache = Cache::new(cache_dir);
            let o = image::prune::PruneOptions { keep, older_than, dry_run, names };
            let report = runtime()?.block_on(image::prune::prune(&cache, &o))?;
            match format {
                Format::Human => print!("{}", report.human()),
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            Ok(0)
        }
        ImageCmd::Diff { name, a, b, format, cache_dir } => {
            let d = image::diff::diff(&Cache::new(cache_dir), &name, a.as_deref(), b.as_deref())?;
            match format {
                Format::Human => print!("{}", d.human()),
                Format::Json => println!("{}", serde_json::to_string_pretty(&d)?),
            }
            Ok(0)
        }
        ImageCmd::Report { output, cache_dir } => {
            let (index, s) = image::report::write(&Cache::new(cache_dir), &output)?;
            println!("{} templates: {}", s.templates.len(), index.display());
            Ok(0)
        }
        ImageCmd::Schedule { catalogue, dir, on_calendar, randomized_delay, keep, jobs, unit, cache_dir, output_dir, install, user, kubernetes, k8s_image, k8s_claim } => {
            let abs = |p: PathBuf| std::fs::canonicalize(&p).unwrap_or(p);
            let catalogue = abs(catalogue);
            let cache = Cache::new(cache_dir);
            let output_dir = output_dir.map(|p| std::path::absolute(&p)).transpose()?.unwrap_or_else(|| catalogue.parent().unwrap_or(&catalogue).join("output"));
            let o = image::schedule::ScheduleOptions {
                binary: std::env::current_exe()?,
                k8s_templates: image::schedule::template_files(&catalogue)?,
                catalogue,
                cache_dir: cache.root,
                output_dir,
                on_calendar,
                randomized_delay,
                keep,
                jobs,
                unit,
                k8s_image,
                k8s_claim,
            };
            let dir = match (dir, install, user) {
                (Some(d), _, _) => d,
                (None, true, false) => PathBuf::from("/etc/systemd/system"),
                (None, true, true) => PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".config/systemd/user"),
                (None, false, _) => PathBuf::from("."),
            };
            for p in image::schedule::write(&o, &dir, kubernetes)? {
                println!("wrote {}", p.display());
            }
            if install {
                image::schedule::install(&o, user)?;
                println!("enabled {}.timer: see `systemctl{} list-timers {}.timer`", o.unit, if user { " --user" } else { "" }, o.unit);
            }
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
                    "{name}\tv{}\t{}{}\tkernel {}\t{} MiB\t{}",
                    rec["version"].as_u64().unwrap_or(0),
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
