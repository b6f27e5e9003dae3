//! `mdxconf lab up|down|status`: N local VMs booted from a built image (qcow2 overlays, the image is
//! never modified), SSH forwarded to loopback, a private network between them, and an Ansible INI
//! inventory for `mdxconf apply` / ansible-playbook. VMs outlive `lab up`; `lab down` stops them.
pub mod network;

use crate::guest::{self, Guest};
use crate::proc::pid_is_qemu;
use crate::qemu::{accel, ports, qmp::Qmp, Drive, Firmware, Nic, Vm, VmSpec};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const STATE_FILE: &str = "lab.json";
pub const INVENTORY_FILE: &str = "inventory.ini";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabVm {
    pub name: String,
    pub pid: i32,
    /// Loopback address SSH is forwarded from (127.0.0.1 for `lab up`; `image deploy` may use others).
    #[serde(default = "loopback")]
    pub ssh_addr: String,
    pub ssh_port: u16,
    pub private_ip: String,
    pub private_mac: String,
    pub overlay: PathBuf,
    pub qmp: PathBuf,
    pub serial_log: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub image: PathBuf,
    pub mcast_port: u16,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
    pub inventory: PathBuf,
    pub vms: Vec<LabVm>,
}

#[derive(Debug, Clone)]
pub struct UpOptions {
    pub count: usize,
    /// A qcow2/raw file, or the name of a built image (newest cache entry).
    pub image: String,
    pub memory: u32,
    pub cpus: u32,
    pub dir: PathBuf,
    pub cache_dir: Option<PathBuf>,
    pub ssh_timeout: Duration,
    pub quiet: bool,
}

fn loopback() -> String {
    "127.0.0.1".into()
}

pub fn load_state(dir: &Path) -> Result<Option<LabState>> {
    let p = dir.join(STATE_FILE);
    if !p.exists() {
        return Ok(None);
    }
    Ok(Some(serde_json::from_slice(&std::fs::read(&p)?).with_context(|| format!("reading {}", p.display()))?))
}

/// Resolve `--image`: an existing file, or a built image's name in the cache. Also returns the
/// firmware recorded for it (BIOS when unknown).
pub fn resolve_image(image: &str, cache_dir: Option<PathBuf>) -> Result<(PathBuf, Firmware)> {
    let p = PathBuf::from(image);
    let (path, record) = if p.is_file() {
        let rec = p.parent().map(|d| d.join("record.json")).filter(|r| r.exists());
        (p, rec)
    } else {
        let cache = crate::image::cache::Cache::new(cache_dir);
        match cache.latest(image) {
            Some(e) => (e.image(), Some(e.record())),
            None => bail!("no image `{image}`: not a file, and not built in {} (run `mdxconf image build images/{image}.yaml`)", cache.root.display()),
        }
    };
    let fw = record
        .and_then(|r| std::fs::read(r).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.pointer("/inputs/firmware").and_then(|f| f.as_str()).map(|s| s == "efi"))
        .map(|efi| if efi { Firmware::Efi } else { Firmware::Bios })
        .unwrap_or(Firmware::Bios);
    Ok((std::fs::canonicalize(&path)?, fw))
}

fn inventory(state: &LabState) -> String {
    let mut s = String::from("# written by `mdxconf lab up`; removed by `mdxconf lab down`\n[lab]\n");
    for v in &state.vms {
        s.push_str(&format!(
            "{} ansible_host=127.0.0.1 ansible_port={} ansible_user=root ansible_ssh_private_key_file={} ethipv4={}\n",
            v.name,
            v.ssh_port,
            state.key.display(),
            v.private_ip
        ));
    }
    s.push_str(&format!("\n[lab:vars]\nansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes'\n", state.known_hosts.display()));
    s
}

