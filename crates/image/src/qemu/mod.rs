//! QEMU driven by mdxconf: one `Vm` per guest, controlled over QMP, serial console logged to a file,
//! death at startup detected at once (child exit or QMP EOF) with QEMU's stderr in the error.
pub mod accel;
pub mod ports;
pub mod qmp;
pub mod serial;

use crate::proc::GroupChild;
use accel::Accel;
use anyhow::{bail, Context, Result};
use qmp::Qmp;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// `path` if a UNIX socket can live there, else a short stand-in named by its digest: socket paths are
/// limited to 107 bytes, and a cache directory deep in a tree easily goes past that. The same long
/// path always maps to the same stand-in, so later commands (`lab down`) find the socket again.
pub fn socket_path(path: PathBuf) -> PathBuf {
    if path.as_os_str().len() < 100 {
        return path;
    }
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(path.as_os_str().as_encoded_bytes()));
    // SAFETY: getuid has no preconditions
    let uid = unsafe { libc::getuid() };
    let dir = std::env::temp_dir().join(format!("mdxconf-sockets-{uid}"));
    let _ = crate::util::private_dir(&dir);
    // someone else's directory there: keep the long path (QEMU then says why it cannot bind it)
    use std::os::unix::fs::MetadataExt;
    if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir() && m.uid() == uid) {
        return path;
    }
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    dir.join(format!("{}{ext}", &digest[..24]))
}

pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE.fd";
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS.fd";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Firmware {
    #[default]
    Bios,
    Efi,
}

#[derive(Debug, Clone)]
pub struct Drive {
    pub path: PathBuf,
    /// "qcow2" or "raw"
    pub format: String,
    pub bus: DiskBus,
}

impl Drive {
    pub fn virtio(path: &Path, format: &str) -> Drive {
        Drive { path: path.to_path_buf(), format: format.into(), bus: DiskBus::Virtio }
    }
}

/// How a disk is attached: virtio-blk (QEMU, OpenStack), or as vSphere attaches it (VMware
/// paravirtual SCSI, NVMe), so an image is booted on the controller its cloud gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DiskBus {
    #[default]
    Virtio,
    Pvscsi,
    Nvme,
}

/// The NIC model: virtio-net (QEMU, OpenStack) or VMware's vmxnet3 (vSphere).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NicModel {
    #[default]
    Virtio,
    Vmxnet3,
}

impl NicModel {
    fn device(self) -> &'static str {
        match self {
            NicModel::Virtio => "virtio-net-pci",
            NicModel::Vmxnet3 => "vmxnet3",
        }
    }
}

/// User-mode NAT (the guest reaches 10.0.2.2 = the host); the guest's SSH port forwarded from a
/// loopback address.
#[derive(Debug, Clone, Default)]
pub struct UserNic {
    pub ssh_host_port: Option<u16>,
    /// Loopback address the forward listens on (default 127.0.0.1).
    pub ssh_host_addr: Option<String>,
    /// The guest address to forward to (default: the address the NAT's DHCP gives, 10.0.2.15).
    pub ssh_guest_addr: Option<String>,
    pub mac: Option<String>,
    pub model: NicModel,
}

#[derive(Debug, Clone)]
pub enum Nic {
    User(UserNic),
    /// Private L2 network shared by all guests using the same multicast group:port (lab)
    Mcast {
        port: u16,
        mac: String,
    },
}

impl Nic {
    /// User-mode NAT, virtio, SSH forwarded from 127.0.0.1:`ssh_host_port`.
    pub fn user(ssh_host_port: Option<u16>, mac: Option<String>) -> Nic {
        Nic::User(UserNic { ssh_host_port, mac, ..Default::default() })
    }
}

#[derive(Debug, Clone)]
pub struct DirectBoot {
    pub kernel: PathBuf,
    pub initrd: Option<PathBuf>,
    pub append: String,
}

