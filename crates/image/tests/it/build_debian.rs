//! End to end, real everything: build debian12-server from mmdebstrap (rootfs source) under QEMU,
//! a second build that must be a cache hit, an overlay variant that applies a role through the role
//! engine, then a lab of 2 VMs booted from it by GRUB (proves the bootloader), reachable over SSH,
//! pinging each other on the private network, and `lab down` leaving no QEMU behind.
use crate::common;
use mdxconf_image::guest::Guest;
use mdxconf_image::{build, BuildOptions};
use std::time::Duration;

fn opts(out: &std::path::Path) -> BuildOptions {
    BuildOptions { cache_dir: Some(common::cache_dir()), quiet: true, output_dir: Some(out.to_path_buf()), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debian12_build_cache_role_and_lab() {
    let _l = common::VM_LOCK.lock().await;
    let out = tempfile::tempdir().unwrap();
    let def = common::repo().join("images/debian12-server.yaml");

    // 1. the base image (built unless an identical build is in the test cache)
    let first = build(&def, &opts(out.path())).await.expect("debian12-server build");
    assert!(first.entry.is_complete());
    let rec = &first.record;
    assert_eq!(rec.name, "debian12-server");
    assert!(rec.kernels.iter().any(|k| k.ends_with("-amd64")), "kernels: {:?}", rec.kernels);
    assert!(rec.packages.contains_key("openssh-server") && rec.packages.contains_key("grub-pc"), "packages recorded");
    assert_eq!(rec.os_release.get("VERSION_CODENAME").map(String::as_str), Some("bookworm"));
    assert!(rec.dkms.contains_key(&rec.kernels[0]), "dkms status recorded per kernel");
    assert!(rec.durations.iter().any(|(s, _)| s == "generalize"), "{:?}", rec.durations);
    let qcow2 = out.path().join("debian12-server.qcow2");
    let info = std::process::Command::new("qemu-img").args(["info", "--output=json"]).arg(&qcow2).output().unwrap();
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["format"], "qcow2");
    assert!(info.get("backing-filename").is_none(), "exported qcow2 must be standalone: {info}");
    assert_eq!(info["virtual-size"].as_u64(), Some(8 << 30));

    // 2. unchanged definition => cache hit, nothing rebuilt
    let mtime = std::fs::metadata(first.entry.image()).unwrap().modified().unwrap();
    let second = build(&def, &opts(out.path())).await.expect("second build");
    assert!(second.cached, "second build must be a cache hit");
    assert_eq!(second.entry.dir, first.entry.dir);
    assert_eq!(std::fs::metadata(second.entry.image()).unwrap().modified().unwrap(), mtime, "cached image untouched");

    // 3. overlay variant with a role applied by the role engine
    let variant = build(&common::fixtures().join("debian12-role.yaml"), &opts(out.path())).await.expect("variant build");
    assert_eq!(variant.record.base.as_ref().map(|b| b.name.as_str()), Some("debian12-server"));
    let stage_info = std::process::Command::new("qemu-img").args(["info", "--output=json"]).arg(variant.entry.stage()).output().unwrap();
    let stage_info: serde_json::Value = serde_json::from_slice(&stage_info.stdout).unwrap();
    assert_eq!(stage_info["full-backing-filename"].as_str().map(std::path::PathBuf::from), Some(first.entry.stage()), "variant overlays the base's stage disk");
    assert!(variant.record.provision.is_some(), "provision summary recorded");

    // 3b. the same variant with other outputs, description and VM size: the disk is not rebuilt (outputs
    // are not part of its cache key) and the new output is produced from the cached disk
    let moved = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::fixtures().join("debian12-role.yaml")).unwrap();
    let text = text
        .replace("base: ../../../../images/debian12-server.yaml", &format!("base: {}", def.display()))
        .replace("outputs: [qcow2]", "outputs: [raw]\ndescription: same disk, other outputs")
        .replace("cpus: 2", "cpus: 1");
    assert!(text.contains("outputs: [raw]") && text.contains(&def.display().to_string()), "fixture changed shape: {text}");
    std::fs::write(moved.path().join("debian12-role.yaml"), text).unwrap();
    let mut o = opts(out.path());
    o.roles_path = vec![common::fixtures().join("roles")];
    let variant_mtime = std::fs::metadata(variant.entry.image()).unwrap().modified().unwrap();
    let again = build(&moved.path().join("debian12-role.yaml"), &o).await.expect("variant with other outputs");
    assert!(again.cached, "changing outputs/description/cpus must not rebuild the disk");
    assert_eq!(again.entry.dir, variant.entry.dir);
    assert_eq!(std::fs::metadata(again.entry.image()).unwrap().modified().unwrap(), variant_mtime);
    let raw = out.path().join("debian12-role-test.raw");
    assert_eq!(again.outputs, vec![raw.clone()]);
    assert_eq!(std::fs::metadata(&raw).unwrap().len(), 8 << 30, "raw output of the cached disk");
    let _ = std::fs::remove_file(&raw);

    // 4. lab of 2 from the variant (booted by its own GRUB, key via systemd credential)
    let lab_dir = tempfile::tempdir().unwrap();
    let up = mdxconf_image::lab::UpOptions {
        count: 2,
        image: variant.entry.image().display().to_string(),
        memory: 512,
        cpus: 1,
        dir: lab_dir.path().to_path_buf(),
        cache_dir: Some(common::cache_dir()),
        ssh_timeout: Duration::from_secs(600),
        quiet: true,
    };
    let state = mdxconf_image::lab::up(&up).await.expect("lab up 2");
    let inv = std::fs::read_to_string(&state.inventory).unwrap();
    for v in &state.vms {
        assert!(inv.contains(&format!("{} ansible_host=127.0.0.1 ansible_port={}", v.name, v.ssh_port)), "{inv}");
        assert!(inv.contains(&format!("ethipv4={}", v.private_ip)));
    }
    let result = async {
        let mut host_keys = vec![];
        for (i, v) in state.vms.iter().enumerate() {
            let g = Guest::new(v.ssh_port, "root", state.key.clone(), state.known_hosts.clone());
            let marker = g.run("cat /etc/mdxconf-image-test").await?;
            anyhow::ensure!(marker.contains("provisioned by mdxconf image build") && marker.contains("distribution=Debian"), "role result: {marker}");
            // generalized: fresh machine-id and host keys per VM, no build key, no build id
            let mid = g.run("cat /etc/machine-id").await?;
            anyhow::ensure!(mid.trim().len() == 32, "machine-id regenerated: {mid}");
            host_keys.push((mid, g.run("cat /etc/ssh/ssh_host_ed25519_key.pub").await?));
            let ak = g.run("cat /root/.ssh/authorized_keys").await?;
            anyhow::ensure!(!ak.contains("mdxconf-build"), "build key removed: {ak}");
            anyhow::ensure!(g.exec("test -e /etc/mdxconf-build-id", None).await?.rc != 0, "build id removed");
            let other = &state.vms[1 - i];
            g.run(&format!("ping -c 2 -W 5 {}", other.private_ip)).await.map_err(|e| anyhow::anyhow!("{} cannot ping {}: {e}", v.name, other.private_ip))?;
        }
        anyhow::ensure!(host_keys[0].0 != host_keys[1].0, "machine-ids differ");
        anyhow::ensure!(host_keys[0].1 != host_keys[1].1, "SSH host keys regenerated per VM");
        anyhow::Ok(())
    }
    .await;
    let pids: Vec<i32> = state.vms.iter().map(|v| v.pid).collect();
    let down = mdxconf_image::lab::down(lab_dir.path(), Duration::from_secs(90)).await.expect("lab down");
    result.expect("lab checks");
    assert!(down.iter().all(|(_, s)| *s == "powered off"), "clean ACPI shutdown: {down:?}");
    for p in pids {
        assert!(!mdxconf_image::proc::pid_is_qemu(p), "QEMU {p} still running after lab down");
    }
    assert!(!lab_dir.path().join("lab.json").exists() && !lab_dir.path().join("vm1.qcow2").exists());
}
