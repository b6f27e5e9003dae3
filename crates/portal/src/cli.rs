//! `mdxconf inventory from-csv ...` and `mdxconf passwdinit`.
use crate::inventory_ini::{render_inventory, HostNames, InventoryOptions, RegexGroup};
use crate::passwdinit::{self, Method, PasswdInitOptions};
use crate::vm_csv::read_vm_csv;
use anyhow::{bail, Context};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct InventoryArgs {
    #[command(subcommand)]
    pub cmd: InventoryCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum InventoryCmd {
    /// Write an Ansible INI inventory from the mdx portal's VM list CSV (like mdxcsv2inventory.py).
    /// Run `mdxconf inventory from-csv --help` for the options.
    // Parsed by `FromCsvArgs` ourselves: mdxcsv2inventory.py's `-gv` is a two-letter short option,
    // which clap cannot express, and users' scripts pass it.
    #[command(disable_help_flag = true)]
    FromCsv {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        args: Vec<String>,
    },
}

/// Options of `mdxconf inventory from-csv`, compatible with mdxcsv2inventory.py.
#[derive(Parser, Debug)]
#[command(name = "mdxconf inventory from-csv", about = "Ansible INI inventory from the mdx portal's VM list CSV")]
pub struct FromCsvArgs {
    /// CSV file downloaded from the mdx user portal (UTF-8 with BOM)
    pub csv: PathBuf,
    /// Use the IPv6 service address as ansible_host
    #[arg(short = '6', long)]
    pub use_ipv6: bool,
    /// User to run as on the VMs
    #[arg(short = 'u', long, default_value = "mdxuser")]
    pub ansible_user: String,
    /// Name of the group that contains every VM
    #[arg(short = 'd', long, default_value = "default")]
    pub default_group: String,
    /// Make group GROUP of the VMs whose name matches REGEXP (repeatable)
    #[arg(short = 'g', long, num_args = 2, allow_hyphen_values = true, value_names = ["GROUP", "REGEXP"], action = ArgAction::Append)]
    pub group_regexp: Vec<String>,
    /// (-gv) Make group GROUP of the VMs whose name does NOT match REGEXP (repeatable)
    #[arg(long, num_args = 2, allow_hyphen_values = true, value_names = ["GROUP", "REGEXP"], action = ArgAction::Append)]
    pub group_regexp_invert: Vec<String>,
    /// Make group GROUP of the named VMs: --group-with GROUP VM [VM...] (repeatable)
    #[arg(long, num_args = 2.., value_names = ["GROUP", "VM_NAME"], action = ArgAction::Append)]
    group_with: Vec<String>,
    /// Make group GROUP of all VMs except the named ones: --group-without GROUP VM [VM...] (repeatable)
    #[arg(long, num_args = 1.., value_names = ["GROUP", "VM_NAME"], action = ArgAction::Append)]
    group_without: Vec<String>,
    /// --group-with occurrences, one Vec per flag (clap's derive flattens them)
    #[arg(skip)]
    pub group_with_sets: Vec<Vec<String>>,
    #[arg(skip)]
    pub group_without_sets: Vec<Vec<String>>,
    /// Set a variable for a group, written as [GROUP:vars]: --group-var GROUP KEY=VALUE (repeatable)
    #[arg(long, num_args = 2, value_names = ["GROUP", "KEY=VALUE"], action = ArgAction::Append)]
    pub group_var: Vec<String>,
    /// Also make one group per VM
    #[arg(long)]
    pub per_node_groups: bool,
    /// Write each VM's IPv6 service address as host var `ethipv6`
    #[arg(long)]
    pub enable_ethipv6: bool,
    /// Name hosts by VM name (with ansible_host) or by address as mdxcsv2inventory.py does
    #[arg(long, value_enum, default_value = "name")]
    pub host_names: HostNames,
    /// Keep IPv6 link-local addresses (dropped by default)
    #[arg(long)]
    pub enable_linklocal: bool,
    /// Output file (written atomically); default stdout
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

impl FromCsvArgs {
    /// Parse the raw arguments after `from-csv`, accepting `-gv` like mdxcsv2inventory.py.
    pub fn parse_raw(args: &[String]) -> Result<FromCsvArgs, clap::Error> {
        let argv = std::iter::once("mdxconf inventory from-csv".to_string()).chain(args.iter().map(|a| if a == "-gv" { "--group-regexp-invert".to_string() } else { a.clone() }));
        let matches = FromCsvArgs::command().try_get_matches_from(argv)?;
        let mut parsed = FromCsvArgs::from_arg_matches(&matches)?;
        let sets = |id: &str| -> Vec<Vec<String>> { matches.get_occurrences::<String>(id).map(|occ| occ.map(|o| o.cloned().collect()).collect()).unwrap_or_default() };
        parsed.group_with_sets = sets("group_with");
        parsed.group_without_sets = sets("group_without");
        Ok(parsed)
    }

    pub fn to_options(&self) -> anyhow::Result<InventoryOptions> {
        let regex_groups = |flat: &[String], flag: &str| -> anyhow::Result<Vec<RegexGroup>> {
            flat.chunks(2)
                .map(|c| {
                    let regex = regex::Regex::new(&c[1]).with_context(|| format!("{flag} {} '{}': bad regular expression", c[0], c[1]))?;
                    Ok(RegexGroup { group: c[0].clone(), pattern: c[1].clone(), regex })
                })
                .collect()
        };
        let name_groups = |v: &[Vec<String>]| -> Vec<(String, Vec<String>)> { v.iter().map(|g| (g[0].clone(), g[1..].to_vec())).collect() };
        let mut group_vars = Vec::new();
        for c in self.group_var.chunks(2) {
            let Some((k, v)) = c[1].split_once('=') else { bail!("--group-var {} '{}': expected KEY=VALUE", c[0], c[1]) };
            if k.is_empty() || !k.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
                bail!("--group-var {} '{}': '{k}' is not a valid variable name", c[0], c[1]);
            }
            group_vars.push((c[0].clone(), k.to_string(), v.to_string()));
        }
        Ok(InventoryOptions {
            host_names: self.host_names,
            enable_ethipv6: self.enable_ethipv6,
            use_ipv6: self.use_ipv6,
            ansible_user: self.ansible_user.clone(),
            default_group: self.default_group.clone(),
            group_regexp: regex_groups(&self.group_regexp, "-g")?,
            group_regexp_invert: regex_groups(&self.group_regexp_invert, "-gv")?,
            group_with: name_groups(&self.group_with_sets),
            group_without: name_groups(&self.group_without_sets),
            group_vars,
            per_node_groups: self.per_node_groups,
        })
    }
}

pub fn run_inventory(a: InventoryArgs) -> anyhow::Result<i32> {
    match a.cmd {
        InventoryCmd::FromCsv { args } => {
            let parsed = match FromCsvArgs::parse_raw(&args) {
                Ok(p) => p,
                Err(e) => {
                    let code = if e.use_stderr() { 2 } else { 0 };
                    let _ = e.print();
                    return Ok(code);
                }
            };
            let opts = parsed.to_options()?;
            let vms = read_vm_csv(&parsed.csv, parsed.enable_linklocal)?;
            let text = render_inventory(&vms, &opts);
            match &parsed.output {
                Some(path) => mdxconf_config::fs::write_atomic(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(0)
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct PasswdInitArgs {
    /// Inventory file (INI or YAML)
    pub inventory: PathBuf,
    /// SSH login user
    #[arg(short = 'u', long, default_value = "mdxuser")]
    pub user: String,
    /// Group of hosts in the inventory whose password is initialized
    #[arg(short = 'g', long, default_value = "default")]
    pub group: String,
    /// Seconds to wait for SSH and for each password prompt
    #[arg(short = 't', long, default_value_t = 10)]
    pub timeout: u64,
    /// Hosts handled at once
    #[arg(short = 'f', long, default_value_t = 30)]
    pub forks: usize,
    /// Extra arguments for ssh (prompt method), split on whitespace
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub ssh_args: String,
    /// `prompt`: answer the forced password change at first login (what mdx VMs do);
    /// `chpasswd`: run `chpasswd` (via `sudo -n` unless logging in as root) over SSH
    #[arg(long, value_enum, default_value = "prompt")]
    pub method: Method,
    /// Account whose password is set with --method chpasswd (default: --user)
    #[arg(long)]
    pub for_user: Option<String>,
    /// Private key for the SSH login (repeatable)
    #[arg(short = 'i', long = "identity")]
    pub identity: Vec<PathBuf>,
    /// known_hosts file the VMs' host keys are checked against (default ~/.ssh/known_hosts)
    #[arg(long)]
    pub known_hosts: Option<PathBuf>,
    /// Learn the keys of hosts not yet in known_hosts (OpenSSH's accept-new; a known host with another
    /// key is still refused) and print their fingerprints. Without it, a host whose key is not known
    /// is not sent a password.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Read the new password from the first line of stdin instead of asking on the terminal
    #[arg(long)]
    pub password_stdin: bool,
    /// Name of an environment variable holding the current password, for hosts whose forced change asks for it
    #[arg(long)]
    pub current_password_env: Option<String>,
}

pub fn run_passwdinit(a: PasswdInitArgs) -> anyhow::Result<i32> {
    let targets = passwdinit::targets_from_inventory(&a.inventory, &a.group)?;
    if targets.is_empty() {
        bail!("no host found in group '{}' in '{}'", a.group, a.inventory.display());
    }
    eprintln!("Target hosts: {}", targets.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "));
    let new_password = if a.password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).context("reading the new password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let p = crate::tty::read_password("New Password: ")?;
        let v = crate::tty::read_password("Retype New Password: ")?;
        if p != v {
            bail!("password mismatch");
        }
        p
    };
    if new_password.is_empty() {
        bail!("empty password");
    }
    let current_password = match &a.current_password_env {
        Some(var) => Some(std::env::var(var).with_context(|| format!("--current-password-env {var}: variable not set"))?),
        None => None,
    };
    let opts = PasswdInitOptions {
        method: a.method,
        user: a.user.clone(),
        for_user: a.for_user.clone().unwrap_or_else(|| a.user.clone()),
        new_password,
        current_password,
        timeout: Duration::from_secs(a.timeout.max(1)),
        ssh_args: a.ssh_args.split_whitespace().map(str::to_string).collect(),
        identity_files: a.identity.clone(),
        known_hosts: a.known_hosts.clone(),
        accept_new_host_keys: a.accept_new_host_keys,
    };
    eprintln!("initializing the first password...");
    let results = passwdinit::run_all(&targets, &opts, a.forks.max(1));
    let mut failed = 0;
    let known_hosts = passwdinit::known_hosts_path(&opts);
    for (host, r) in &results {
        match r {
            Ok(()) => {
                println!("{host}: Success");
                if a.accept_new_host_keys {
                    if let Some(t) = targets.iter().find(|t| &t.name == host) {
                        for fp in passwdinit::fingerprints(&known_hosts, t) {
                            println!("  {host}: host key {fp}");
                        }
                    }
                }
            }
            Err(e) => {
                failed += 1;
                println!("{host}: {e}");
            }
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}