/// Boot the lab. On any failure every VM started so far is stopped and its files removed.
pub async fn up(o: &UpOptions) -> Result<LabState> {
    if o.count == 0 || o.count > 200 {
        bail!("lab up: N must be between 1 and 200");
    }
    std::fs::create_dir_all(&o.dir)?;
    let dir = std::fs::canonicalize(&o.dir)?;
    if let Some(st) = load_state(&dir)? {
        if st.vms.iter().any(|v| pid_is_qemu(v.pid)) {
            bail!("a lab is already running in {} (run `mdxconf lab down --dir {}` first)", dir.display(), dir.display());
        }
        cleanup_files(&st);
    }
    let (image, firmware) = resolve_image(&o.image, o.cache_dir.clone())?;
    let probe = accel::detect().await;
    if !o.quiet {
        eprintln!("accelerator: {} — {}", probe.accel.name(), probe.reason);
    }
    let key = dir.join("id_ed25519");
    let pubkey = guest::ensure_key(&key, "mdxconf-lab").await?;
    let known_hosts = dir.join("known_hosts");
    let _ = std::fs::remove_file(&known_hosts);
    let mcast = ports::free_udp_port()?;
    let mcast_port = mcast.port;
    let mut state = LabState { image: image.clone(), mcast_port, key: key.clone(), known_hosts: known_hosts.clone(), inventory: dir.join(INVENTORY_FILE), vms: vec![] };
    let mut vms: Vec<Vm> = vec![];
    let mut leases = vec![mcast];
    let backing_fmt = if image.extension().map(|e| e == "raw").unwrap_or(false) { "raw" } else { "qcow2" };
    let res = async {
        for i in 0..o.count {
            let name = format!("vm{}", i + 1);
            let overlay = dir.join(format!("{name}.qcow2"));
            let _ = std::fs::remove_file(&overlay);
            crate::proc::output(tokio::process::Command::new("qemu-img").args(["create", "-q", "-f", "qcow2", "-F", backing_fmt, "-b"]).arg(&image).arg(&overlay)).await?;
            let ssh = ports::free_tcp_port()?;
            let mut spec = VmSpec::new(&name, &dir, probe.accel);
            spec.memory_mb = o.memory;
            spec.cpus = o.cpus;
            spec.firmware = firmware;
            spec.drives.push(Drive::virtio(&overlay, "qcow2"));
            spec.nics.push(Nic::user(Some(ssh.port), Some(network::nat_mac(mcast_port, i))));
            spec.nics.push(Nic::Mcast { port: mcast_port, mac: network::private_mac(mcast_port, i) });
            // systemd (>= 252) installs this as root's authorized_keys at boot: generalized images carry no key
            spec.smbios_strings.push(format!("io.systemd.credential:ssh.authorized_keys.root={pubkey}"));
            let vm = Vm::start(spec).await?;
            state.vms.push(LabVm {
                name,
                pid: vm.pid(),
                ssh_addr: loopback(),
                ssh_port: ssh.port,
                private_ip: network::private_ip(i),
                private_mac: network::private_mac(mcast_port, i),
                overlay,
                qmp: vm.spec.qmp_path(),
                serial_log: vm.spec.serial_path(),
            });
            vms.push(vm);
            leases.push(ssh);
        }
        if !o.quiet {
            eprintln!("{} VM(s) started; waiting for SSH (timeout {}s)", o.count, o.ssh_timeout.as_secs());
        }
        let mut set = tokio::task::JoinSet::new();
        for v in &state.vms {
            let g = Guest::new(v.ssh_port, "root", key.clone(), known_hosts.clone());
            let v = v.clone();
            let timeout = o.ssh_timeout;
            set.spawn(async move {
                guest::wait_ssh_pid(&g, v.pid, timeout)
                    .await
                    .with_context(|| format!("{}: serial console {}:\n{}", v.name, v.serial_log.display(), crate::qemu::serial::tail(&v.serial_log, 15)))?;
                let out = g.run(&network::configure_script(&v.private_mac, &v.private_ip, &v.name)).await;
                g.close().await;
                let out = out?;
                anyhow::Ok((v.name.clone(), out.trim().to_string()))
            });
        }
        while let Some(r) = set.join_next().await {
            let (name, iface) = r??;
            tracing::info!("{name}: private network on {iface}");
        }
        crate::util::write_atomic(&state.inventory, inventory(&state).as_bytes())?;
        crate::util::write_atomic(&dir.join(STATE_FILE), serde_json::to_string_pretty(&state)?.as_bytes())?;
        anyhow::Ok(())
    }
    .await;
    match res {
        Ok(()) => {
            for vm in vms {
                vm.detach();
            }
            for l in leases {
                l.persist();
            }
            Ok(state)
        }
        Err(e) => {
            for mut vm in vms {
                vm.kill().await;
            }
            cleanup_files(&state);
            Err(e)
        }
    }
}

