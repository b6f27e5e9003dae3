//! `mdxconf image build`: definition -> (cached) base disk -> provisioned with roles -> generalized ->
//! outputs. One boot per image: after provisioning, a live QMP snapshot freezes the provisioned disk
//! as `stage.qcow2` (variants overlay it, still accepting the build key) and generalization writes into
//! `image.qcow2` on top of it.
pub mod build_context;
pub mod builtin_roles;
pub mod cache;
pub mod catalogue;
pub mod catalogue_report;
pub mod cloud_init;
pub mod definition;
pub mod diff;
pub mod diff_report;
pub mod generalize;
pub mod glance;
pub mod http;
pub mod installer;
pub mod netboot;
pub mod options;
pub mod output;
pub mod outputs;
pub mod package_cache;
pub mod package_cache_options;
pub mod provision;
pub mod prune;
pub mod prune_report;
pub mod record;
pub mod report;
pub mod report_model;
pub mod rootfs;
pub mod schedule;
pub mod schedule_options;
pub mod target;
pub mod upstream;

use crate::guest::Guest;
use crate::progress::BuildLog;
use crate::qemu::{accel, DirectBoot, Drive, Nic, Vm, VmSpec};
use anyhow::{bail, Context, Result};
use build_context::{Base, Build, FirstBoot};
use cache::Cache;
use definition::{Definition, Source};
pub use options::{BuildOptions, BuildResult, OnError};
use record::{BaseRef, BuildRecord};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// Removes a partial build directory unless disarmed (success, or `--on-error keep`).
struct DirGuard {
    dir: PathBuf,
    armed: bool,
}
impl Drop for DirGuard {
    fn drop(&mut self) {
        if self.armed {
            if let Err(e) = crate::proc::remove_tree_safely(&self.dir) {
                eprintln!("warning: {e}");
            }
        }
    }
}

/// Build `def_path` (and its bases, from the cache when unchanged), then write the outputs.
pub async fn build(def_path: &Path, opts: &BuildOptions) -> Result<BuildResult> {
    let def = Definition::load(def_path)?;
    let chain = def.chain()?;
    let cache = Cache::new(opts.cache_dir.clone());
    let mut base: Option<Base> = None;
    let mut last = None;
    let mut archives: Vec<String> = vec![];
    for (i, d) in chain.iter().enumerate() {
        let is_target = i + 1 == chain.len();
        archives = upstream::urls(d, &archives);
        let r = build_one(d, base.as_ref(), &cache, opts, opts.force && is_target, &archives).await?;
        base = Some((d.clone(), r.entry.clone(), r.record.clone()));
        last = Some(r);
    }
    let mut result = last.expect("chain has at least the definition itself");
    result.outputs = outputs::write(&chain, &result.entry, &mut result.record, opts).await?;
    Ok(result)
}

