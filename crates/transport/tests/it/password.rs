//! Password and keyboard-interactive (PAM) authentication against real sshd, with a throwaway
//! local user (created with useradd/chpasswd, removed on drop; needs root).
use crate::common;
use common::*;
use mdxconf_testkit::{FleetOptions, SshdFleet};
use mdxconf_transport::*;
use std::process::Command;

struct TempUser(&'static str);

impl TempUser {
    fn create(name: &'static str, password: &str) -> TempUser {
        let _ = Command::new("userdel").arg(name).output();
        let st = Command::new("useradd").args(["-M", "-d", "/tmp", "-s", "/bin/sh", name]).status().unwrap();
        assert!(st.success(), "useradd {name}");
        let mut child = Command::new("chpasswd").stdin(std::process::Stdio::piped()).spawn().unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(format!("{name}:{password}\n").as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
        TempUser(name)
    }
}

impl Drop for TempUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(self.0).output();
    }
}

fn target(fleet: &SshdFleet, user: &str, password: &str) -> SshTarget {
    let mut t = fleet.target(0);
    t.user = Some(user.into());
    t.identity_files = vec![];
    t.password = Some(password.into());
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_and_keyboard_interactive() {
    let _env = crate::common::env_exclusive(&["HOME"]);
    std::env::remove_var("SSH_AUTH_SOCK");
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    let user = TempUser::create("mdxtransportpw", "Correct-Horse-42");

    // Plain "password" method (no PAM).
    let fleet = SshdFleet::start_with(FleetOptions { extra_sshd_config: "PasswordAuthentication yes\nKbdInteractiveAuthentication no".into(), ..Default::default() }).unwrap();
    let c = connect_ssh(&target(&fleet, user.0, "Correct-Horse-42")).await.unwrap();
    assert_eq!(text(&run(&*c, "id -un").await.stdout).trim(), user.0);
    let err = connect_ssh(&target(&fleet, user.0, "wrong")).await.err().expect("wrong password");
    assert!(matches!(err, TransportError::Auth { .. }), "{err}");
    drop(fleet);

    // PAM with only keyboard-interactive (what many distributions ship).
    let fleet =
        SshdFleet::start_with(FleetOptions { extra_sshd_config: "UsePAM yes\nPasswordAuthentication no\nKbdInteractiveAuthentication yes".into(), ..Default::default() }).unwrap();
    let c = connect_ssh(&target(&fleet, user.0, "Correct-Horse-42")).await.unwrap();
    assert_eq!(text(&run(&*c, "id -un").await.stdout).trim(), user.0);
    let err = connect_ssh(&target(&fleet, user.0, "wrong")).await.err().expect("wrong password");
    assert!(matches!(err, TransportError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("keyboard-interactive"), "{err}");
}
