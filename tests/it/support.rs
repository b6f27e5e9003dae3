//! Shared by the role tests (roles_lab.rs, roles_gpu.rs): a `mdxconf lab` of real QEMU
//! VMs, `mdxconf apply` runs parsed from `--format json`, and SSH into the guests.
//! (A module of the one test binary, tests/it/main.rs.)
#![allow(dead_code)]
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn mdxconf() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mdxconf"));
    c.current_dir(repo());
    c
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_checked(mut c: Command, what: &str) -> Output {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(out.status.success(), "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}", out.status, text(&out.stdout), text(&out.stderr));
    out
}

/// The lab image: MDXCONF_LAB_IMAGE (a file or a built image name), else images/debian12-lab.yaml
/// built (or taken from the cache) with `mdxconf image build`.
pub fn lab_image() -> String {
    if let Ok(i) = std::env::var("MDXCONF_LAB_IMAGE") {
        return i;
    }
    let mut c = mdxconf();
    c.args(["image", "build", "images/debian12-lab.yaml", "--quiet"]);
    run_checked(c, "mdxconf image build images/debian12-lab.yaml");
    "debian12-lab".into()
}

#[derive(Debug, Clone)]
pub struct Vm {
    pub name: String,
    pub ssh_port: u16,
    pub private_ip: String,
}

/// VMs booted by `mdxconf lab up`; `lab down` when dropped.
pub struct Lab {
    pub dir: tempfile::TempDir,
    pub vms: Vec<Vm>,
    /// The lab's own inventory text (hosts and connection settings)
    pub inventory_text: String,
}

impl Lab {
    pub fn up(count: usize, image: &str, memory_mib: u32) -> Lab {
        Lab::up_with_cpus(count, image, memory_mib, 1)
    }

    /// Like `up`, with `cpus` vCPUs per VM (TCG runs them on host threads, so compiles in the
    /// guest use both host cores).
    pub fn up_with_cpus(count: usize, image: &str, memory_mib: u32, cpus: u32) -> Lab {
        let base = std::env::var("CARGO_TARGET_TMPDIR").map(PathBuf::from).unwrap_or_else(|_| std::env::temp_dir());
        let dir = tempfile::Builder::new().prefix("roles-lab-").tempdir_in(base).unwrap();
        let mut c = mdxconf();
        c.args(["lab", "up", &count.to_string(), "--image", image, "--memory", &memory_mib.to_string(), "--cpus", &cpus.to_string()]);
        c.args(["--ssh-timeout", "1200", "--dir"]).arg(dir.path());
        let started = Instant::now();
        let up = c.output().expect("run mdxconf lab up");
        let lab_inv = dir.path().join("inventory.ini");
        if !up.status.success() {
            let _ = mdxconf().args(["lab", "down", "--dir"]).arg(dir.path()).output();
            panic!("mdxconf lab up failed:\n{}\n{}", text(&up.stdout), text(&up.stderr));
        }
        eprintln!("lab: {count} VMs up in {:?}", started.elapsed());
        let inventory_text = std::fs::read_to_string(&lab_inv).expect("lab inventory");
        let vms = parse_lab_inventory(&inventory_text);
        assert_eq!(vms.len(), count, "lab inventory:\n{inventory_text}");
        Lab { dir, vms, inventory_text }
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("id_ed25519")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// Write an inventory: the lab's hosts in group `default` plus `groups` (name -> member VM
    /// indexes) and `[all:vars]` lines.
    pub fn inventory(&self, file: &str, groups: &[(&str, &[usize])], all_vars: &[(&str, &str)]) -> PathBuf {
        let mut s = self.inventory_text.clone();
        s.push_str("\n[default:children]\nlab\n");
        for (g, members) in groups {
            s.push_str(&format!("\n[{g}]\n"));
            for i in *members {
                s.push_str(&format!("{}\n", self.vms[*i].name));
            }
        }
        s.push_str("\n[all:vars]\n");
        for (k, v) in all_vars {
            s.push_str(&format!("{k}={v}\n"));
        }
        let p = self.dir.path().join(file);
        std::fs::write(&p, s).unwrap();
        p
    }

    /// Run a shell command as `user` on VM `i` over SSH with `key` (root: the lab key).
    pub fn ssh_as(&self, i: usize, user: &str, key: &Path, cmd: &str) -> Output {
        Command::new("ssh")
            .args(["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=60", "-o", "LogLevel=ERROR"])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", self.known_hosts().display()))
            .arg("-i")
            .arg(key)
            .args(["-p", &self.vms[i].ssh_port.to_string(), &format!("{user}@127.0.0.1"), cmd])
            .output()
            .expect("run ssh")
    }

    pub fn ssh(&self, i: usize, cmd: &str) -> Output {
        self.ssh_as(i, "root", &self.key(), cmd)
    }

    /// Root command that must succeed; returns stdout.
    pub fn sh(&self, i: usize, cmd: &str) -> String {
        let out = self.ssh(i, cmd);
        assert!(out.status.success(), "{} `{cmd}` failed ({}):\n{}\n{}", self.vms[i].name, out.status, text(&out.stdout), text(&out.stderr));
        text(&out.stdout)
    }

    /// Poll a root command until it succeeds.
    pub fn wait_for(&self, i: usize, cmd: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let out = self.ssh(i, cmd);
            if out.status.success() {
                return text(&out.stdout);
            }
            assert!(Instant::now() < deadline, "{}: `{cmd}` still failing after {timeout:?}:\n{}\n{}", self.vms[i].name, text(&out.stdout), text(&out.stderr));
            std::thread::sleep(Duration::from_secs(5));
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if std::env::var_os("MDXCONF_KEEP_LAB").is_some() {
            eprintln!("MDXCONF_KEEP_LAB set: lab left running in {}", self.dir.path().display());
            let _ = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap()).keep();
            return;
        }
        let _ = mdxconf().args(["lab", "down", "--grace", "20", "--dir"]).arg(self.dir.path()).output();
    }
}

