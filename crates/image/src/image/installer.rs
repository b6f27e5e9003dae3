//! installer source: boot the distribution's installer kernel+initrd directly (no VNC key typing),
//! answering it from mdxconf's HTTP server (Ubuntu autoinstall `ds=nocloud-net;s=URL/`, Debian
//! preseed `url=URL/preseed.cfg`) or from a `cidata` seed ISO. The stage ends when the installer
//! powers the VM off (QEMU runs with -no-reboot); only then is the installed disk booted, so the
//! installer's own sshd can never be taken for the installed system.
use super::definition::{Definition, InstallerSource, IsoRef};
use super::http::HttpServer;
use super::netboot::netboot_files;
use crate::proc::{output, run_logged};
use crate::progress::BuildLog;
use crate::qemu::{accel::Accel, DirectBoot, Drive, Nic, Vm, VmSpec};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// Values substituted into served files and the kernel command line.
#[derive(Debug, Clone)]
pub struct TemplateVars {
    pub http_url: String,
    pub ssh_public_key: String,
    pub build_id: String,
    pub hostname: String,
}

pub fn render(text: &str, v: &TemplateVars) -> String {
    text.replace("{{ http_url }}", &v.http_url).replace("{{ ssh_public_key }}", &v.ssh_public_key).replace("{{ build_id }}", &v.build_id).replace("{{ hostname }}", &v.hostname)
}

/// The ISO in the cache, verified: a local path/file:// URL is hard-linked (copied when on another file
/// system), http(s) is downloaded with curl. A wrong checksum is an error naming both sums. A cached
/// ISO is hashed again on every use, so a link whose original was rewritten in place is caught.
pub async fn fetch_iso(iso: &IsoRef, cache_path: &Path, log: &BuildLog) -> Result<PathBuf> {
    let want = iso.sha256.to_ascii_lowercase();
    if cache_path.exists() {
        let have = crate::util::sha256_file(cache_path)?;
        if have == want {
            return Ok(cache_path.to_path_buf());
        }
        std::fs::remove_file(cache_path)?;
    }
    std::fs::create_dir_all(cache_path.parent().unwrap())?;
    let tmp = cache_path.with_extension("part");
    let local = iso.url.strip_prefix("file://").map(PathBuf::from).or_else(|| (!iso.url.contains("://")).then(|| PathBuf::from(&iso.url)));
    match local {
        Some(p) => {
            // a multi-GiB ISO is not worth a second copy on the same disk
            let _ = std::fs::remove_file(&tmp);
            if std::fs::hard_link(&p, &tmp).is_err() {
                std::fs::copy(&p, &tmp).with_context(|| format!("copying ISO {}", p.display()))?;
            }
        }
        None => {
            let st = log.stage(&format!("download {}", iso.url));
            let mut c = Command::new("curl");
            c.args(["-fL", "--retry", "3", "-o"]).arg(&tmp).arg(&iso.url);
            run_logged(&mut c, log.path()).await.with_context(|| format!("downloading {}", iso.url))?;
            st.done();
        }
    }
    let have = crate::util::sha256_file(&tmp)?;
    if have != want {
        let _ = std::fs::remove_file(&tmp);
        bail!("ISO checksum mismatch for {}: expected sha256 {want}, got {have}", iso.url);
    }
    std::fs::rename(&tmp, cache_path)?;
    log.info(format!("ISO verified: sha256 {want}"));
    Ok(cache_path.to_path_buf())
}

/// Copy one file out of an ISO9660 image with xorriso (no mounting).
pub async fn extract_from_iso(iso: &Path, inner: &str, dest: &Path) -> Result<()> {
    let _ = std::fs::remove_file(dest);
    output(Command::new("xorriso").args(["-osirrox", "on", "-indev"]).arg(iso).args(["-extract", inner]).arg(dest))
        .await
        .with_context(|| format!("extracting {inner} from {} (package xorriso)", iso.display()))?;
    if !dest.exists() {
        bail!("{inner} not found in {}", iso.display());
    }
    Ok(())
}

/// A NoCloud seed ISO (volume id `cidata`) holding the served files.
pub async fn make_seed_iso(files: &BTreeMap<String, Vec<u8>>, dir: &Path, out: &Path) -> Result<()> {
    let files: Vec<(String, Vec<u8>)> = files.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    crate::iso::make("cidata", &files, &dir.join("seed"), out).await
}

/// Everything needed to boot the installer.
pub struct InstallerBoot {
    pub kernel: PathBuf,
    pub initrd: PathBuf,
    pub append: String,
    pub cdrom: Option<PathBuf>,
    pub seed: Option<PathBuf>,
    pub http: HttpServer,
}