fn role_dirs(def: &Definition, cache: &Cache, opts: &BuildOptions) -> Result<Vec<PathBuf>> {
    let search = provision::search_path(def, &opts.roles_path);
    let mut out = vec![];
    for r in def.provision_roles() {
        match search.iter().map(|d| d.join(r.name())).find(|p| p.is_dir()) {
            Some(p) => out.push(p),
            // the role mdxconf adds itself is built in, for definitions kept outside this repository
            None if r.name() == cloud_init::ROLE => out.push(builtin_roles::materialize(&cache.root, r.name())?),
            None => {
                let (line, col) = locate(&def.text, r.name());
                return Err(mdxconf_config::error::ConfigError::at(
                    &def.file,
                    line,
                    col,
                    format!("role `{}` not found (searched: {})", r.name(), search.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")),
                )
                .into());
            }
        }
    }
    // roles they include by name change the disk too
    Ok(provision::with_referenced_roles(&out, &search))
}

/// line:col of the first occurrence of `needle` in `text` (1-based), for errors about values.
fn locate(text: &str, needle: &str) -> (usize, usize) {
    for (i, l) in text.lines().enumerate() {
        if let Some(c) = l.find(needle) {
            return (i + 1, c + 1);
        }
    }
    (0, 0)
}

/// The cache key to build under. Without `--refresh`: the definition's own key, or the newest
/// refreshed build of this same definition. With it, the archives' current package indexes decide:
/// a build already bound to them; else the plain build, if it was made from them (its record says
/// so, or it finished after the archives last changed: it is then bound to them); else a new build
/// under a key bound to them.
async fn build_key(def: &Definition, def_key: &str, archives: &[String], cache: &Cache, opts: &BuildOptions) -> Result<(String, Option<upstream::UpstreamState>)> {
    if !opts.refresh {
        let latest = cache.latest_record(&def.name);
        let refreshed = latest.and_then(|r| r.upstream.filter(|u| u.definition_key == def_key).map(|_| r.cache_key));
        return Ok((refreshed.unwrap_or_else(|| def_key.to_string()), None));
    }
    if archives.is_empty() {
        if !opts.quiet {
            eprintln!("{}: --refresh: no package archives to watch (installer image without `upstream:`); cache key as usual", def.name);
        }
        return Ok((def_key.to_string(), None));
    }
    let ctx = || format!("{}: --refresh", def.file.display());
    let releases = upstream::fetch(archives).await.with_context(ctx)?;
    let digest = upstream::digest(&releases).with_context(ctx)?;
    let state = upstream::UpstreamState { urls: archives.to_vec(), digest: digest.clone(), definition_key: def_key.to_string() };
    let bound = upstream::refreshed_key(def_key, &digest);
    if cache.entry(&def.name, &bound).is_complete() {
        return Ok((bound, Some(state)));
    }
    let plain = cache.entry(&def.name, def_key);
    if plain.is_complete() {
        let mut rec = plain.read_record()?;
        let made_from_these = match &rec.upstream {
            Some(u) => u.digest == digest,
            None => upstream::newest_date(&releases).is_some_and(|changed| rec.finished_at > changed),
        };
        if made_from_these {
            if rec.upstream.is_none() {
                rec.upstream = Some(state.clone());
                crate::util::write_atomic(&plain.record(), serde_json::to_string_pretty(&rec)?.as_bytes())?;
            }
            return Ok((def_key.to_string(), Some(state)));
        }
    }
    Ok((bound, Some(state)))
}

async fn build_one(def: &Definition, base: Option<&Base>, cache: &Cache, opts: &BuildOptions, force: bool, archives: &[String]) -> Result<BuildResult> {
    let roles = role_dirs(def, cache, opts)?;
    let def_key = cache::compute_key(def, base.map(|b| b.1.key()).as_deref(), &roles);
    let _lock = cache.lock_name(&def.name).await?;
    let (key, upstream_state) = build_key(def, &def_key, archives, cache, opts).await?;
    let entry = cache.entry(&def.name, &key);
    if entry.is_complete() && !force {
        let record = entry.read_record()?;
        if !opts.quiet {
            let why = if upstream_state.is_some() { ", package archives unchanged" } else { "" };
            eprintln!("{}: up to date (cache key {key}{why}, {}), not rebuilding", def.name, entry.dir.display());
        }
        tracing::info!("{}: cache hit {key}", def.name);
        cache.set_latest(&def.name, &key)?;
        return Ok(BuildResult { name: def.name.clone(), entry, cached: true, record, outputs: vec![] });
    }
    let partial = entry.dir.with_extension("partial");
    crate::proc::remove_tree_safely(&partial).or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })?;
    crate::util::private_dir(&partial)?;
    let mut guard = DirGuard { dir: partial.clone(), armed: true };
    let log = BuildLog::create(&partial.join("build.log"), opts.quiet)?;
    if !opts.quiet {
        eprintln!("{}: building (cache key {key}); log: {}", def.name, entry.log().display());
    }
    log.info(format!("building {} from {} (cache key {key})", def.name, def.file.display()));
    let mut kept = None;
    if let Some(u) = &upstream_state {
        log.info(format!("--refresh: package archives {} (index digest {})", u.urls.join(", "), u.digest));
        if !opts.quiet && cache.latest_record(&def.name).is_some_and(|r| r.upstream.is_some_and(|p| p.definition_key == def_key && p.digest != u.digest)) {
            eprintln!("{}: package archives changed since the last refreshed build: rebuilding", def.name);
        }
    }
    let b = Build { def, base, cache, key: &key, dir: &partial, log: &log, opts, roles: &roles };
    let res = build_stages(&b, &mut kept).await;
    match res {
        Ok(mut record) => {
            record.upstream = upstream_state;
            record.durations = log.durations();
            record.finished_at = record::now();
            // under the name lock: no other build of this image numbers itself meanwhile
            record.version = cache.next_version(&def.name);
            record.role_sha256 = roles.iter().map(|r| (r.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), cache::dir_digest(r))).collect();
            crate::util::write_atomic(&partial.join("record.json"), serde_json::to_string_pretty(&record)?.as_bytes())?;
            // leftovers of background deletions (rootfs tree) must not move into the entry
            for e in std::fs::read_dir(&partial)?.flatten() {
                if e.file_name().to_string_lossy().starts_with("trash-") {
                    let _ = crate::proc::remove_tree_safely(&e.path());
                }
            }
            // the cached disks are the owner's only, like the log (outputs are written elsewhere)
            for disk in ["stage.qcow2", "image.qcow2"] {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(partial.join(disk), std::fs::Permissions::from_mode(0o600));
            }
            let _ = std::fs::remove_dir_all(&entry.dir);
            std::fs::rename(&partial, &entry.dir).with_context(|| format!("moving {} into place", partial.display()))?;
            guard.armed = false;
            cache.set_latest(&def.name, &key)?;
            if !opts.quiet {
                eprintln!("{}: built in {:.0}s -> {}", def.name, record.durations.iter().map(|d| d.1).sum::<f64>(), entry.image().display());
            }
            Ok(BuildResult { name: def.name.clone(), entry, cached: false, record, outputs: vec![] })
        }
        Err(e) => {
            log.info(format!("build failed: {e:#}"));
            let mut log_path = partial.join("build.log");
            if opts.on_error == OnError::Keep {
                guard.armed = false;
                if let Some(k) = kept {
                    eprintln!("{k}");
                }
                eprintln!("build directory kept: {}", partial.display());
            } else {
                // the build directory goes, its log stays where a scheduled rebuild's owner can read it
                let failed = cache.failed_log_path(&def.name, &key);
                let copied = std::fs::create_dir_all(failed.parent().unwrap()).and_then(|_| std::fs::copy(&log_path, &failed));
                match copied {
                    Ok(_) => log_path = failed,
                    Err(ce) => eprintln!("warning: could not keep the build log at {}: {ce}", failed.display()),
                }
            }
            Err(e.context(format!("building {} failed (log: {})", def.name, log_path.display())))
        }
    }
}