#[derive(Debug, Clone)]
pub struct VmSpec {
    pub name: String,
    pub memory_mb: u32,
    pub cpus: u32,
    pub accel: Accel,
    pub firmware: Firmware,
    pub drives: Vec<Drive>,
    /// Read-only ISO images, attached in order as CD-ROMs on an AHCI (SATA) controller.
    pub cdroms: Vec<PathBuf>,
    pub direct_boot: Option<DirectBoot>,
    pub nics: Vec<Nic>,
    /// Holds the QMP socket, serial log, stderr log, pid file and OVMF vars copy.
    pub run_dir: PathBuf,
    /// Exit instead of rebooting (installers: "power off" and "reboot" both end the stage).
    pub no_reboot: bool,
    /// SMBIOS type 11 strings, e.g. systemd credentials `io.systemd.credential:NAME=VALUE`.
    pub smbios_strings: Vec<String>,
    /// A QEMU guest agent channel (virtio-serial port org.qemu.guest_agent.0) on this unix socket.
    pub guest_agent_socket: Option<PathBuf>,
    pub extra_args: Vec<String>,
}

impl VmSpec {
    pub fn new(name: &str, run_dir: &Path, accel: Accel) -> VmSpec {
        VmSpec {
            name: name.into(),
            memory_mb: 1024,
            cpus: 1,
            accel,
            firmware: Firmware::Bios,
            drives: vec![],
            cdroms: vec![],
            direct_boot: None,
            nics: vec![],
            run_dir: run_dir.into(),
            no_reboot: false,
            smbios_strings: vec![],
            guest_agent_socket: None,
            extra_args: vec![],
        }
    }
    pub fn qmp_path(&self) -> PathBuf {
        socket_path(self.run_dir.join(format!("{}.qmp", self.name)))
    }
    pub fn serial_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.serial.log", self.name))
    }
    pub fn stderr_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.qemu.log", self.name))
    }
    pub fn pid_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.pid", self.name))
    }

    /// The full QEMU argument list.
    pub fn args(&self) -> Result<Vec<String>> {
        let (mem, cpus) = (self.memory_mb.to_string(), self.cpus.to_string());
        let mut a: Vec<String> = ["-name", &self.name, "-machine", "pc", "-m", &mem, "-smp", &cpus].map(String::from).to_vec();
        a.extend(self.accel.qemu_args());
        let mut push = |xs: &[&str]| a.extend(xs.iter().map(|s| s.to_string()));
        push(&["-display", "none", "-vga", "none", "-nodefaults", "-no-user-config"]);
        push(&["-qmp", &format!("unix:{},server=on,wait=off", self.qmp_path().display())]);
        push(&["-chardev", &format!("file,id=ser0,path={}", self.serial_path().display()), "-serial", "chardev:ser0"]);
        push(&["-pidfile", &self.pid_path().display().to_string()]);
        push(&["-object", "rng-random,id=rng0,filename=/dev/urandom", "-device", "virtio-rng-pci,rng=rng0"]);
        if self.firmware == Firmware::Efi {
            let vars = self.run_dir.join(format!("{}.OVMF_VARS.fd", self.name));
            if !vars.exists() {
                std::fs::copy(OVMF_VARS, &vars).with_context(|| format!("copying {OVMF_VARS} (is package ovmf installed?)"))?;
            }
            push(&["-drive", &format!("if=pflash,format=raw,readonly=on,file={OVMF_CODE}")]);
            push(&["-drive", &format!("if=pflash,format=raw,file={}", vars.display())]);
        }
        let mut scsi = false;
        for (i, d) in self.drives.iter().enumerate() {
            match d.bus {
                DiskBus::Virtio => push(&["-drive", &format!("file={},format={},if=virtio,index={i},id=disk{i},cache=unsafe,discard=unmap", d.path.display(), d.format)]),
                DiskBus::Pvscsi => {
                    if !scsi {
                        push(&["-device", "pvscsi,id=scsi0"]);
                        scsi = true;
                    }
                    push(&["-drive", &format!("file={},format={},if=none,id=disk{i},cache=unsafe,discard=unmap", d.path.display(), d.format)]);
                    push(&["-device", &format!("scsi-hd,drive=disk{i},bus=scsi0.0,scsi-id={i},bootindex={i}")]);
                }
                DiskBus::Nvme => {
                    push(&["-drive", &format!("file={},format={},if=none,id=disk{i},cache=unsafe,discard=unmap", d.path.display(), d.format)]);
                    push(&["-device", &format!("nvme,drive=disk{i},serial=mdxconf{i},bootindex={i}")]);
                }
            }
        }
        // AHCI, not the i440fx board's IDE: with OVMF, Linux finds no device on that IDE controller
        // (tests/installer_iso.rs saw no sr0), and every installer kernel has the ahci driver
        if !self.cdroms.is_empty() {
            push(&["-device", "ahci,id=sata"]);
        }
        for (i, iso) in self.cdroms.iter().enumerate() {
            push(&["-drive", &format!("file={},format=raw,if=none,id=cd{i},media=cdrom,readonly=on", iso.display())]);
            push(&["-device", &format!("ide-cd,bus=sata.{i},drive=cd{i}")]);
        }
        if let Some(db) = &self.direct_boot {
            push(&["-kernel", &db.kernel.display().to_string(), "-append", &db.append]);
            if let Some(i) = &db.initrd {
                push(&["-initrd", &i.display().to_string()]);
            }
        }
        for (i, n) in self.nics.iter().enumerate() {
            let id = format!("n{i}");
            match n {
                Nic::User(u) => {
                    let mut nd = format!("user,id={id}");
                    if let Some(p) = u.ssh_host_port {
                        let host = u.ssh_host_addr.as_deref().unwrap_or("127.0.0.1");
                        let guest = u.ssh_guest_addr.as_deref().unwrap_or("");
                        nd.push_str(&format!(",hostfwd=tcp:{host}:{p}-{guest}:22"));
                    }
                    push(&["-netdev", &nd]);
                    let mut dev = format!("{},netdev={id}", u.model.device());
                    if let Some(m) = &u.mac {
                        dev.push_str(&format!(",mac={m}"));
                    }
                    push(&["-device", &dev]);
                }
                Nic::Mcast { port, mac } => {
                    push(&["-netdev", &format!("socket,id={id},mcast=230.0.0.1:{port},localaddr=127.0.0.1")]);
                    push(&["-device", &format!("virtio-net-pci,netdev={id},mac={mac}")]);
                }
            }
        }
        for s in &self.smbios_strings {
            // a comma inside an option value is escaped by doubling it
            push(&["-smbios", &format!("type=11,value={}", s.replace(',', ",,"))]);
        }
        if let Some(sock) = &self.guest_agent_socket {
            push(&["-chardev", &format!("socket,path={},server=on,wait=off,id=qga0", sock.display())]);
            push(&["-device", "virtio-serial-pci", "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"]);
        }
        if self.no_reboot {
            push(&["-no-reboot"]);
        }
        a.extend(self.extra_args.iter().cloned());
        Ok(a)
    }
}

