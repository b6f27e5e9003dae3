//! Library entry point used by `mdxconf apply` and by image builds (provisioning).
use crate::executor::{Executor, RunInputs};
pub use crate::options::ApplyOptions;
use crate::output::{Format, Output};
use crate::playbook::Playbook;
pub use crate::summary::{HostStats, RunSummary};
use mdxconf_config::inventory::Inventory;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Run a playbook against an inventory file. Validates all input (playbook, roles, templates syntax,
/// module names/args) before touching any host. Bad input is an `Err` holding a
/// [`mdxconf_config::error::ConfigError`] (file:line:col); host failures are in the summary.
pub async fn apply_files(playbook: &Path, inventory: &Path, opts: &ApplyOptions) -> anyhow::Result<RunSummary> {
    let prepared = prepare(playbook, inventory, opts)?;
    Ok(run_prepared(prepared, opts).await)
}

/// A validated playbook with its inventory and resolved `--limit`.
pub struct Prepared {
    pub playbook: Playbook,
    pub inventory: Inventory,
    pub limit: Option<HashSet<String>>,
    /// Directories whose group_vars/ and host_vars/ the inventory read, in layer order (groups and
    /// hosts created at run time by add_host/group_by read theirs from the same places).
    pub vars_dirs: Vec<PathBuf>,
}

/// Parse and validate everything (no host is contacted).
pub fn prepare(playbook: &Path, inventory: &Path, opts: &ApplyOptions) -> anyhow::Result<Prepared> {
    opts.install_vault_secrets()?;
    let pb = Playbook::load(playbook, &opts.roles_path)?;
    let mut inv = load_inventory(inventory)?;
    // Ansible's implicit localhost: a play that names it gets it when the inventory lacks it
    for play in &pb.plays {
        for term in play.hosts.split([':', ',']).map(|t| t.trim().trim_start_matches(['!', '&'])) {
            if matches!(term, "localhost" | "127.0.0.1") {
                inv.add_implicit_localhost(term);
            }
        }
    }
    let inv_dir = if inventory.is_dir() { inventory.to_path_buf() } else { inventory.parent().map(Path::to_path_buf).unwrap_or_default() };
    let mut vars_dirs = Vec::new();
    if inv.vars_dirs_loaded > 0 {
        vars_dirs.push(if inv_dir.as_os_str().is_empty() { PathBuf::from(".") } else { inv_dir.clone() });
    }
    // Ansible also reads group_vars/ and host_vars/ beside the playbook (they win over the inventory's).
    let beside_playbook = pb.dir.join("group_vars").is_dir() || pb.dir.join("host_vars").is_dir();
    if beside_playbook && std::fs::canonicalize(&inv_dir).ok() != std::fs::canonicalize(&pb.dir).ok() {
        inv.load_vars_dirs(&pb.dir)?;
        vars_dirs.push(pb.dir.clone());
    }
    let mut limit = match &opts.limit {
        Some(l) => Some(resolve_limit(&inv, l)?),
        None => None,
    };
    if let Some(shard) = opts.shard {
        limit = Some(shard_hosts(&inv, limit.as_ref(), shard));
    }
    Ok(Prepared { playbook: pb, inventory: inv, limit, vars_dirs })
}

/// Run a prepared playbook; prints the recap (unless quiet) and writes the retry file if asked.
pub async fn run_prepared(p: Prepared, opts: &ApplyOptions) -> RunSummary {
    mdxconf_transport::raise_nofile_limit();
    let out = Output::new(opts.format, opts.verbose, opts.diff, opts.quiet);
    let inputs = RunInputs { inventory: p.inventory, playbook_dir: p.playbook.dir.clone(), vars_dirs: p.vars_dirs, limit: p.limit };
    let mut ex = Executor::new(opts.clone(), inputs, out);
    let summary = ex.run(&p.playbook).await;
    ex.output().finish(&summary);
    let failed = summary.retry_hosts();
    if opts.write_retry_file && !failed.is_empty() {
        match crate::retry::write(&p.playbook.path, opts.shard, &failed) {
            Ok(path) if !opts.quiet && opts.format == Format::Human => println!("\tto retry, use: --limit @{}\n", path.display()),
            Ok(_) => {}
            Err(e) => ex.output().warn(&format!("could not write the retry file: {e}")),
        }
    }
    summary
}

/// An inventory file/directory, or an inline host list (`-i host1,host2,`).
pub fn load_inventory(inventory: &Path) -> Result<Inventory, mdxconf_config::error::ConfigError> {
    let s = inventory.to_string_lossy();
    if !inventory.exists() && s.contains(',') {
        let names: Vec<&str> = s.split(',').map(str::trim).filter(|h| !h.is_empty()).collect();
        let inv = Inventory::parse_str(&names.join("\n"), Path::new("<inline inventory>"))?;
        return Ok(inv);
    }
    Inventory::load(inventory)
}

/// `--limit`: patterns (comma or colon separated) and `@file.retry` host lists.
pub fn resolve_limit(inv: &Inventory, limit: &str) -> anyhow::Result<HashSet<String>> {
    let mut set = HashSet::new();
    let mut patterns = Vec::new();
    for part in limit.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(file) = part.strip_prefix('@') {
            let names = crate::retry::read(Path::new(file)).map_err(|e| anyhow::anyhow!("--limit @{file}: {e}"))?;
            set.extend(names);
        } else {
            patterns.push(part);
        }
    }
    if !patterns.is_empty() {
        set.extend(inv.hosts_matching(&patterns.join(":")));
    }
    if set.is_empty() {
        anyhow::bail!("--limit `{limit}` matches no hosts of the inventory");
    }
    Ok(set)
}

