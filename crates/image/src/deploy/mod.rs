//! Deploying an exported template the way its cloud would, in QEMU, to prove a person can use it.
//!
//! - vSphere (mdx I): the OVA's disk is read back by mdxconf's own VMDK reader into a raw disk (grown,
//!   as a user deploying with a larger disk does) on the controller the OVF names (pvscsi or NVMe),
//!   with a vmxnet3 NIC, the OVF's firmware, CPUs and memory, and the vApp options on an ISO
//!   (`ovf-env.xml`, the "iso" transport).
//! - OpenStack (mdx II): the qcow2 under a larger copy-on-write disk on virtio, a virtio NIC, the
//!   Glance description's firmware and RAM, a config drive (`config-2`) and a QEMU guest agent channel.
//!
//! `image test` (test.rs) checks a deployment; `image deploy` leaves one running for the user's own
//! steps (inventory, passwdinit, apply), registered like a lab VM so `lab down` stops it.
pub mod artifact;
pub mod hostkeys;
pub mod options;
pub mod report;
pub mod seed;
pub mod test;

use crate::qemu::{accel::Accel, DiskBus, Drive, Firmware, Nic, NicModel, UserNic, Vm, VmSpec};
use anyhow::{bail, Context, Result};
use artifact::Artifact;
use options::{Cloud, DeployOptions, Metadata};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A VM made from an artifact, booted (and rebooted) as its cloud would.
pub struct Deployment {
    pub opts: DeployOptions,
    pub artifact: Artifact,
    pub cloud: Cloud,
    pub accel: Accel,
    /// The VM's own disk (the image is never written).
    pub disk: PathBuf,
    pub mac: String,
    pub known_hosts: PathBuf,
    pub guest_agent_socket: Option<PathBuf>,
    pub vm: Option<Vm>,
    /// Where this emulation differs from the cloud, said once in the report.
    pub notes: Vec<String>,
    boots: u32,
}

/// A MAC unique per deployment port (locally administered).
fn mac_for(port: u16) -> String {
    format!("52:54:00:{:02x}:{:02x}:{:02x}", 0x4d, port >> 8, port & 0xff)
}

impl Deployment {
    /// The controller the root disk is attached to here (the OVF's, except EFI + pvscsi: see `notes`).
    pub fn disk_bus(&self) -> DiskBus {
        match &self.artifact {
            Artifact::Ova { ovf, .. } => match ovf.controller {
                mdxconf_ova::Controller::Pvscsi if ovf.firmware == mdxconf_ova::Firmware::Efi => DiskBus::Nvme,
                mdxconf_ova::Controller::Pvscsi => DiskBus::Pvscsi,
                mdxconf_ova::Controller::Nvme => DiskBus::Nvme,
            },
            Artifact::Qcow2 { .. } => DiskBus::Virtio,
        }
    }

