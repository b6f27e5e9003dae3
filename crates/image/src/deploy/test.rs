//! `mdxconf image test`: deploy an exported template as its cloud would and check that a person can
//! use it. Three boots on one disk: the first boot of instance A; a reboot (same instance-id: cloud-init
//! must not redo its first boot); then the VM powered off and started with instance B's metadata (a
//! new instance-id: a fresh first boot). Checks: SSH as the default user with the key from the
//! metadata, host keys as the console printed them, the forced first-login password change and
//! `passwdinit` completing it, hostname, user-data, root file system grown to the deployed disk,
//! `cloud-init status` done without errors from the expected datasource, sudo, the cloud's disk
//! controller and NIC, the guest agent.
use super::options::{Cloud, DeployOptions, Metadata, StaticIpv4};
use super::report::{Check, TestReport};
use super::Deployment;
use crate::guest::Guest;
use anyhow::{bail, Context, Result};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct TestOptions {
    pub artifact: PathBuf,
    pub cloud: Option<Cloud>,
    /// Work directory (the VM's disk, seeds, console logs); default a temporary one, removed after.
    pub dir: Option<PathBuf>,
    /// Per boot: until the console shows the host keys and SSH answers.
    pub boot_timeout: Duration,
    pub cpus: Option<u32>,
    pub memory_mib: Option<u32>,
    /// Print each check as it finishes (stderr).
    pub progress: bool,
}

struct Recorder {
    checks: Vec<Check>,
    progress: bool,
}

