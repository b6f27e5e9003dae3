//! Shared helpers: a real sshd fleet on 127.0.0.x, temp project dirs, and running the real CLI.
#![allow(dead_code)]
use mdxconf_testkit::SshdFleet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Project {
    pub fleet: Option<SshdFleet>,
    pub dir: tempfile::TempDir,
    pub inventory: PathBuf,
}

impl Project {
    /// `n` sshd hosts in group `web`, inventory with the fleet's known_hosts (strict checking).
    pub fn sshd(n: usize) -> Project {
        let fleet = SshdFleet::start(n).expect("start sshd fleet");
        let dir = tempfile::tempdir().unwrap();
        let mut inv = fleet.inventory_ini("web");
        inv.push_str(&format!("\n[web:vars]\nansible_ssh_common_args=\"-o UserKnownHostsFile={}\"\nwork={}\n", fleet.known_hosts.display(), dir.path().join("hosts").display()));
        let inventory = dir.path().join("inventory.ini");
        std::fs::write(&inventory, inv).unwrap();
        Project { fleet: Some(fleet), dir, inventory }
    }

    /// Hosts on the controller itself (ansible_connection=local), for pure-logic tests.
    pub fn local(names: &[&str]) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let mut inv = String::from("[web]\n");
        for n in names {
            inv.push_str(&format!("{n} ansible_connection=local\n"));
        }
        inv.push_str(&format!("\n[web:vars]\nwork={}\n", dir.path().join("hosts").display()));
        let inventory = dir.path().join("inventory.ini");
        std::fs::write(&inventory, inv).unwrap();
        Project { fleet: None, dir, inventory }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Write a file under the project dir (parents created).
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Per-host work dir (all hosts share this machine's filesystem).
    pub fn host_dir(&self, host: &str) -> PathBuf {
        self.dir.path().join("hosts").join(host)
    }

    /// Run `mdxconf-apply PLAYBOOK -i INVENTORY ARGS...`; returns (exit code, stdout, stderr).
    pub fn cli(&self, playbook: &str, args: &[&str]) -> (i32, String, String) {
        let t0 = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_mdxconf-apply"))
            .arg(self.path(playbook))
            .arg("-i")
            .arg(&self.inventory)
            .args(args)
            .env("MDXCONF_RETRY_DIR", self.dir.path())
            .env("HOME", self.dir.path()) // no ~/.ssh/config or known_hosts of the machine
            .output()
            .expect("run mdxconf-apply");
        eprintln!("mdxconf-apply {playbook} {args:?}: {:?}", t0.elapsed());
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
    }

    /// Run with `--format json` and parse the document.
    pub fn cli_json(&self, playbook: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
        let mut a = vec!["--format", "json"];
        a.extend_from_slice(args);
        let (code, out, err) = self.cli(playbook, &a);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{out}\nstderr:\n{err}"));
        (code, v, err)
    }
}

/// Sum of a recap counter over all hosts of a JSON document.
pub fn recap_total(doc: &serde_json::Value, key: &str) -> u64 {
    doc["recap"].as_object().unwrap().values().map(|s| s[key].as_u64().unwrap()).sum()
}

/// Results of one task name in a JSON document, as (host, status).
pub fn statuses(doc: &serde_json::Value, task: &str) -> Vec<(String, String)> {
    doc["results"].as_array().unwrap().iter().filter(|r| r["task"] == task).map(|r| (r["host"].as_str().unwrap().to_string(), r["status"].as_str().unwrap().to_string())).collect()
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}