/// Prepare kernel/initrd/cmdline and start the HTTP server with the rendered answer files.
pub async fn prepare(def: &Definition, src: &InstallerSource, work: &Path, iso_cache: Option<PathBuf>, pubkey: &str, build_id: &str, log: &BuildLog) -> Result<InstallerBoot> {
    let (kernel, initrd, cdrom) = if let Some(nb) = &src.netboot {
        let (k, i) = netboot_files(nb).context("unknown netboot installer")?;
        if !k.exists() {
            bail!("{} missing: install the Debian package debian-installer-12-netboot-amd64", k.display());
        }
        (k, i, None)
    } else {
        let iso = src.iso.as_ref().context("installer needs iso or netboot")?;
        let iso_path = fetch_iso(iso, iso_cache.as_deref().context("no ISO cache path")?, log).await?;
        let k = work.join("installer-kernel");
        let i = work.join("installer-initrd");
        extract_from_iso(&iso_path, src.kernel.as_deref().unwrap(), &k).await?;
        extract_from_iso(&iso_path, src.initrd.as_deref().unwrap(), &i).await?;
        (k, i, Some(iso_path))
    };
    let mut files_raw: BTreeMap<String, String> = BTreeMap::new();
    for (name, rel) in &src.http_files {
        let p = def.dir().join(rel);
        files_raw.insert(name.clone(), std::fs::read_to_string(&p).with_context(|| format!("{}: http_files.{name}: cannot read {}", def.file.display(), p.display()))?);
    }
    // start first: the URL (with its port) is rendered into the files it serves
    let http = HttpServer::start(BTreeMap::new(), Some(work.join("http.log"))).await?;
    let vars = TemplateVars { http_url: http.guest_url(), ssh_public_key: pubkey.to_string(), build_id: build_id.to_string(), hostname: def.name.clone() };
    let mut files: BTreeMap<String, Vec<u8>> = files_raw.iter().map(|(k, v)| (k.clone(), render(v, &vars).into_bytes())).collect();
    // the installed system's proof of identity and the build key, fetched by the answer file's late command
    files.insert("mdxconf-build-id".into(), format!("{build_id}\n").into_bytes());
    files.insert("authorized_keys".into(), format!("{pubkey}\n").into_bytes());
    for (k, v) in &files {
        http.set_file(k, v.clone());
    }
    let append = render(&src.append, &vars);
    let seed = if src.seed_iso {
        let out = work.join("seed.iso");
        make_seed_iso(&files, work, &out).await?;
        Some(out)
    } else {
        None
    };
    log.info(format!("installer answers served at {} (guest view); requests logged to {}", http.guest_url(), work.join("http.log").display()));
    Ok(InstallerBoot { kernel, initrd, append, cdrom, seed, http })
}

/// Start the installer VM on `disk`.
pub async fn start_vm(def: &Definition, boot: &InstallerBoot, disk: &Path, run_dir: &Path, accel: Accel) -> Result<Vm> {
    let mut spec = VmSpec::new("installer", run_dir, accel);
    spec.memory_mb = def.memory.max(1024);
    spec.cpus = def.cpus;
    spec.firmware = def.firmware;
    spec.drives.push(Drive::virtio(disk, "qcow2"));
    spec.cdroms.extend(boot.cdrom.iter().chain(boot.seed.iter()).cloned());
    spec.direct_boot = Some(DirectBoot { kernel: boot.kernel.clone(), initrd: Some(boot.initrd.clone()), append: boot.append.clone() });
    spec.nics.push(Nic::user(None, None));
    spec.no_reboot = true;
    Vm::start(spec).await
}

/// Run the installer to completion: it must power off within the definition's timeout.
pub async fn run(def: &Definition, boot: &InstallerBoot, disk: &Path, run_dir: &Path, accel: Accel, src: &InstallerSource, log: &BuildLog) -> Result<Vm> {
    let mut vm = start_vm(def, boot, disk, run_dir, accel).await?;
    log.info(format!("installer running (serial console: {})", vm.spec.serial_path().display()));
    let timeout = Duration::from_secs(src.timeout);
    let start = std::time::Instant::now();
    let mut fetched = false;
    loop {
        if !fetched && boot.http.requests().iter().any(|r| r.status == 200) {
            fetched = true;
            log.info("installer fetched its answer file from mdxconf's HTTP server");
        }
        if vm.wait_exit(Duration::from_secs(2)).await.is_some() {
            break;
        }
        if start.elapsed() > timeout {
            bail!("installer did not finish within {}s\n--- serial console ---\n{}", src.timeout, crate::qemu::serial::tail(&vm.spec.serial_path(), 30));
        }
    }
    // looked at again: a fetch in the last poll interval before power-off counts too
    let fetched = fetched || boot.http.requests().iter().any(|r| r.status == 200);
    if !fetched && !src.http_files.is_empty() && !src.seed_iso {
        bail!("installer exited without fetching its answers from the HTTP server\n--- serial console ---\n{}", crate::qemu::serial::tail(&vm.spec.serial_path(), 30));
    }
    Ok(vm)
}