/// What `--on-error keep` prints: how to reach the VM left running.
fn keep_message(vm: &Vm, g: &Guest) -> String {
    format!(
        "VM kept running for debugging (pid {}):\n  ssh -p {} -i {} -o UserKnownHostsFile={} root@127.0.0.1\n  serial console log: {}\n  QMP socket: {} (stop it: kill {})",
        vm.pid(),
        g.port,
        g.key.display(),
        g.known_hosts.display(),
        vm.spec.serial_path().display(),
        vm.spec.qmp_path().display(),
        vm.pid()
    )
}

async fn build_stages(b: &Build<'_>, kept: &mut Option<String>) -> Result<BuildRecord> {
    let Build { def, base, cache, key, dir, log, opts, .. } = *b;
    let probe = accel::detect().await;
    log.info(format!("accelerator: {} — {}", probe.accel.name(), probe.reason));
    if probe.accel == accel::Accel::Tcg && !opts.quiet {
        eprintln!("  note: using TCG (no working KVM): {}", probe.reason);
    }
    let pubkey = crate::guest::ensure_key(&cache.build_key_path(), "mdxconf-build").await?;
    let build_id = format!("{}-{key}-{}", def.name, record::now());
    let mut rec = BuildRecord {
        name: def.name.clone(),
        cache_key: key.into(),
        base: base.map(|b| BaseRef { name: b.0.name.clone(), cache_key: b.1.key() }),
        mdxconf_version: env!("CARGO_PKG_VERSION").into(),
        pipeline_version: cache::PIPELINE_VERSION.into(),
        definition_file: def.file.display().to_string(),
        definition_sha256: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(def.text.as_bytes())),
        inputs: serde_json::to_value(def)?,
        accel: probe.accel.name().into(),
        accel_reason: probe.reason.clone(),
        started_at: record::now(),
        roles: def.provision_roles().iter().map(|r| r.name().to_string()).collect(),
        ..Default::default()
    };
    let stage = dir.join("stage.qcow2");
    let boot_dir = dir.join("boot");
    // identity the booted system must prove over SSH (the build id file)
    let mut expect_id = build_id.clone();
    let mut direct_boot = None;
    let mut bootloader_needed = false;
    match (&def.source, base) {
        (Some(Source::Rootfs(src)), _) => {
            let disk = rootfs::build(b, src, &boot_dir, &pubkey, &build_id).await?;
            let st = log.stage("convert to qcow2");
            crate::proc::output(Command::new("qemu-img").args(["convert", "-O", "qcow2"]).arg(&disk.raw).arg(&stage)).await?;
            let _ = std::fs::remove_file(&disk.raw);
            st.done();
            direct_boot = Some(DirectBoot { kernel: disk.kernel, initrd: Some(disk.initrd), append: format!("root=UUID={} ro console=ttyS0,115200n8", disk.root_uuid) });
            bootloader_needed = true;
            rec.inputs["rootfs_packages"] = serde_json::json!(rootfs::packages(def, src));
        }
        (Some(Source::Installer(src)), _) => {
            crate::proc::output(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2"]).arg(&stage).arg(&def.disk_size)).await?;
            let iso_cache = src.iso.as_ref().map(|i| cache.iso_path(&i.sha256));
            let boot = installer::prepare(def, src, dir, iso_cache, &pubkey, &build_id, log).await?;
            let st = log.stage("installer");
            let _vm = installer::run(def, &boot, &stage, dir, probe.accel, src, log).await?;
            st.done();
            rec.inputs["installer_http_requests"] = serde_json::json!(boot.http.requests().iter().map(|r| format!("{} {} {}", r.method, r.path, r.status)).collect::<Vec<_>>());
        }
        (None, Some((_, bentry, brec))) => {
            crate::proc::output(Command::new("qemu-img").args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"]).arg(bentry.stage()).arg(&stage)).await?;
            expect_id = brec.inputs.get("build_id").and_then(|v| v.as_str()).unwrap_or_default().to_string();
            let _ = std::fs::create_dir_all(&boot_dir);
        }
        (None, None) => bail!("{}: no source and no base", def.file.display()),
    }
    rec.inputs["build_id"] = serde_json::json!(build_id);

    // boot the system to provision
    let ssh_port = crate::qemu::ports::free_tcp_port()?;
    let mut spec = VmSpec::new("build", dir, probe.accel);
    spec.memory_mb = def.memory;
    spec.cpus = def.cpus;
    spec.firmware = def.firmware;
    spec.drives.push(Drive::virtio(&stage, "qcow2"));
    spec.nics.push(Nic::user(Some(ssh_port.port), None));
    spec.direct_boot = direct_boot;
    let st = log.stage("boot and wait for SSH");
    let mut vm = Vm::start(spec).await?;
    log.info(format!("build VM started (pid {}), SSH forwarded from 127.0.0.1:{}; serial console: {}", vm.pid(), ssh_port.port, vm.spec.serial_path().display()));
    let g = Guest::new(ssh_port.port, "root", cache.build_key_path(), dir.join("known_hosts"));
    let first = FirstBoot { expect_id: &expect_id, build_id: &build_id, bootloader_needed };
    let r = provision_and_generalize(b, &mut vm, &g, st, &first, &mut rec).await;
    g.close().await;
    match r {
        Ok(()) => {}
        Err(e) => {
            if opts.on_error == OnError::Keep && vm.exited().is_none() {
                *kept = Some(keep_message(&vm, &g));
                let _ = ssh_port.persist();
                vm.detach();
            } else {
                vm.kill().await;
            }
            return Err(e);
        }
    }
    let st = log.stage("shutdown");
    let clean = vm.shutdown(Duration::from_secs(180)).await;
    st.done();
    if !clean {
        bail!("the guest did not power off cleanly after generalization (QEMU had to be stopped)");
    }
    // store the backing reference relative, so the entry directory can be renamed into place
    crate::proc::output(Command::new("qemu-img").args(["rebase", "-u", "-F", "qcow2", "-b", "stage.qcow2"]).arg(dir.join("image.qcow2"))).await?;
    Ok(rec)
}

async fn provision_and_generalize(b: &Build<'_>, vm: &mut Vm, g: &Guest, boot_stage: crate::progress::Stage<'_>, first: &FirstBoot<'_>, rec: &mut BuildRecord) -> Result<()> {
    let Build { def, dir, log, opts, roles, .. } = *b;
    let FirstBoot { expect_id, build_id, bootloader_needed } = *first;
    let waited = g.wait_ready(vm, Duration::from_secs(def.ssh_timeout), "cat /etc/mdxconf-build-id 2>/dev/null || echo none", expect_id).await?;
    boot_stage.done();
    log.info(format!("SSH ready after {:.1}s, identity {expect_id} confirmed", waited.as_secs_f64()));
    g.run(&format!("echo {} > /etc/mdxconf-build-id", mdxconf_transport::sh_quote(build_id))).await?;
    if bootloader_needed {
        let (what, script) = rootfs::install_bootloader(def.firmware);
        let st = log.stage(what);
        let out = g.run(script).await?;
        log.info(out.trim());
        st.done();
    }
    let provision_roles = def.provision_roles();
    if let Some(port) = opts.package_proxy {
        g.put(package_cache::GUEST_APT_CONF, package_cache::guest_apt_conf(port).as_bytes(), 0o644).await?;
        log.info(format!("guest apt fetches through the package cache ({}:{port})", package_cache::GUEST_HOST));
    }
    if !provision_roles.is_empty() {
        let st = log.stage(&format!("provision ({})", provision_roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")));
        let summary = provision::apply(def, g, dir, roles, opts).await?;
        rec.provision = Some(serde_json::to_value(&summary)?);
        st.done();
    }
    if let Some(port) = opts.package_proxy {
        g.run(&package_cache::guest_leak_check(port)).await.context("removing the build's package cache setting from the guest")?;
    }
    let st = log.stage("build record");
    record::collect(g, rec).await?;
    st.done();
    // freeze the provisioned disk (stage.qcow2) and continue in image.qcow2
    g.run("sync").await?;
    let snap = dir.join("image.qcow2");
    vm.qmp_execute("blockdev-snapshot-sync", Some(serde_json::json!({"device": "disk0", "snapshot-file": snap.display().to_string(), "format": "qcow2"})))
        .await
        .context("live snapshot of the provisioned disk")?;
    let st = log.stage("generalize");
    generalize::run(g, &def.generalize, log).await?;
    st.done();
    Ok(())
}
