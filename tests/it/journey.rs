//! The whole user journey, as README's "Using it" shows it, with the real CLI:
//! a template maintainer builds the default template (images/debian12-server.yaml, from the test cache
//! when unchanged), exports it for both clouds and proves each export with `image test` (booted as
//! vSphere and as OpenStack would); a project user then gets two VMs (one from the OVA, one from the
//! OpenStack image, deployed as each cloud would), downloads the portal's VM list (written here as the
//! portal writes it), makes an inventory with `inventory from-csv`, sets the first-login password with
//! `passwdinit`, and applies playbooks/common.yml (the common role) twice: the second run changes nothing.
//! Host keys are never taken on trust: they come from the VMs' consoles.
//!
//! Run: cargo test --profile ci --test it -- --ignored --nocapture journey:: (scripts/test.sh does, with
//! MDXCONF_CACHE set to the test cache; about 12 minutes under TCG).
use crate::support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;
use support::text;

fn run(what: &str, c: &mut Command) -> String {
    let started = Instant::now();
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    eprintln!("journey: {what}: {:.0}s", started.elapsed().as_secs_f64());
    assert!(out.status.success(), "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}", out.status, text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

/// `mdxconf` with HOME set to the project user's home (their ~/.ssh).
fn mdxconf(home: &Path) -> Command {
    let mut c = support::mdxconf();
    c.env("HOME", home);
    c
}

#[test]
#[ignore = "boots 8 QEMU VMs (about 12 minutes under TCG); run by scripts/test.sh"]
fn from_template_build_to_a_configured_project() {
    let work = tempfile::Builder::new().prefix("journey-").tempdir_in(std::env::var("CARGO_TARGET_TMPDIR").unwrap_or_else(|_| "/tmp".into())).unwrap();
    let w = work.path();
    let out = w.join("output");
    let home = w.join("home");
    std::fs::create_dir_all(home.join(".ssh")).unwrap();

    // 1. the template, for both clouds
    run("image build images/debian12-server.yaml", mdxconf(&home).args(["image", "build", "images/debian12-server.yaml", "--quiet", "--output-dir"]).arg(&out));
    let ova = out.join("debian12-server.ova");
    let os_image = out.join("debian12-server-openstack.qcow2");
    run("ova verify", mdxconf(&home).args(["ova", "verify"]).arg(&ova));
    let glance: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("debian12-server-openstack.json")).unwrap()).unwrap();
    assert_eq!(glance["properties"]["hw_qemu_guest_agent"], "yes", "{glance}");
    assert!(glance["command_line"].as_str().unwrap().starts_with("openstack image create --disk-format qcow2 --container-format bare"), "{glance}");

    // 2. each export deployed as its cloud would, and checked
    for artifact in [&ova, &os_image] {
        let json = run(&format!("image test {}", artifact.display()), mdxconf(&home).args(["image", "test", "--format", "json"]).arg(artifact));
        let report: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("image test JSON: {e}\n{json}"));
        let failed: Vec<String> = report["checks"].as_array().unwrap().iter().filter(|c| c["ok"] != true).map(|c| format!("{}: {}", c["name"], c["detail"])).collect();
        assert!(report["passed"] == true && failed.is_empty(), "image test {} failed: {failed:#?}", artifact.display());
        assert!(report["checks"].as_array().unwrap().len() >= 15, "{report}");
    }

    // 3. the project user's VMs: one on each cloud
    let key = home.join(".ssh/id_ed25519");
    let kg = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "project-user", "-f"]).arg(&key).output().unwrap();
    assert!(kg.status.success());
    let lab = w.join("vms");
    let known_hosts = home.join(".ssh/known_hosts");
    let vms = [("journey-vm1", &ova, "127.0.0.71"), ("journey-vm2", &os_image, "127.0.0.72")];
    for (name, artifact, addr) in vms {
        let mut c = mdxconf(&home);
        c.args(["image", "deploy"]).arg(artifact).args(["--name", name, "--ssh-addr", addr, "--ssh-port", "2222", "--public-key"]).arg(key.with_extension("pub"));
        c.arg("--dir").arg(&lab).arg("--known-hosts").arg(&known_hosts);
        run(&format!("image deploy {name}"), &mut c);
    }
    let result = std::panic::catch_unwind(|| {
        // 4. the portal's VM list (UTF-8 with BOM, as downloaded) -> inventory
        let csv = w.join("vms.csv");
        let mut body = String::from("\u{feff}VM_NAME,VM_STATUS,PACK_TYPE,PACK_NUM,SERVICE_NET_1_IPv4,SERVICE_NET_1_IPv6,STORAGE_NET_1_IPv4,STORAGE_NET_1_IPv6,COMMENT\n");
        for (name, _, addr) in vms {
            body.push_str(&format!("{name},Power ON,CPU,1,{addr},,,,journey\n"));
        }
        std::fs::write(&csv, body).unwrap();
        let inv = w.join("hosts.ini");
        run("inventory from-csv", mdxconf(&home).args(["inventory", "from-csv"]).arg(&csv).args(["--group-var", "default", "ansible_port=2222", "-o"]).arg(&inv));
        let inv_text = std::fs::read_to_string(&inv).unwrap();
        assert!(inv_text.contains("journey-vm1 ansible_host=127.0.0.71") && inv_text.contains("journey-vm2 ansible_host=127.0.0.72"), "{inv_text}");

        // 5. first login: the password every VM asks for
        let mut c = mdxconf(&home);
        c.args(["passwdinit"]).arg(&inv).args(["--password-stdin", "-i"]).arg(&key);
        c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"Journey-pw-2026!x\n").unwrap();
        }
        let o = child.wait_with_output().unwrap();
        let said = text(&o.stdout);
        assert!(o.status.success() && said.contains("journey-vm1: Success") && said.contains("journey-vm2: Success"), "passwdinit:\n{said}\n{}", text(&o.stderr));

        // 6. the project's configuration, twice
        let apply = |what: &str| {
            let mut c = mdxconf(&home);
            c.args(["apply", "playbooks/common.yml", "--format", "json", "-i"]).arg(&inv);
            let started = Instant::now();
            let o = c.output().unwrap();
            let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e}):\n{}\n{}", text(&o.stdout), text(&o.stderr)));
            eprintln!("journey: {what}: {:.0}s", started.elapsed().as_secs_f64());
            assert!(o.status.success(), "{what} failed:\n{json:#}\n{}", text(&o.stderr));
            let changed: u64 = json["recap"].as_object().unwrap().values().map(|h| h["changed"].as_u64().unwrap_or(0)).sum();
            (json, changed)
        };
        let (first, changed) = apply("apply playbooks/common.yml");
        assert!(changed > 0, "the first run changed nothing: {first:#}");
        assert_eq!(first["recap"].as_object().unwrap().len(), 2, "both VMs configured: {first:#}");
        let (second, changed) = apply("apply playbooks/common.yml again");
        assert_eq!(changed, 0, "the second run must change nothing: {second:#}");
        // the common role named each VM after the inventory
        for (name, _, addr) in vms {
            let o = Command::new("ssh")
                .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-p", "2222", "-i"])
                .arg(&key)
                .arg("-o")
                .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
                .arg(format!("mdxuser@{addr}"))
                .arg("hostname; grep -c journey /etc/hosts")
                .output()
                .unwrap();
            let said = text(&o.stdout);
            assert!(o.status.success() && said.starts_with(&format!("{name}\n")) && said.trim_end().ends_with('2'), "{name}: {said}{}", text(&o.stderr));
        }
    });
    let down = mdxconf(&home).args(["lab", "down", "--dir"]).arg(&lab).output().unwrap();
    eprintln!("journey: lab down: {}", text(&down.stdout).trim());
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
    assert!(down.status.success(), "{}", text(&down.stderr));
}