pub fn parse_lab_inventory(text: &str) -> Vec<Vm> {
    text.lines()
        .filter(|l| l.contains("ansible_port="))
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap().to_string();
            let vars: BTreeMap<&str, &str> = words.filter_map(|w| w.split_once('=')).collect();
            Vm { name, ssh_port: vars["ansible_port"].parse().unwrap(), private_ip: vars.get("ethipv4").copied().unwrap_or_default().to_string() }
        })
        .collect()
}

/// One `mdxconf apply --format json` run.
#[derive(Debug)]
pub struct ApplyRun {
    pub json: Value,
    pub code: i32,
    pub stderr: String,
}

impl ApplyRun {
    fn results(&self) -> Vec<&Value> {
        self.json["results"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
    }

    fn with_status(&self, status: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .results()
            .into_iter()
            .filter(|r| r["status"].as_str().map(|s| s.eq_ignore_ascii_case(status)).unwrap_or(false))
            .map(|r| format!("{} | {} | {}", r["host"].as_str().unwrap_or(""), r["play"].as_str().unwrap_or(""), r["task"].as_str().unwrap_or("")))
            .collect();
        v.sort();
        v
    }

    /// "host | play | task" of every changed result, sorted (loops: one entry per changed item).
    pub fn changed(&self) -> Vec<String> {
        self.with_status("changed")
    }

    pub fn failures(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .results()
            .into_iter()
            .filter(|r| {
                let s = r["status"].as_str().unwrap_or("");
                (s.eq_ignore_ascii_case("failed") && !r["ignored"].as_bool().unwrap_or(false)) || s.eq_ignore_ascii_case("unreachable")
            })
            .map(|r| {
                let mut f = format!("{} | {} | {}", r["host"].as_str().unwrap_or(""), r["task"].as_str().unwrap_or(""), r["msg"].as_str().unwrap_or(""));
                // a failed command's own words, so a failure after an hour-long run can be understood
                for k in ["rc", "stdout", "stderr"] {
                    match &r["result"][k] {
                        Value::Null => {}
                        Value::String(t) if t.is_empty() => {}
                        Value::String(t) => f.push_str(&format!("\n  {k}: {}", t.chars().rev().take(2000).collect::<String>().chars().rev().collect::<String>())),
                        v => f.push_str(&format!("\n  {k}: {v}")),
                    }
                }
                f
            })
            .collect();
        v.sort();
        v
    }

    pub fn total_changed(&self) -> u64 {
        self.json["recap"].as_object().map(|m| m.values().map(|h| h["changed"].as_u64().unwrap_or(0)).sum()).unwrap_or(0)
    }
}

pub fn apply(playbook: &str, inventory: &Path, extra: &[String], check: bool) -> ApplyRun {
    apply_with(playbook, inventory, extra, if check { &["--check"] } else { &[] })
}

/// `mdxconf apply --format json` with extra vars and other flags (`--check`, `--diff`, …).
pub fn apply_with(playbook: &str, inventory: &Path, extra: &[String], flags: &[&str]) -> ApplyRun {
    let check = flags.contains(&"--check");
    let mut c = mdxconf();
    c.args(["apply", playbook, "--format", "json", "-i"]).arg(inventory);
    for e in extra {
        c.args(["-e", e]);
    }
    c.args(flags);
    let started = Instant::now();
    let out = c.output().expect("run mdxconf apply");
    let stdout = text(&out.stdout);
    let json: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("apply {playbook}{}: output is not JSON ({e}):\n{stdout}\n{}", if check { " --check" } else { "" }, text(&out.stderr)));
    eprintln!(
        "apply {playbook}{}: {:?}, {} changed",
        if check { " --check" } else { "" },
        started.elapsed(),
        json["recap"].as_object().map(|m| m.values().map(|h| h["changed"].as_u64().unwrap_or(0)).sum::<u64>()).unwrap_or(0)
    );
    ApplyRun { json, code: out.status.code().unwrap_or(-1), stderr: text(&out.stderr) }
}

