//! The options of a run (a leaf: every layer reads them, none is imported here).
use serde_json::{Map, Value};
use std::path::PathBuf;

/// Options of a run. Build with `ApplyOptions { check: true, ..Default::default() }` so new fields
/// do not break callers.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub extra_vars: Map<String, Value>,
    pub check: bool,
    pub diff: bool,
    /// max hosts in flight (Ansible's forks), default 50
    pub forks: usize,
    pub limit: Option<String>,
    /// `--shard I/N`: this controller's share of the hosts (after `limit`)
    pub shard: Option<crate::shard::Shard>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// Learn unknown SSH host keys (OpenSSH's accept-new); off by default.
    pub accept_new_host_keys: bool,
    /// Extra role search paths (besides <playbook dir>/roles and ./roles)
    pub roles_path: Vec<PathBuf>,
    /// Print human output to stderr/stdout (false for library use with quiet output)
    pub quiet: bool,
    /// Output format when not quiet (human lines or one JSON document)
    pub format: crate::output::Format,
    /// -v count: show each result's data
    pub verbose: u8,
    /// `linear` (default) or `free`
    pub strategy: Option<String>,
    /// Write `<playbook>.retry` when hosts failed (the CLI turns this on)
    pub write_retry_file: bool,
    /// Run notified handlers also on hosts that failed (`--force-handlers`, play `force_handlers`)
    pub force_handlers: bool,
    /// Vault passwords: `--vault-id label@source` (file, executable or `prompt`), in order
    pub vault_ids: Vec<String>,
    /// `--vault-password-file` (label `default`), after the vault ids
    pub vault_password_files: Vec<PathBuf>,
    /// `--ask-vault-pass`: one more password (label `default`), asked on the terminal
    pub ask_vault_pass: bool,
    /// The ansible.cfg the CLI found (defaults below the inventory's and the play's settings)
    pub ansible_cfg: Option<crate::ansible_cfg::AnsibleCfg>,
}

impl ApplyOptions {
    /// Read the vault passwords these options name and make them the ones every file reader uses
    /// (done once per run, before any file is loaded; a run without vault options keeps earlier ones).
    pub fn install_vault_secrets(&self) -> Result<(), mdxconf_config::vault::VaultError> {
        if self.vault_ids.is_empty() && self.vault_password_files.is_empty() && !self.ask_vault_pass && mdxconf_config::vault::store::is_installed() {
            return Ok(());
        }
        let secrets = mdxconf_config::vault::secrets::load_all(&self.vault_ids, &self.vault_password_files, self.ask_vault_pass, false)?;
        mdxconf_config::vault::store::install(secrets);
        Ok(())
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            extra_vars: Map::new(),
            check: false,
            diff: false,
            forks: 50,
            limit: None,
            shard: None,
            tags: vec![],
            skip_tags: vec![],
            accept_new_host_keys: false,
            roles_path: vec![],
            quiet: true,
            format: crate::output::Format::Human,
            verbose: 0,
            strategy: None,
            write_retry_file: false,
            force_handlers: false,
            vault_ids: vec![],
            vault_password_files: vec![],
            ask_vault_pass: false,
            ansible_cfg: None,
        }
    }
}