pub fn qemu_binary() -> String {
    std::env::var("MDXCONF_QEMU").unwrap_or_else(|_| "qemu-system-x86_64".into())
}

/// A running guest.
pub struct Vm {
    pub spec: VmSpec,
    proc: GroupChild,
    qmp: Option<Qmp>,
}

impl Vm {
    /// Start QEMU and connect to QMP. If QEMU exits during startup (bad argument, port taken, missing
    /// file) this fails immediately with QEMU's stderr.
    pub async fn start(spec: VmSpec) -> Result<Vm> {
        std::fs::create_dir_all(&spec.run_dir)?;
        let _ = std::fs::remove_file(spec.qmp_path());
        let args = spec.args()?;
        let stderr = std::fs::File::create(spec.stderr_path())?;
        {
            use std::io::Write;
            let mut f = &stderr;
            let _ = writeln!(f, "$ {} {}", qemu_binary(), args.join(" "));
        }
        let mut cmd = Command::new(qemu_binary());
        cmd.args(&args).stdin(Stdio::null()).stdout(stderr.try_clone()?).stderr(stderr);
        tracing::debug!("starting {} {}", qemu_binary(), args.join(" "));
        let mut proc = GroupChild::spawn(&mut cmd)?;
        let qmp_path = spec.qmp_path();
        let connect = Qmp::connect(&qmp_path, Duration::from_secs(30));
        let qmp = tokio::select! {
            st = proc.wait() => {
                let st = st?;
                bail!("QEMU ({}) exited at startup ({st}):\n{}", spec.name, qemu_stderr(&spec));
            }
            q = connect => q,
        };
        let qmp = match qmp {
            Ok(q) => q,
            Err(e) => {
                // QMP closed during negotiation: QEMU is dying; give it a moment to exit and report stderr
                let _ = tokio::time::timeout(Duration::from_secs(2), proc.wait()).await;
                bail!("QEMU ({}) failed at startup: {e:#}\n{}", spec.name, qemu_stderr(&spec));
            }
        };
        Ok(Vm { spec, proc, qmp: Some(qmp) })
    }

