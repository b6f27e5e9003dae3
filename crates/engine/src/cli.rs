//! `mdxconf apply PLAYBOOK -i INVENTORY`: flags like ansible-playbook, exit codes like it too
//! (0 ok, 2 a host failed, 4 a host unreachable; bad input is an error printed with file:line:col).
use crate::output::Format;
use crate::run::{self, ApplyOptions};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    /// Playbook YAML (a list of plays mapping hosts to roles/tasks)
    pub playbook: PathBuf,
    /// Inventory file or directory (Ansible INI or YAML), or `host1,host2,` (default: ansible.cfg's
    /// `inventory`, else ./inventory)
    #[arg(short = 'i', long = "inventory")]
    pub inventory: Option<PathBuf>,
    /// Extra variables: `k=v k2=v2`, `@file.yml`, or JSON/YAML (repeatable; highest precedence)
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Limit to hosts matching a pattern; `@file.retry` reads host names from a retry file
    #[arg(short = 'l', long = "limit")]
    pub limit: Option<String>,
    /// Run only shard I of N (1-based): every N-th of the selected hosts sorted by name, so N
    /// controllers together cover each host exactly once
    #[arg(long = "shard", value_name = "I/N")]
    pub shard: Option<crate::shard::Shard>,
    /// Only run tasks with these tags (comma separated, repeatable)
    #[arg(short = 't', long = "tags", value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks with these tags
    #[arg(long = "skip-tags", value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Check mode: predict changes without making them
    #[arg(short = 'C', long = "check")]
    pub check: bool,
    /// Show unified diffs of changed files
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
    /// Hosts in flight at once
    #[arg(short = 'f', long = "forks")]
    pub forks: Option<usize>,
    /// List the hosts each play would run on, then exit
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
    /// List the tasks that would run (after tag selection), then exit
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    /// Validate playbook, roles and templates, then exit
    #[arg(long = "syntax-check")]
    pub syntax_check: bool,
    /// Output format
    #[arg(long = "format", value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Add unknown SSH host keys to known_hosts (like StrictHostKeyChecking=accept-new)
    #[arg(long = "accept-new-host-keys")]
    pub accept_new_host_keys: bool,
    /// `linear` (each task on all hosts before the next) or `free`
    #[arg(long = "strategy", value_parser = ["linear", "free"])]
    pub strategy: Option<String>,
    /// Extra role directories (besides <playbook dir>/roles and ./roles)
    #[arg(long = "roles-path", env = "MDXCONF_ROLES_PATH", value_delimiter = ':')]
    pub roles_path: Vec<PathBuf>,
    /// Vault passwords (the same flags as `mdxconf vault`)
    #[command(flatten)]
    pub vault: mdxconf_config::vault::cli::PasswordArgs,
    /// Verbose: show each task's result data
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Run notified handlers even on hosts where a task failed
    #[arg(long = "force-handlers")]
    pub force_handlers: bool,
}

pub fn run_apply(a: ApplyArgs) -> anyhow::Result<i32> {
    let cwd = std::env::current_dir()?;
    // ansible.cfg, as ansible-playbook finds it: flags win over it
    let cfg = crate::ansible_cfg::locate(&cwd).map(|p| crate::ansible_cfg::load(&p)).transpose()?;
    if let (Some(c), true) = (&cfg, a.verbose > 0) {
        eprintln!("Using {} as config file", c.path.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
    }
    let inventory = a.inventory.clone().or_else(|| cfg.as_ref().and_then(|c| c.inventory.clone())).unwrap_or_else(|| PathBuf::from("inventory"));
    let mut roles_path = a.roles_path.clone();
    roles_path.extend(cfg.iter().flat_map(|c| c.roles_path.clone()));
    let mut opts = ApplyOptions {
        vault_ids: a.vault.vault_id.clone(),
        vault_password_files: a.vault.vault_password_file.clone(),
        ask_vault_pass: a.vault.ask_vault_pass,
        check: a.check,
        diff: a.diff,
        forks: a.forks.or(cfg.as_ref().and_then(|c| c.forks)).unwrap_or(50).max(1),
        limit: a.limit.clone(),
        shard: a.shard,
        tags: a.tags.clone(),
        skip_tags: a.skip_tags.clone(),
        accept_new_host_keys: a.accept_new_host_keys,
        roles_path,
        ansible_cfg: cfg,
        quiet: false,
        format: a.format,
        verbose: a.verbose,
        strategy: a.strategy.clone(),
        force_handlers: a.force_handlers,
        write_retry_file: true,
        ..Default::default()
    };
    // passwords first: `-e @file` may be a vault
    opts.install_vault_secrets()?;
    // installed: prepare() must not read (or prompt for) them a second time
    (opts.vault_ids, opts.vault_password_files, opts.ask_vault_pass) = (vec![], vec![], false);
    opts.extra_vars = mdxconf_config::vars::parse_extra_vars(&a.extra_vars, &cwd)?;
    let prepared = run::prepare(&a.playbook, &inventory, &opts)?;
    if a.syntax_check {
        println!("\nplaybook: {}", a.playbook.display());
        return Ok(0);
    }
    if a.list_hosts || a.list_tasks {
        if a.list_hosts {
            print!("{}", run::list_hosts(&prepared));
        }
        if a.list_tasks {
            print!("{}", run::list_tasks(&prepared, &opts));
        }
        return Ok(0);
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let summary = rt.block_on(async {
        crate::interrupt::install();
        run::run_prepared(prepared, &opts).await
    });
    Ok(exit_code(&summary))
}

/// ansible-playbook's codes: 2 when a host failed, 4 when one was unreachable (and none failed).
pub fn exit_code(s: &run::RunSummary) -> i32 {
    if s.interrupted {
        return crate::interrupt::EXIT_INTERRUPTED;
    }
    if s.hosts.values().any(|h| h.failed > 0) {
        2
    } else if s.hosts.values().any(|h| h.unreachable > 0) {
        4
    } else {
        0
    }
}