/// The cycle every role test goes through: `--check` first, then a real run that must make exactly
/// the predicted changes, then a second real run that must change nothing.
pub fn apply_twice_with_check(playbook: &str, inventory: &Path, extra: &[String]) -> ApplyRun {
    let check = apply(playbook, inventory, extra, true);
    assert!(check.failures().is_empty(), "{playbook} --check failed:\n{:#?}\n{}", check.failures(), check.stderr);
    let first = apply(playbook, inventory, extra, false);
    assert!(first.failures().is_empty() && first.code == 0, "{playbook} first run failed (exit {}):\n{:#?}\n{}", first.code, first.failures(), first.stderr);
    assert_eq!(check.changed(), first.changed(), "{playbook}: --check predicted (left) other changes than the first run made (right)");
    assert!(first.total_changed() > 0, "{playbook}: the first run changed nothing, so the test proves nothing");
    let second = apply(playbook, inventory, extra, false);
    assert!(second.failures().is_empty() && second.code == 0, "{playbook} second run failed:\n{:#?}\n{}", second.failures(), second.stderr);
    assert_eq!(second.changed(), Vec::<String>::new(), "{playbook}: the second run must change nothing");
    first
}

impl Lab {
    /// Grow VM `i`'s disk to `gib` GiB while it runs (QMP block_resize on the lab's drive `disk0`),
    /// then its root partition and ext4 file system, for roles that install GBs (cuda).
    pub fn grow_disk(&self, i: usize, gib: u64) {
        use std::io::{BufRead, BufReader, Write};
        let state: Value = serde_json::from_slice(&std::fs::read(self.dir.path().join("lab.json")).expect("lab.json")).expect("lab.json is JSON");
        let qmp = state["vms"][i]["qmp"].as_str().expect("qmp socket in lab.json").to_string();
        let sock = std::os::unix::net::UnixStream::connect(&qmp).unwrap_or_else(|e| panic!("QMP {qmp}: {e}"));
        sock.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut w = sock.try_clone().unwrap();
        let mut r = BufReader::new(sock);
        let mut greeting = String::new();
        r.read_line(&mut greeting).unwrap();
        // one reply per command; events ({"event": ...}) in between are skipped
        let mut call = |cmd: Value| {
            writeln!(w, "{cmd}").unwrap();
            loop {
                let mut line = String::new();
                assert!(r.read_line(&mut line).unwrap() > 0, "QMP closed");
                let v: Value = serde_json::from_str(&line).unwrap();
                if v.get("return").is_some() {
                    return;
                }
                assert!(v.get("error").is_none(), "QMP {cmd}: {v}");
            }
        };
        call(serde_json::json!({"execute": "qmp_capabilities"}));
        call(serde_json::json!({"execute": "block_resize", "arguments": {"device": "disk0", "size": gib << 30}}));
        // sfdisk (package fdisk) rewrites the last partition's end; partx tells the kernel
        self.sh(
            i,
            "set -e; dev=$(findmnt -no SOURCE /); disk=/dev/$(lsblk -no pkname \"$dev\"); part=${dev##*[!0-9]}
             command -v sfdisk >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fdisk >/dev/null; }
             echo ', +' | sfdisk -q --no-reread --no-tell-kernel -N \"$part\" \"$disk\"
             partx -u \"$disk\"; resize2fs \"$dev\" >/dev/null 2>&1",
        );
    }
}
