//! dnf with real RPMs: tiny noarch packages built by rpmbuild, served from createrepo_c
//! repositories (file://), installed into a temp `installroot` so this Debian host is not altered.
//! Needs Debian's `dnf`, `rpm` (rpmbuild) and `createrepo-c` packages (scripts/bootstrap.sh).
use crate::support::modules_support;
use modules_support::Host;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().is_ok_and(|o| o.status.success())
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Repos {
    dir: PathBuf,
}

impl Repos {
    /// Build `name-version-1.noarch.rpm` (one file, /usr/share/mdxtest/<name>) into repo `repo`
    /// and (re)generate that repo's metadata.
    fn add(&self, repo: &str, name: &str, version: &str) {
        let spec = self.dir.join(format!("{name}.spec"));
        std::fs::write(
            &spec,
            format!(
                "Name: {name}\nVersion: {version}\nRelease: 1\nSummary: mdxconf test\nLicense: MIT\nBuildArch: noarch\n\
                 %description\nmdxconf dnf module test package\n%install\nmkdir -p %{{buildroot}}/usr/share/mdxtest\n\
                 echo '{name} {version}' > %{{buildroot}}/usr/share/mdxtest/{name}\n%files\n/usr/share/mdxtest/{name}\n"
            ),
        )
        .unwrap();
        let top = self.dir.join("rpmbuild");
        let out = self.dir.join(repo);
        std::fs::create_dir_all(&out).unwrap();
        run(Command::new("rpmbuild")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg("--define")
            .arg(format!("_rpmdir {}", out.display()))
            .arg("--define")
            .arg("_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm")
            .arg("--quiet")
            .arg("-bb")
            .arg(&spec));
        run(Command::new("createrepo_c").arg("-q").arg(&out));
    }

    /// A dnf.conf with both repositories (`extra` disabled) and nothing from the host's config.
    fn conf(&self) -> PathBuf {
        let p = self.dir.join("dnf.conf");
        std::fs::write(
            &p,
            format!(
                "[main]\ngpgcheck=0\nreposdir=/nonexistent\nmetadata_expire=0\ninstall_weak_deps=0\n\n\
                 [base]\nname=base\nbaseurl=file://{d}/base\ngpgcheck=0\n\n\
                 [extra]\nname=extra\nbaseurl=file://{d}/extra\ngpgcheck=0\nenabled=0\n",
                d = self.dir.display()
            ),
        )
        .unwrap();
        p
    }
}