/// `--shard`: this shard's part of the limited (or all) inventory hosts. The implicit localhost is the
/// controller itself, so every shard keeps it.
fn shard_hosts(inv: &Inventory, limit: Option<&HashSet<String>>, shard: crate::shard::Shard) -> HashSet<String> {
    let selected = inv.hosts.keys().filter(|h| !inv.implicit.contains(h) && limit.is_none_or(|l| l.contains(*h)));
    let mut part = shard.select(selected);
    part.extend(inv.implicit.iter().filter(|h| limit.is_none_or(|l| l.contains(*h))).cloned());
    part
}

/// `--list-hosts` output.
pub fn list_hosts(p: &Prepared) -> String {
    let mut s = format!("\nplaybook: {}\n", p.playbook.path.display());
    for (i, play) in p.playbook.plays.iter().enumerate() {
        let hosts: Vec<String> = p.inventory.hosts_matching(&play.hosts).into_iter().filter(|h| p.limit.as_ref().is_none_or(|l| l.contains(h))).collect();
        s += &format!("\n  play #{} ({}): {}\tTAGS: [{}]\n    pattern: ['{}']\n    hosts ({}):\n", i + 1, play.hosts, play.name, play.tags.join(", "), play.hosts, hosts.len());
        for h in hosts {
            s += &format!("      {h}\n");
        }
    }
    s
}

/// `--list-tasks` output (after tag selection).
pub fn list_tasks(p: &Prepared, opts: &ApplyOptions) -> String {
    let mut s = format!("\nplaybook: {}\n", p.playbook.path.display());
    for (i, play) in p.playbook.plays.iter().enumerate() {
        s += &format!("\n  play #{} ({}): {}\tTAGS: [{}]\n    tasks:\n", i + 1, play.hosts, play.name, play.tags.join(", "));
        fn walk(tasks: &[crate::playbook::Task], opts: &ApplyOptions, s: &mut String) {
            for t in tasks {
                match &t.kind {
                    crate::playbook::TaskKind::Block { block, rescue, always } => {
                        walk(block, opts, s);
                        walk(rescue, opts, s);
                        walk(always, opts, s);
                    }
                    crate::playbook::TaskKind::Include { tasks } => walk(tasks, opts, s),
                    _ => {
                        if crate::executor::conditions::tags_selected(&t.tags, &opts.tags, &opts.skip_tags) {
                            *s += &format!("      {}\tTAGS: [{}]\n", t.display_name(), t.tags.join(", "));
                        }
                    }
                }
            }
        }
        for section in &play.sections {
            walk(section, opts, &mut s);
        }
    }
    s
}