impl Recorder {
    /// Runs one check; Ok((value, detail)) passes. Returns the value when it passed.
    async fn check<T>(&mut self, name: &str, f: impl Future<Output = Result<(T, String)>>) -> Option<T> {
        let start = Instant::now();
        let r = f.await;
        let seconds = start.elapsed().as_secs_f64();
        let (ok, detail, v) = match r {
            Ok((v, d)) => (true, d, Some(v)),
            Err(e) => (false, format!("{e:#}"), None),
        };
        if self.progress {
            eprintln!("  {} {name} ({seconds:.1}s){}", if ok { "ok  " } else { "FAIL" }, if ok { String::new() } else { format!(": {detail}") });
        }
        self.checks.push(Check { name: name.into(), ok, detail, seconds });
        v
    }
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A name cloud-init and DNS accept, from the artifact's file name.
fn host_label(artifact: &std::path::Path) -> String {
    let stem = artifact.file_stem().map(|s| s.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let s: String = stem.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    let s = s.trim_matches('-');
    let s = if s.is_empty() { "mdxvm" } else { s };
    s.chars().take(40).collect::<String>().trim_end_matches('-').to_string()
}

/// Run a command that must exit 0; its stdout.
async fn run(g: &Guest, cmd: &str) -> Result<String> {
    let o = g.exec(cmd, None).await?;
    if o.rc != 0 {
        bail!("`{cmd}` exited {}: {}{}", o.rc, o.stdout.trim(), o.stderr.trim());
    }
    Ok(o.stdout.trim().to_string())
}

/// Wait until the guest answers a command as `user` (after a boot); `true` must exit 0 unless
/// `expect_password_change`, where the forced change's refusal is the answer.
async fn wait_login(g: &Guest, timeout: Duration) -> Result<crate::guest::Output> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < timeout {
        match g.exec("true", None).await {
            Ok(o) => return Ok(o),
            Err(e) => {
                last = format!("{e:#}");
                g.close().await;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    bail!("no SSH login within {}s: {last}", timeout.as_secs())
}

/// Semaphores of cloud-init's per-instance modules (name and mtime): rewritten only when the first
/// boot runs again.
const SEMAPHORES: &str = "stat -c '%n %Y' /var/lib/cloud/instance/sem/config_* 2>/dev/null | sort";

pub async fn run_test(o: &TestOptions) -> Result<TestReport> {
    let started = Instant::now();
    let tmp = match &o.dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("mdxconf-image-test.").tempdir_in(std::env::temp_dir())?),
    };
    let dir = o.dir.clone().unwrap_or_else(|| tmp.as_ref().expect("temp dir").path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let key = dir.join("user_ed25519");
    let pubkey = crate::guest::ensure_key(&key, "mdxconf-image-test").await?;
    let lease = crate::qemu::ports::free_tcp_port()?;
    let label = host_label(&o.artifact);
    let run_id = random_hex(4);
    let metadata = |n: u32, ip: u8| Metadata {
        instance_id: format!("mdxconf-test-{run_id}-{n}"),
        hostname: format!("{}-{}", label.chars().take(40).collect::<String>(), if n == 1 { "a" } else { "b" }),
        public_keys: vec![pubkey.clone()],
        user_data: Some(format!("#cloud-config\nwrite_files:\n  - path: /etc/mdxconf-user-data\n    content: \"instance {n}\\n\"\n").into_bytes()),
        password: None,
        ipv4: Some(StaticIpv4::in_user_net(ip)),
    };
    let md1 = metadata(1, 50);
    let mut md1 = md1;
    let mut md2 = metadata(2, 51);
    let opts = DeployOptions {
        artifact: o.artifact.clone(),
        cloud: o.cloud,
        dir: dir.clone(),
        name: "vm".into(),
        ssh_addr: "127.0.0.1".into(),
        ssh_port: lease.port,
        grow_gib: 2,
        metadata: md1.clone(),
        cpus: o.cpus,
        memory_mib: o.memory_mib,
    };
    // bad input stops here, before anything boots
    let mut d = Deployment::prepare(opts).await?;
    if d.cloud == Cloud::Vsphere {
        // vSphere's OVF environment carries no network configuration: DHCP on the vmxnet3 NIC
        md1.ipv4 = None;
        md2.ipv4 = None;
    }
    let user = crate::image::cloud_init::CloudInit::default().user;
    let image_size = d.artifact.disk_size();
    let mut r = Recorder { checks: vec![], progress: o.progress };
    if o.progress {
        eprintln!("image test {} as {} would deploy it ({}):", o.artifact.display(), d.cloud.name(), d.accel.name());
    }
    let result = run_boots(&mut d, &mut r, &md1, &md2, &user, &key, image_size, o.boot_timeout).await;
    d.power_off(Duration::from_secs(60)).await;
    if let Err(e) = result {
        r.checks.push(Check { name: "test aborted".into(), ok: false, detail: format!("{e:#}"), seconds: 0.0 });
    }
    drop(lease);
    let passed = r.checks.iter().all(|c| c.ok);
    Ok(TestReport { artifact: o.artifact.display().to_string(), cloud: d.cloud, passed, seconds: started.elapsed().as_secs_f64(), checks: r.checks })
}

#[allow(clippy::too_many_arguments)]
async fn run_boots(d: &mut Deployment, r: &mut Recorder, md1: &Metadata, md2: &Metadata, user: &str, key: &std::path::Path, image_size: u64, timeout: Duration) -> Result<()> {
    let cloud = d.cloud;
    if let super::artifact::Artifact::Ova { ovf, .. } = &d.artifact {
        let ovf = ovf.clone();
        r.check("OVF vApp options for cloud-init", async move {
            let keys: Vec<&str> = ovf.properties.iter().map(|p| p.0.as_str()).collect();
            for k in mdxconf_ova::vapp::CLOUD_INIT_KEYS {
                if !keys.contains(k) {
                    bail!("the OVF does not declare the `{k}` property (declares: {keys:?})");
                }
            }
            if !ovf.transports.iter().any(|t| t == "iso") || !ovf.has_cdrom {
                bail!("the OVF has no iso transport with a CD-ROM (transports {:?}): vSphere would not hand the VM its options", ovf.transports);
            }
            Ok(((), format!("{} over {}", keys.join(", "), ovf.transports.join(" + "))))
        })
        .await;
    }

    for n in d.notes.clone() {
        r.check("emulation note", async move { Ok(((), n)) }).await;
    }
    // boot 1: instance A's first boot
    d.boot(md1).await?;
    let keys_a = r
        .check("first boot: host keys on the console", async {
            let k = d.learn_host_keys(0, timeout).await?;
            let n = k.len();
            Ok((k, format!("{n} keys")))
        })
        .await;
    let Some(keys_a) = keys_a else { bail!("the VM never finished its first boot") };
    let g = d.guest(user, key.to_path_buf());
    let first = r
        .check(&format!("SSH as {user} with the key from the metadata"), async {
            let o = wait_login(&g, timeout).await?;
            Ok((o, "key accepted, host key as the console showed".to_string()))
        })
        .await;
    let Some(first) = first else { bail!("cannot log in") };
    r.check("password must be set at first login", async {
        let text = format!("{}{}", first.stdout, first.stderr);
        if first.rc == 0 {
            bail!("a command ran without the forced password change");
        }
        if !text.to_ascii_lowercase().contains("password") {
            bail!("the login failed, but not for the password change (rc {}): {}", first.rc, text.trim());
        }
        Ok(((), text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" / ")))
    })
    .await;
    g.close().await;
    let new_password = format!("Mdx-{}-Tq7!", random_hex(6));
    let target = mdxconf_portal::passwdinit::Target { name: "vm".into(), address: d.opts.ssh_addr.clone(), port: Some(d.opts.ssh_port) };
    let pw_opts = mdxconf_portal::passwdinit::PasswdInitOptions {
        method: mdxconf_portal::passwdinit::Method::Prompt,
        user: user.into(),
        for_user: user.into(),
        new_password: new_password.clone(),
        current_password: None,
        timeout: Duration::from_secs(60),
        ssh_args: vec![],
        identity_files: vec![key.to_path_buf()],
        known_hosts: Some(d.known_hosts.clone()),
        accept_new_host_keys: false,
    };
    r.check("mdxconf passwdinit sets the password", async {
        let (t, po) = (target.clone(), pw_opts.clone());
        tokio::task::spawn_blocking(move || mdxconf_portal::passwdinit::set_by_prompt(&t, &po)).await?.map_err(|e| anyhow::anyhow!(e))?;
        run(&g, "true").await.context("a command after the password was set")?;
        let last = run(&g, &format!("chage -l {user} | sed -n 1p")).await?;
        Ok(((), last))
    })
    .await;
    r.check("hostname from the metadata", async {
        let h = run(&g, "hostname").await?;
        if h != md1.hostname {
            bail!("hostname is {h:?}, the metadata says {:?}", md1.hostname);
        }
        Ok(((), h))
    })
    .await;
    r.check("user-data ran", async {
        let t = run(&g, "cat /etc/mdxconf-user-data").await?;
        if t != "instance 1" {
            bail!("/etc/mdxconf-user-data says {t:?}");
        }
        Ok(((), "write_files from the user-data".into()))
    })
    .await;
    r.check("root file system grown to the deployed disk", async {
        let size: u64 = run(&g, "df -B1 --output=size / | tail -1").await?.trim().parse().context("df output")?;
        if size <= image_size {
            bail!("/ is {} MiB, not more than the image's {} MiB disk (the deployed disk is {} GiB larger)", size >> 20, image_size >> 20, 2);
        }
        Ok(((), format!("/ is {} MiB on a {} MiB image", size >> 20, image_size >> 20)))
    })
    .await;
    let expected_ds = if cloud == Cloud::Vsphere { "OVF" } else { "ConfigDrive" };
    r.check("cloud-init done, no errors", async {
        let _ = g.exec("cloud-init status --wait >/dev/null 2>&1", None).await?;
        let status = run(&g, "cloud-init status --long 2>&1 | head -3 | tr '\\n' ' '").await.unwrap_or_default();
        let result = run(&g, "cat /run/cloud-init/result.json").await?;
        let v: serde_json::Value = serde_json::from_str(&result).context("/run/cloud-init/result.json")?;
        let errors = v.pointer("/v1/errors").and_then(|e| e.as_array()).cloned().unwrap_or_default();
        let ds = v.pointer("/v1/datasource").and_then(|s| s.as_str()).unwrap_or_default().to_string();
        if !errors.is_empty() {
            bail!("cloud-init errors: {errors:?}");
        }
        if !ds.contains(expected_ds) {
            bail!("datasource {ds:?}, expected {expected_ds}");
        }
        if !status.contains("done") {
            bail!("cloud-init status: {status}");
        }
        Ok(((), format!("{} ({ds})", status.trim())))
    })
    .await;
    r.check(&format!("sudo as {user}"), async {
        let who = run(&g, "sudo -n id -un").await?;
        if who != "root" {
            bail!("sudo -n id -un printed {who:?}");
        }
        Ok(((), "passwordless sudo".into()))
    })
    .await;
    // (sysfs bus, driver) of the root disk's controller and the NIC driver each cloud gives
    let (bus, drv) = match d.disk_bus() {
        crate::qemu::DiskBus::Nvme => ("pci", "nvme"),
        crate::qemu::DiskBus::Pvscsi => ("pci", "vmw_pvscsi"),
        crate::qemu::DiskBus::Virtio => ("virtio", "virtio_blk"),
    };
    let nic = if cloud == Cloud::Vsphere { "vmxnet3" } else { "virtio_net" };
    r.check("root disk on the cloud's controller", async {
        let src = run(&g, "findmnt -no SOURCE /").await?;
        let bound = run(&g, &format!("ls /sys/bus/{bus}/drivers/{drv}/ 2>/dev/null | grep -c -E ':|^virtio' || true")).await?;
        if bound.trim() == "0" || bound.trim().is_empty() {
            bail!("no device bound to the {drv} driver (root on {src})");
        }
        Ok(((), format!("/ on {src}, {drv} driver")))
    })
    .await;
    r.check("initramfs holds the storage drivers of both clouds", async {
        let found = run(&g, "lsinitramfs /boot/initrd.img-$(uname -r) | grep -oE '/(vmw_pvscsi|nvme|virtio_blk|virtio_scsi)\\.ko' | sort -u | tr '\\n' ' '").await?;
        let builtin =
            run(&g, "grep -oE '/(vmw_pvscsi|nvme|virtio_blk|virtio_scsi)\\.ko' /lib/modules/$(uname -r)/modules.builtin | sort -u | tr '\\n' ' '").await.unwrap_or_default();
        let all = format!("{found} {builtin}");
        let missing: Vec<&str> = ["vmw_pvscsi", "nvme", "virtio_blk", "virtio_scsi"].into_iter().filter(|m| !all.contains(&format!("/{m}.ko"))).collect();
        if !missing.is_empty() {
            bail!("the initramfs of the running kernel lacks {missing:?} (has: {all})");
        }
        Ok(((), "vmw_pvscsi, nvme, virtio_blk, virtio_scsi".into()))
    })
    .await;
    let want_ip = md1.ipv4.clone();
    r.check("network on the cloud's NIC", async {
        let iface = run(&g, "ip -4 route show default | awk '{print $5; exit}'").await?;
        let driver = run(&g, &format!("basename \"$(readlink -f /sys/class/net/{iface}/device/driver)\"")).await?;
        if driver != nic {
            bail!("default route via {iface} ({driver}), expected a {nic} NIC");
        }
        let addrs = run(&g, &format!("ip -4 -o addr show dev {iface} | awk '{{print $4}}'")).await?;
        match &want_ip {
            Some(ip) if !addrs.lines().any(|a| a == format!("{}/{}", ip.address, ip.prefix)) => {
                bail!("{iface} has {addrs:?}, the metadata's static address is {}/{}", ip.address, ip.prefix)
            }
            Some(ip) => Ok(((), format!("{iface} ({driver}) static {}/{} from network_data.json", ip.address, ip.prefix))),
            None => Ok(((), format!("{iface} ({driver}) DHCP {}", addrs.replace('\n', " ")))),
        }
    })
    .await;
    match cloud {
        Cloud::Openstack => {
            r.check("QEMU guest agent answers", async {
                d.guest_agent_ping(Duration::from_secs(90)).await?;
                Ok(((), "guest-ping over org.qemu.guest_agent.0".into()))
            })
            .await
        }
        Cloud::Vsphere => {
            r.check("open-vm-tools installed for vSphere", async {
                let st = run(&g, "systemctl is-enabled open-vm-tools.service").await?;
                Ok(((), format!("open-vm-tools.service {st} (it starts on VMware only)")))
            })
            .await
        }
    };
    let boot_id = run(&g, "cat /proc/sys/kernel/random/boot_id").await.unwrap_or_default();
    let sems = run(&g, SEMAPHORES).await.unwrap_or_default();

    // boot 2: a reboot, same instance-id
    let _ = g.exec("sudo -n systemctl reboot", None).await;
    g.close().await;
    r.check("reboot, same instance-id: first boot not redone", async {
        let start = Instant::now();
        loop {
            if start.elapsed() > timeout {
                bail!("the VM did not come back within {}s", timeout.as_secs());
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
            match g.exec("cat /proc/sys/kernel/random/boot_id", None).await {
                Ok(o) if o.rc == 0 && !o.stdout.trim().is_empty() && o.stdout.trim() != boot_id => break,
                Ok(_) => {}
                Err(e) if format!("{e:#}").to_ascii_lowercase().contains("host key") => bail!("the host key changed across a reboot: {e:#}"),
                Err(_) => g.close().await,
            }
        }
        let _ = g.exec("cloud-init status --wait >/dev/null 2>&1", None).await;
        let now = run(&g, SEMAPHORES).await?;
        if now != sems {
            bail!("per-instance modules ran again:\nbefore: {sems}\nafter: {now}");
        }
        let h = run(&g, "hostname").await?;
        if h != md1.hostname {
            bail!("hostname {h:?} after the reboot");
        }
        Ok(((), "same host keys, hostname, password; per-instance semaphores untouched".into()))
    })
    .await;
    g.close().await;

    // boot 3: powered off, started with instance B's metadata
    if !d.power_off(Duration::from_secs(120)).await {
        bail!("the VM did not power off on ACPI shutdown");
    }
    d.boot(md2).await?;
    let keys_b = r
        .check("new instance-id: first boot runs again (new host keys)", async {
            let k = d.learn_host_keys(0, timeout).await?;
            if k.iter().any(|x| keys_a.contains(x)) {
                bail!("the console shows the old host keys");
            }
            Ok((k, "cloud-init printed new host keys".into()))
        })
        .await;
    if keys_b.is_none() {
        bail!("instance B never finished its first boot");
    }
    let g = d.guest(user, key.to_path_buf());
    r.check("new instance: hostname, instance-id, password kept", async {
        let o = wait_login(&g, timeout).await?;
        if o.rc != 0 {
            bail!("login as {user} after the new instance's boot: {}{}", o.stdout, o.stderr);
        }
        let _ = g.exec("cloud-init status --wait >/dev/null 2>&1", None).await;
        let h = run(&g, "hostname").await?;
        let iid = run(&g, "cat /var/lib/cloud/data/instance-id").await?;
        if h != md2.hostname || iid != md2.instance_id {
            bail!("hostname {h:?} and instance-id {iid:?}, the metadata says {:?} and {:?}", md2.hostname, md2.instance_id);
        }
        let ud = run(&g, "cat /etc/mdxconf-user-data").await?;
        if ud != "instance 2" {
            bail!("user-data of instance B not applied: {ud:?}");
        }
        Ok(((), format!("{h}, {iid}")))
    })
    .await;
    g.close().await;
    Ok(())
}
