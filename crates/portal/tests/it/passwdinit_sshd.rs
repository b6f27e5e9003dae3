//! `passwdinit` against a real sshd on 127.0.0.x with throwaway users (run as root).
use crate::support;
use mdxconf_portal::passwdinit::{run_all, targets_from_inventory, Method, PasswdInitOptions};
use std::process::Command;
use std::time::Duration;
use support::sshd::{Sshd, TempUser};

const NEW_PASSWORD: &str = "Tsukuba-mdx-2026!q";

fn options(method: Method, sshd: &Sshd, login: &str, for_user: &str) -> PasswdInitOptions {
    PasswdInitOptions {
        method,
        user: login.into(),
        for_user: for_user.into(),
        new_password: NEW_PASSWORD.into(),
        current_password: None,
        timeout: Duration::from_secs(20),
        ssh_args: vec![],
        identity_files: vec![sshd.client_key.clone()],
        known_hosts: Some(sshd.dir.path().join("known_hosts")),
        // first contact: the test's fresh known_hosts learns the key
        accept_new_host_keys: true,
    }
}

#[test]
fn chpasswd_method_sets_the_password_and_it_logs_in() {
    let sshd = Sshd::start("127.0.0.61", false, &["root"]);
    let user = TempUser::create("mdxpwtest1", None);
    let targets = targets_from_inventory(&sshd.inventory("vm1"), "default").unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!((targets[0].address.as_str(), targets[0].port), ("127.0.0.61", Some(sshd.port)));

    let results = run_all(&targets, &options(Method::Chpasswd, &sshd, "root", &user.0), 4);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, "vm1");
    assert_eq!(results[0].1, Ok(()), "sshd log:\n{}", sshd.log());
    assert!(user.password_is(NEW_PASSWORD), "shadow hash does not match the new password");

    // And the account really accepts it over SSH with password authentication.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let out = rt.block_on(async {
        let t = mdxconf_transport::SshTarget {
            name: "vm1".into(),
            address: Some(sshd.addr.clone()),
            port: Some(sshd.port),
            user: Some(user.0.clone()),
            password: Some(NEW_PASSWORD.into()),
            known_hosts: Some(sshd.dir.path().join("known_hosts")),
            host_key_policy: mdxconf_transport::HostKeyPolicy::Strict,
            ..Default::default()
        };
        let c = mdxconf_transport::connect_ssh(&t).await.expect("password login with the new password");
        c.exec("id -un", None).await.unwrap()
    });
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), user.0);
}

#[test]
fn chpasswd_failure_is_reported_per_host() {
    let sshd = Sshd::start("127.0.0.62", false, &["root"]);
    let inv = sshd.inventory("vm2");
    let targets = targets_from_inventory(&inv, "default").unwrap();
    let results = run_all(&targets, &options(Method::Chpasswd, &sshd, "root", "no-such-user-mdx"), 4);
    let err = results[0].1.clone().unwrap_err();
    assert!(err.contains("chpasswd failed"), "{err}");
}

/// An expired password: with UsePAM (as on mdx VMs) the first key login is forced through a password change.
fn expired_user(name: &str, old: &str) -> TempUser {
    let u = TempUser::create(name, Some(old));
    let out = Command::new("chage").args(["-d", "0", name]).output().unwrap();
    assert!(out.status.success());
    u
}

#[test]
fn prompt_method_answers_the_forced_change_with_pam() {
    let sshd = Sshd::start("127.0.0.64", true, &["mdxpwtest4"]);
    let user = expired_user("mdxpwtest4", "Initial-pw-41x");
    let targets = targets_from_inventory(&sshd.inventory("vm4"), "default").unwrap();
    let mut opts = options(Method::Prompt, &sshd, &user.0, &user.0);
    opts.current_password = Some("Initial-pw-41x".into());
    let results = run_all(&targets, &opts, 4);
    assert_eq!(results[0].1, Ok(()), "sshd log:\n{}", sshd.log());
    assert!(user.password_is(NEW_PASSWORD));
}

#[test]
fn prompt_method_reports_a_missing_current_password() {
    let sshd = Sshd::start("127.0.0.65", true, &["mdxpwtest5"]);
    let user = expired_user("mdxpwtest5", "Initial-pw-51x");
    let targets = targets_from_inventory(&sshd.inventory("vm5"), "default").unwrap();
    let results = run_all(&targets, &options(Method::Prompt, &sshd, &user.0, &user.0), 4);
    let err = results[0].1.clone().unwrap_err();
    assert!(err.contains("current password"), "{err}");
    assert!(user.password_is("Initial-pw-51x"), "password must be unchanged");
}

/// A host that answers with another key than known_hosts holds for it is not sent the password, by
/// either method, even with --accept-new-host-keys and an --ssh-args that tries to turn checks off
/// (before, the prompt method ran ssh with StrictHostKeyChecking=no and UserKnownHostsFile=/dev/null).
#[test]
fn an_impostor_host_key_gets_no_password() {
    let sshd = Sshd::start("127.0.0.66", true, &["mdxpwtest6", "root"]);
    let user = expired_user("mdxpwtest6", "Initial-pw-61x");
    let targets = targets_from_inventory(&sshd.inventory("vm6"), "default").unwrap();
    // known_hosts says the host has another key (the client key stands in for the real VM's key)
    let other = std::fs::read_to_string(sshd.dir.path().join("client_key.pub")).unwrap();
    let kh = sshd.dir.path().join("known_hosts");
    std::fs::write(&kh, format!("[{}]:{} {}\n", sshd.addr, sshd.port, other.split_whitespace().take(2).collect::<Vec<_>>().join(" "))).unwrap();
    let mut opts = options(Method::Prompt, &sshd, &user.0, &user.0);
    opts.current_password = Some("Initial-pw-61x".into());
    opts.ssh_args = vec!["-o".into(), "StrictHostKeyChecking=no".into(), "-o".into(), "UserKnownHostsFile=/dev/null".into()];
    let results = run_all(&targets, &opts, 4);
    let err = results[0].1.clone().unwrap_err();
    assert!(err.to_lowercase().contains("host key") || err.to_lowercase().contains("identification"), "{err}");
    assert!(user.password_is("Initial-pw-61x"), "password must be unchanged");
    let results = run_all(&targets, &options(Method::Chpasswd, &sshd, "root", &user.0), 4);
    assert!(results[0].1.is_err(), "chpasswd must refuse the changed key too");
    assert!(user.password_is("Initial-pw-61x"), "password must be unchanged");
    // and without --accept-new-host-keys an unknown host is refused as well
    std::fs::remove_file(&kh).unwrap();
    let mut strict = options(Method::Chpasswd, &sshd, "root", &user.0);
    strict.accept_new_host_keys = false;
    assert!(run_all(&targets, &strict, 4)[0].1.is_err(), "unknown host refused without accept-new");
    assert!(user.password_is("Initial-pw-61x"));
}