    /// Checks the artifact and prepares the VM's disk; nothing boots yet.
    pub async fn prepare(opts: DeployOptions) -> Result<Deployment> {
        let artifact = Artifact::open(&opts.artifact)?;
        let cloud = opts.cloud.unwrap_or(artifact.cloud());
        if cloud != artifact.cloud() {
            bail!("{} is an image for {}, not {}", opts.artifact.display(), artifact.cloud().name(), cloud.name());
        }
        std::fs::create_dir_all(&opts.dir)?;
        let dir = std::fs::canonicalize(&opts.dir)?;
        let grown = artifact.disk_size() + (opts.grow_gib << 30);
        let disk = match &artifact {
            Artifact::Ova { path, disk: member, .. } => {
                // the disk vSphere would import, read back from the stream by mdxconf's VMDK reader
                let raw = dir.join(format!("{}.raw", opts.name));
                let (path, member, raw2) = (path.clone(), member.clone(), raw.clone());
                tokio::task::spawn_blocking(move || -> Result<()> {
                    let f = std::fs::File::open(&path)?;
                    let out = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&raw2)?;
                    let region = mdxconf_ova::vmdk::reader::Region { file: &f, offset: member.offset, len: member.size };
                    mdxconf_ova::vmdk::reader::extract_raw(&region, &out).map_err(|e| anyhow::anyhow!("reading the OVA's disk {}: {e}", member.name))?;
                    out.set_len(grown)?;
                    Ok(())
                })
                .await??;
                raw
            }
            Artifact::Qcow2 { path, .. } => {
                let overlay = dir.join(format!("{}.qcow2", opts.name));
                let _ = std::fs::remove_file(&overlay);
                let backing = std::fs::canonicalize(path)?;
                crate::proc::output(
                    tokio::process::Command::new("qemu-img").args(["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b"]).arg(&backing).arg(&overlay).arg(grown.to_string()),
                )
                .await?;
                overlay
            }
        };
        let probe = crate::qemu::accel::detect().await;
        let mac = mac_for(opts.ssh_port);
        let known_hosts = dir.join(format!("{}.known_hosts", opts.name));
        let guest_agent_socket = (cloud == Cloud::Openstack).then(|| crate::qemu::socket_path(dir.join(format!("{}.qga", opts.name))));
        let opts = DeployOptions { dir, ..opts };
        let mut notes = vec![];
        if let Artifact::Ova { ovf, .. } = &artifact {
            if ovf.firmware == mdxconf_ova::Firmware::Efi && ovf.controller == mdxconf_ova::Controller::Pvscsi {
                notes.push(
                    "EFI with pvscsi: this machine's UEFI firmware (OVMF) has no pvscsi driver (vSphere's has), so the disk is on NVMe here; the guest's pvscsi driver is checked in its initramfs".into(),
                );
            }
        }
        Ok(Deployment { opts, artifact, cloud, accel: probe.accel, disk, mac, known_hosts, guest_agent_socket, vm: None, notes, boots: 0 })
    }

    /// The VM as the cloud would define it.
    fn spec(&self, seed: PathBuf, ipv4: Option<&options::StaticIpv4>) -> Result<VmSpec> {
        let mut spec = VmSpec::new(&self.opts.name, &self.opts.dir, self.accel);
        let (firmware, bus, nic_model, cpus, memory) = match &self.artifact {
            Artifact::Ova { ovf, .. } => {
                if ovf.nic.as_deref().is_some_and(|n| !n.eq_ignore_ascii_case("VmxNet3")) {
                    bail!("the OVF's NIC is {:?}: image test emulates vmxnet3 only", ovf.nic);
                }
                let bus = self.disk_bus();
                let fw = if ovf.firmware == mdxconf_ova::Firmware::Efi { Firmware::Efi } else { Firmware::Bios };
                (fw, bus, NicModel::Vmxnet3, ovf.cpus, ovf.memory_mib as u32)
            }
            Artifact::Qcow2 { glance, .. } => {
                let prop = |k: &str| glance.as_ref().and_then(|g| g.properties.get(k)).and_then(|v| v.as_str()).map(String::from);
                if let Some(b) = prop("hw_disk_bus").filter(|b| b != "virtio") {
                    bail!("hw_disk_bus={b}: image test boots OpenStack images on virtio only");
                }
                if let Some(m) = prop("hw_vif_model").filter(|m| m != "virtio") {
                    bail!("hw_vif_model={m}: image test emulates virtio NICs only");
                }
                let fw = if prop("hw_firmware_type").as_deref() == Some("uefi") { Firmware::Efi } else { Firmware::Bios };
                (fw, DiskBus::Virtio, NicModel::Virtio, 2, glance.as_ref().map(|g| g.min_ram).unwrap_or(1024).max(512))
            }
        };
        spec.firmware = firmware;
        spec.cpus = self.opts.cpus.unwrap_or(cpus).clamp(1, 4);
        spec.memory_mb = self.opts.memory_mib.unwrap_or(memory);
        let format = if self.disk.extension().is_some_and(|e| e == "raw") { "raw" } else { "qcow2" };
        spec.drives.push(Drive { path: self.disk.clone(), format: format.into(), bus });
        spec.cdroms.push(seed);
        spec.nics.push(Nic::User(UserNic {
            ssh_host_port: Some(self.opts.ssh_port),
            ssh_host_addr: Some(self.opts.ssh_addr.clone()),
            // a static address from the metadata (OpenStack's network_data.json) is where SSH answers
            ssh_guest_addr: ipv4.filter(|_| self.cloud == Cloud::Openstack).map(|ip| ip.address.clone()),
            mac: Some(self.mac.clone()),
            model: nic_model,
        }));
        spec.guest_agent_socket = self.guest_agent_socket.clone();
        Ok(spec)
    }

    /// Power on with `md` as the instance metadata (a new seed medium each time).
    pub async fn boot(&mut self, md: &Metadata) -> Result<()> {
        if self.vm.is_some() {
            bail!("{}: already running", self.opts.name);
        }
        self.boots += 1;
        let seed = self.opts.dir.join(format!("{}.seed{}.iso", self.opts.name, self.boots));
        let work = self.opts.dir.join(format!("{}.seed-files", self.opts.name));
        match (&self.artifact, self.cloud) {
            (Artifact::Ova { ovf, .. }, _) => seed::ovf_env_iso(md, &ovf.properties, &self.opts.name, &work, &seed).await?,
            (Artifact::Qcow2 { .. }, _) => seed::config_drive_iso(md, &self.mac, &work, &seed).await?,
        }
        let _ = std::fs::remove_dir_all(&work);
        let spec = self.spec(seed, md.ipv4.as_ref())?;
        if let Some(s) = &self.guest_agent_socket {
            let _ = std::fs::remove_file(s);
        }
        self.vm = Some(Vm::start(spec).await?);
        Ok(())
    }

    pub fn console_path(&self) -> PathBuf {
        self.opts.dir.join(format!("{}.serial.log", self.opts.name))
    }

    /// Wait until the console shows the SSH host keys of this boot's first-boot run (cloud-init prints
    /// them once per instance), and make them the only keys known for the VM's address.
    pub async fn learn_host_keys(&mut self, since: usize, timeout: Duration) -> Result<Vec<(String, String)>> {
        let start = Instant::now();
        loop {
            if let Some(vm) = self.vm.as_mut() {
                if let Some(e) = vm.exited() {
                    bail!("{e}");
                }
            }
            let text = std::fs::read(self.console_path()).unwrap_or_default();
            let tail = String::from_utf8_lossy(&text[since.min(text.len())..]).into_owned();
            let keys = hostkeys::from_console(&tail);
            if !keys.is_empty() {
                crate::util::write_atomic(&self.known_hosts, hostkeys::known_hosts_lines(&self.opts.ssh_addr, self.opts.ssh_port, &keys).as_bytes())?;
                return Ok(keys);
            }
            if start.elapsed() > timeout {
                bail!(
                    "no SSH host keys on the console within {}s (cloud-init's first boot did not finish?)\n--- console (last lines) ---\n{}",
                    timeout.as_secs(),
                    crate::qemu::serial::tail(&self.console_path(), 25)
                );
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// Length of the console log now (to read only what a later boot prints).
    pub fn console_len(&self) -> usize {
        std::fs::metadata(self.console_path()).map(|m| m.len() as usize).unwrap_or(0)
    }

    /// A connection to the VM as `user` with `key`, host keys checked against what the console showed.
    pub fn guest(&self, user: &str, key: PathBuf) -> crate::guest::Guest {
        crate::guest::Guest::strict(&self.opts.ssh_addr, self.opts.ssh_port, user, key, self.known_hosts.clone())
    }

    /// ACPI power-off (the cloud's "shut down"); QEMU is stopped if the guest does not comply.
    pub async fn power_off(&mut self, grace: Duration) -> bool {
        match self.vm.take() {
            Some(mut vm) => vm.shutdown(grace).await,
            None => true,
        }
    }

    /// Ask the QEMU guest agent for `guest-ping` (OpenStack deployments only).
    pub async fn guest_agent_ping(&self, timeout: Duration) -> Result<()> {
        let sock = self.guest_agent_socket.as_ref().context("no guest agent channel on this VM")?;
        let deadline = Instant::now() + timeout;
        let mut last = String::new();
        while Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(5), ga_ping(sock)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => last = format!("{e:#}"),
                Err(_) => last = "no answer within 5s".into(),
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        bail!("the QEMU guest agent did not answer guest-ping: {last}")
    }
}

async fn ga_ping(sock: &std::path::Path) -> Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let s = tokio::net::UnixStream::connect(sock).await.with_context(|| format!("connecting {}", sock.display()))?;
    let (r, mut w) = s.into_split();
    // guest-sync first: the channel may hold a half-read request from an earlier client
    let id = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64 % 1_000_000_007).unwrap_or(1);
    w.write_all(format!("{{\"execute\":\"guest-sync\",\"arguments\":{{\"id\":{id}}}}}\n").as_bytes()).await?;
    let mut lines = BufReader::new(r).lines();
    loop {
        let line = lines.next_line().await?.context("guest agent channel closed")?;
        if line.contains(&id.to_string()) {
            break;
        }
    }
    w.write_all(b"{\"execute\":\"guest-ping\"}\n").await?;
    let line = lines.next_line().await?.context("guest agent channel closed")?;
    let v: serde_json::Value = serde_json::from_str(line.trim()).with_context(|| format!("guest agent answered {line:?}"))?;
    if v.get("return").is_some() {
        Ok(())
    } else {
        bail!("guest agent answered {line}")
    }
}