pub fn save_state(dir: &Path, state: &LabState) -> Result<()> {
    crate::util::write_atomic(&dir.join(STATE_FILE), serde_json::to_string_pretty(state)?.as_bytes())
}

fn cleanup_files(st: &LabState) {
    for v in &st.vms {
        let _ = std::fs::remove_file(&v.overlay);
        let _ = std::fs::remove_file(&v.qmp);
        ports::release("tcp", v.ssh_port);
    }
    if st.mcast_port != 0 {
        ports::release("udp", st.mcast_port);
    }
    let _ = std::fs::remove_file(&st.inventory);
    let _ = std::fs::remove_file(&st.known_hosts);
}

async fn stop_one(v: &LabVm, grace: Duration) -> &'static str {
    if !pid_is_qemu(v.pid) {
        return "not running";
    }
    if let Ok(mut q) = Qmp::connect(&v.qmp, Duration::from_secs(3)).await {
        let _ = q.execute("system_powerdown", None).await;
        let start = std::time::Instant::now();
        while start.elapsed() < grace {
            if !pid_is_qemu(v.pid) {
                return "powered off";
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let _ = q.execute("quit", None).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if pid_is_qemu(v.pid) {
        unsafe {
            libc::kill(v.pid, libc::SIGKILL);
        }
        for _ in 0..20 {
            if !pid_is_qemu(v.pid) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        return "killed (did not power off in time)";
    }
    "stopped (QMP quit)"
}

/// Stop every VM of the lab in `dir` (ACPI power-off, then quit, then SIGKILL) and remove its files.
pub async fn down(dir: &Path, grace: Duration) -> Result<Vec<(String, &'static str)>> {
    let Some(st) = load_state(dir)? else { bail!("no lab in {} ({} not found)", dir.display(), STATE_FILE) };
    let mut set = tokio::task::JoinSet::new();
    for v in st.vms.clone() {
        set.spawn(async move {
            let r = stop_one(&v, grace).await;
            (v.name, r)
        });
    }
    let mut out = vec![];
    while let Some(r) = set.join_next().await {
        out.push(r?);
    }
    out.sort();
    cleanup_files(&st);
    for v in &st.vms {
        let _ = std::fs::remove_file(dir.join(format!("{}.pid", v.name)));
    }
    let _ = std::fs::remove_file(dir.join(STATE_FILE));
    Ok(out)
}

/// One line per VM: name, pid, state, SSH port, private IP.
pub async fn status(dir: &Path) -> Result<Vec<String>> {
    let Some(st) = load_state(dir)? else { bail!("no lab in {}", dir.display()) };
    let mut lines = vec![];
    for v in &st.vms {
        let state = if pid_is_qemu(v.pid) {
            match Qmp::connect(&v.qmp, Duration::from_secs(2)).await {
                Ok(mut q) => q.status().await.unwrap_or_else(|e| format!("unknown ({e})")),
                Err(_) => "running (QMP unreachable)".into(),
            }
        } else {
            "stopped".into()
        };
        lines.push(format!("{}\tpid {}\t{}\tssh {}:{}\t{}", v.name, v.pid, state, v.ssh_addr, v.ssh_port, v.private_ip));
    }
    Ok(lines)
}
