//! Authentication: key types, encrypted keys, ssh-agent. One test function, because it changes
//! process-wide environment (HOME, SSH_AUTH_SOCK).
use crate::common;
use common::*;
use mdxconf_testkit::SshdFleet;
use mdxconf_transport::*;
use std::path::Path;
use std::process::Command;

fn keygen(path: &Path, args: &[&str]) {
    let st = Command::new("ssh-keygen").args(["-q", "-N"]).args(args).arg("-f").arg(path).status().unwrap();
    assert!(st.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_types_encrypted_keys_and_agent() {
    let _env = crate::common::env_exclusive(&["HOME", "SSH_AUTH_SOCK"]);
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path()); // no ~/.ssh/id_* defaults to fall back on
    std::env::remove_var("SSH_AUTH_SOCK");
    let fleet = SshdFleet::start(1).unwrap();
    let d = &fleet.dir;

    // RSA (must sign with rsa-sha2-*: OpenSSH 9 refuses SHA-1 ssh-rsa) and ECDSA keys.
    keygen(&d.join("rsa"), &["", "-t", "rsa", "-b", "2048"]);
    keygen(&d.join("ecdsa"), &["", "-t", "ecdsa"]);
    keygen(&d.join("enc"), &["secret", "-t", "ed25519"]);
    let mut ak = String::new();
    for k in ["rsa", "ecdsa", "enc"] {
        ak.push_str(&std::fs::read_to_string(d.join(format!("{k}.pub"))).unwrap());
    }
    std::fs::write(d.join("authorized_keys"), std::fs::read_to_string(fleet.client_key.with_extension("pub")).unwrap() + &ak).unwrap();
    for k in ["rsa", "ecdsa"] {
        let mut t = fleet.target(0);
        t.identity_files = vec![d.join(k)];
        let c = connect_ssh(&t).await.unwrap_or_else(|e| panic!("{k}: {e}"));
        assert_eq!(run(&*c, "echo ok").await.stdout, b"ok\n");
    }

    // An encrypted key cannot be used without the agent: the error says what to do.
    let mut t = fleet.target(0);
    t.identity_files = vec![d.join("enc")];
    let err = connect_ssh(&t).await.err().expect("encrypted key without agent");
    let msg = err.to_string();
    assert!(matches!(err, TransportError::Auth { .. }), "{msg}");
    assert!(msg.contains("passphrase-protected") && msg.contains("ssh-add"), "{msg}");

    // A key the server does not accept: authentication error naming what was tried.
    keygen(&d.join("stranger"), &["", "-t", "ed25519"]);
    t.identity_files = vec![d.join("stranger")];
    let err = connect_ssh(&t).await.err().expect("unauthorized key");
    assert!(matches!(err, TransportError::Auth { .. }), "{err}");
    assert!(err.to_string().contains("stranger"), "{err}");

    // ssh-agent: a real agent holding the fleet's client key; the target names no identity file.
    let sock = d.join("agent.sock");
    let mut agent = Command::new("ssh-agent").arg("-D").arg("-a").arg(&sock).stdout(std::process::Stdio::null()).spawn().unwrap();
    for _ in 0..200 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let st = Command::new("ssh-add").arg("-q").arg(&fleet.client_key).env("SSH_AUTH_SOCK", &sock).status().unwrap();
    assert!(st.success());
    std::env::set_var("SSH_AUTH_SOCK", &sock);
    let mut t = fleet.target(0);
    t.identity_files = vec![];
    let c = connect_ssh(&t).await.unwrap();
    assert_eq!(run(&*c, "echo agent").await.stdout, b"agent\n");
    // Proof that the agent did it: with the agent emptied, the same target fails.
    let st = Command::new("ssh-add").arg("-D").env("SSH_AUTH_SOCK", &sock).output().unwrap();
    assert!(st.status.success());
    let err = connect_ssh(&t).await.err().expect("agent is empty now");
    assert!(matches!(err, TransportError::Auth { .. }), "{err}");
    // An RSA key held by the agent: signed with rsa-sha2-* (OpenSSH 9 rejects SHA-1 ssh-rsa).
    let st = Command::new("ssh-add").arg("-q").arg(d.join("rsa")).env("SSH_AUTH_SOCK", &sock).status().unwrap();
    assert!(st.success());
    let c = connect_ssh(&t).await.unwrap();
    assert_eq!(run(&*c, "echo rsa-agent").await.stdout, b"rsa-agent\n");
    let _ = agent.kill();
    let _ = agent.wait();
}