/// `image deploy`: boot one VM from `opts.artifact` as its cloud would, wait for its first boot (the
/// host keys on its console), and leave it running as a VM of the lab in `opts.dir` (`lab down`
/// stops it). The host keys go to `<dir>/known_hosts` and, when given, are appended to `known_hosts`.
pub async fn up(opts: DeployOptions, known_hosts: Option<&std::path::Path>, timeout: Duration) -> Result<(crate::lab::LabVm, Vec<(String, String)>)> {
    use crate::lab::{LabState, LabVm};
    std::fs::create_dir_all(&opts.dir)?;
    let dir = std::fs::canonicalize(&opts.dir)?;
    let mut state = crate::lab::load_state(&dir)?.unwrap_or_else(|| LabState {
        image: opts.artifact.clone(),
        mcast_port: 0,
        key: PathBuf::new(),
        known_hosts: dir.join("known_hosts"),
        inventory: dir.join("inventory.ini"),
        vms: vec![],
    });
    if let Some(v) = state.vms.iter().find(|v| v.name == opts.name && crate::proc::pid_is_qemu(v.pid)) {
        bail!("a VM named {} is already running in {} (pid {})", v.name, dir.display(), v.pid);
    }
    state.vms.retain(|v| v.name != opts.name);
    let md = opts.metadata.clone();
    let mut d = Deployment::prepare(DeployOptions { dir: dir.clone(), ..opts }).await?;
    d.boot(&md).await?;
    let keys = match d.learn_host_keys(0, timeout).await {
        Ok(k) => k,
        Err(e) => {
            d.power_off(Duration::from_secs(5)).await;
            return Err(e);
        }
    };
    let lines = hostkeys::known_hosts_lines(&d.opts.ssh_addr, d.opts.ssh_port, &keys);
    let append = |p: &std::path::Path| -> Result<()> {
        use std::io::Write;
        if let Some(parent) = p.parent() {
            if !parent.exists() {
                std::fs::create_dir_all(parent)?;
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))?;
            }
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(p).with_context(|| format!("opening {}", p.display()))?;
        f.write_all(lines.as_bytes())?;
        Ok(())
    };
    append(&state.known_hosts)?;
    if let Some(k) = known_hosts {
        append(k)?;
    }
    let vm = d.vm.take().context("the VM is not running")?;
    let v = LabVm {
        name: d.opts.name.clone(),
        pid: vm.pid(),
        ssh_addr: d.opts.ssh_addr.clone(),
        ssh_port: d.opts.ssh_port,
        private_ip: md.ipv4.as_ref().map(|i| i.address.clone()).unwrap_or_default(),
        private_mac: d.mac.clone(),
        overlay: d.disk.clone(),
        qmp: vm.spec.qmp_path(),
        serial_log: vm.spec.serial_path(),
    };
    vm.detach();
    state.vms.push(v.clone());
    crate::lab::save_state(&dir, &state)?;
    Ok((v, keys))
}