fn installed(root: &Path, name: &str) -> Option<String> {
    let out = Command::new("rpm").arg("--root").arg(root).args(["-q", "--qf", "%{VERSION}", name]).output().unwrap();
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn dnf_present_latest_absent_and_repos_in_an_installroot() {
    if !have("dnf") {
        eprintln!("SKIPPED: dnf is not installed (apt-get install dnf rpm createrepo-c; scripts/bootstrap.sh does)");
        return;
    }
    assert!(have("rpmbuild") && have("createrepo_c"), "dnf is installed but rpmbuild/createrepo_c are not: install rpm and createrepo-c");
    let tmp = tempfile::tempdir().unwrap();
    let repos = Repos { dir: tmp.path().to_path_buf() };
    repos.add("base", "mdxtest-a", "1.0");
    repos.add("base", "mdxtest-b", "1.0");
    repos.add("extra", "mdxtest-c", "2.0");
    let root = tmp.path().join("root");
    let host_rpmdb_before = Command::new("rpm").arg("-qa").output().unwrap().stdout;
    let h = Host::local();
    let base = json!({"installroot": root, "conf_file": repos.conf(), "releasever": "12"});
    let args = |extra: Value| {
        let mut m = base.as_object().unwrap().clone();
        m.extend(extra.as_object().unwrap().clone());
        Value::Object(m)
    };

    // present: check predicts, the run installs both, then nothing to do (also in check mode).
    let check = h.ok("dnf", args(json!({"name": ["mdxtest-a", "mdxtest-b"]})), true).await;
    assert!(check.changed);
    assert_eq!(installed(&root, "mdxtest-a"), None, "check mode installed a package");
    let (first, _) = h.converge("dnf", args(json!({"name": ["mdxtest-a", "mdxtest-b"], "state": "present"}))).await;
    assert_eq!(first.diff[0].after, "mdxtest-a: installed\nmdxtest-b: installed\n");
    assert_eq!(installed(&root, "mdxtest-a").as_deref(), Some("1.0"));
    assert_eq!(std::fs::read_to_string(root.join("usr/share/mdxtest/mdxtest-b")).unwrap(), "mdxtest-b 1.0\n");

    // A newer a: present keeps 1.0, latest upgrades only a.
    repos.add("base", "mdxtest-a", "1.1");
    let r = h.ok("dnf", args(json!({"name": "mdxtest-a,mdxtest-b"})), false).await;
    assert!(!r.changed);
    // update_cache (dnf --refresh): dnf counts metadata age in whole seconds, so with metadata_expire=0 a repo
    // regenerated within the second of the last load still looks current; a user would refresh the same way.
    let (first, _) = h.converge("dnf", args(json!({"name": ["mdxtest-a", "mdxtest-b"], "state": "latest", "update_cache": true}))).await;
    assert_eq!(first.diff[0].before, "mdxtest-a: 1.0-1\n");
    assert_eq!(first.diff[0].after, "mdxtest-a: 1.1-1\n");
    assert_eq!(installed(&root, "mdxtest-a").as_deref(), Some("1.1"));

    // absent
    let (first, _) = h.converge("dnf", args(json!({"name": "mdxtest-b", "state": "absent"}))).await;
    assert_eq!(first.diff[0].after, "mdxtest-b: absent\n");
    assert_eq!(installed(&root, "mdxtest-b"), None);
    assert!(!root.join("usr/share/mdxtest/mdxtest-b").exists());

    // c lives in the disabled repo: unavailable (check mode says so too) until enablerepo.
    for check in [true, false] {
        let r = h.run("dnf", args(json!({"name": "mdxtest-c"})), check).await;
        assert!(r.failed, "check={check}: installing from a disabled repo succeeded");
        assert!(r.msg.contains("mdxtest-c"), "{}", r.msg);
    }
    h.converge("dnf", args(json!({"name": "mdxtest-c", "enablerepo": "extra"}))).await;
    assert_eq!(installed(&root, "mdxtest-c").as_deref(), Some("2.0"));
    // disablerepo: with base disabled, latest cannot see a's repository and reports the error.
    repos.add("base", "mdxtest-a", "1.2");
    let r = h.run("dnf", args(json!({"name": "mdxtest-b", "disablerepo": "base"})), true).await;
    assert!(r.failed && r.msg.contains("no package matching mdxtest-b"), "{}", r.msg);
    let r = h.ok("dnf", args(json!({"name": "mdxtest-a", "state": "latest", "disablerepo": "*", "enablerepo": "extra"})), false).await;
    assert!(!r.changed, "a was upgraded from a disabled repository");
    assert_eq!(installed(&root, "mdxtest-a").as_deref(), Some("1.1"));

    // name '*' with latest upgrades what check-update lists (a 1.2 in base; c has no update).
    let (first, _) = h.converge("dnf", args(json!({"name": "*", "state": "latest", "update_cache": true}))).await;
    assert_eq!((first.diff[0].before.as_str(), first.diff[0].after.as_str()), ("mdxtest-a: installed\n", "mdxtest-a: 1.2-1\n"));
    assert_eq!(installed(&root, "mdxtest-a").as_deref(), Some("1.2"));
    assert_eq!(installed(&root, "mdxtest-c").as_deref(), Some("2.0"));

    // A local .rpm file is known by its name-version-release: installed once, then left alone.
    repos.add("files", "mdxtest-d", "3.0");
    let file = tmp.path().join("files/mdxtest-d-3.0-1.noarch.rpm");
    h.converge("dnf", args(json!({"name": file}))).await;
    assert_eq!(installed(&root, "mdxtest-d").as_deref(), Some("3.0"));
    let r = h.run("dnf", args(json!({"name": tmp.path().join("files/none.rpm")})), true).await;
    assert!(r.failed && r.msg.contains("none.rpm"), "{}", r.msg);

    // The host's own rpm database was never touched.
    assert_eq!(Command::new("rpm").arg("-qa").output().unwrap().stdout, host_rpmdb_before);
}