    pub fn pid(&self) -> i32 {
        self.proc.pid
    }

    /// None while running; Some(description) once QEMU has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.proc.child.try_wait() {
            Ok(Some(st)) => Some(format!(
                "QEMU ({}) exited ({st}):\n{}\n--- serial console (last lines) ---\n{}",
                self.spec.name,
                qemu_stderr(&self.spec),
                serial::tail(&self.spec.serial_path(), 20)
            )),
            Ok(None) => None,
            Err(e) => Some(format!("waiting for QEMU failed: {e}")),
        }
    }

    /// Resolves when QEMU has exited (cancel-safe: for `select!` against a slow operation).
    pub async fn wait_exited(&mut self) {
        let _ = self.proc.wait().await;
    }

    /// Wait for QEMU to exit on its own (installer powering off), up to `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(timeout, self.proc.wait()).await.ok().and_then(|r| r.ok())
    }

    pub async fn qmp_execute(&mut self, cmd: &str, args: Option<serde_json::Value>) -> Result<serde_json::Value> {
        match self.qmp.as_mut() {
            Some(q) => q.execute(cmd, args).await,
            None => bail!("no QMP connection"),
        }
    }

    pub async fn status(&mut self) -> Result<String> {
        match self.qmp.as_mut() {
            Some(q) => q.status().await,
            None => bail!("no QMP connection"),
        }
    }

    /// ACPI power button, wait up to `grace` for the guest to power off, then QMP quit, then SIGKILL.
    /// Returns true when the guest shut down by itself (clean).
    pub async fn shutdown(&mut self, grace: Duration) -> bool {
        if self.exited().is_some() {
            return true;
        }
        if let Some(q) = self.qmp.as_mut() {
            let _ = q.execute("system_powerdown", None).await;
        }
        if self.wait_exit(grace).await.is_some() {
            return true;
        }
        tracing::warn!("{}: guest did not power off within {:?}; quitting QEMU", self.spec.name, grace);
        if let Some(q) = self.qmp.as_mut() {
            let _ = q.execute("quit", None).await;
        }
        if self.wait_exit(Duration::from_secs(5)).await.is_none() {
            self.kill().await;
        }
        false
    }

    pub async fn kill(&mut self) {
        self.proc.kill_group();
        let _ = self.wait_exit(Duration::from_secs(5)).await;
    }

    /// Leave QEMU running after we return (debugging with `--on-error keep`, lab VMs).
    pub fn detach(mut self) -> i32 {
        self.proc.disarm();
        self.proc.pid
    }
}

fn qemu_stderr(spec: &VmSpec) -> String {
    std::fs::read_to_string(spec.stderr_path()).unwrap_or_default().lines().filter(|l| !l.starts_with("$ ")).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod socket_tests {
    use super::socket_path;
    use std::path::PathBuf;

    #[test]
    fn long_socket_paths_get_a_short_stable_stand_in() {
        let short = PathBuf::from("/var/tmp/x/build.qmp");
        assert_eq!(socket_path(short.clone()), short);
        let long = PathBuf::from(format!("/var/tmp/{}/images/debian12-server/9dd5533051ff191f.partial/build.qmp", "d".repeat(60)));
        let s = socket_path(long.clone());
        assert!(s.as_os_str().len() < 108 && s.extension().unwrap() == "qmp", "{}", s.display());
        assert_eq!(socket_path(long.clone()), s, "the same path maps to the same socket");
        assert_ne!(socket_path(long.with_file_name("other.qmp")), s);
        // a real socket binds there
        let l = std::os::unix::net::UnixListener::bind(&s).unwrap();
        drop(l);
        std::fs::remove_file(&s).unwrap();
    }
}
