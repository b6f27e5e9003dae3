//! Host certificates (`@cert-authority`) and `@revoked` known_hosts lines against a real sshd that
//! presents a certificate made by ssh-keygen (`HostCertificate`).
use crate::common;
use common::*;
use mdxconf_testkit::{FleetOptions, SshdFleet};
use mdxconf_transport::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ssh_keygen(args: &[&str]) {
    let out = Command::new("ssh-keygen").args(args).output().unwrap();
    assert!(out.status.success(), "ssh-keygen {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A new ed25519 key pair; returns the public key as `ssh-ed25519 AAAA...`.
fn new_key(path: &Path) -> String {
    ssh_keygen(&["-q", "-t", "ed25519", "-N", "", "-C", "", "-f", path.to_str().unwrap()]);
    let text = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    text.split_whitespace().take(2).collect::<Vec<_>>().join(" ")
}

struct Host {
    fleet: SshdFleet,
    cert: PathBuf,
}

impl Host {
    /// One sshd whose config names `cert` as its HostCertificate (made by `sign` before each start).
    fn start() -> Host {
        let fleet = SshdFleet::start_with(FleetOptions { hosts: 1, populate_known_hosts: false, ..Default::default() }).unwrap();
        let cert = fleet.dir.join("host1_cert.pub");
        Host { fleet, cert }
    }

    /// Sign the host key with `ca` for `principal` (ssh-keygen -h) and restart sshd presenting it.
    fn sign(&self, ca: &Path, principal: &str, validity: Option<&str>) {
        let h = &self.fleet.hosts[0];
        let mut pubkey = h.host_key_path.as_os_str().to_owned();
        pubkey.push(".pub");
        let mut args = vec!["-q", "-s", ca.to_str().unwrap(), "-I", "host1-id", "-h", "-n", principal];
        if let Some(v) = validity {
            args.extend(["-V", v]);
        }
        let pubkey = pubkey.to_str().unwrap().to_string();
        args.push(&pubkey);
        ssh_keygen(&args);
        let made = format!("{}-cert.pub", h.host_key_path.display());
        std::fs::rename(made, &self.cert).unwrap();
        let cfg = std::fs::read_to_string(&h.sshd_config_path).unwrap();
        if !cfg.contains("HostCertificate") {
            let mut f = std::fs::OpenOptions::new().append(true).open(&h.sshd_config_path).unwrap();
            writeln!(f, "HostCertificate {}", self.cert.display()).unwrap();
        }
        self.fleet.start_host(0).unwrap();
    }

    fn known_hosts(&self, text: &str) {
        std::fs::write(&self.fleet.known_hosts, text).unwrap();
    }

    async fn connect(&self, policy: HostKeyPolicy) -> Result<std::sync::Arc<dyn Connection>, TransportError> {
        let mut t = self.fleet.target(0);
        t.host_key_policy = policy;
        connect_ssh(&t).await
    }

    /// Connecting fails with a host key error under both policies, the message contains all of
    /// `needles`, and accept-new recorded nothing.
    async fn rejected(&self, needles: &[&str]) {
        self.rejected_under(&[HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew], needles).await
    }

    async fn rejected_under(&self, policies: &[HostKeyPolicy], needles: &[&str]) {
        let before = std::fs::read_to_string(&self.fleet.known_hosts).unwrap();
        for &policy in policies {
            let err = self.connect(policy).await.err().expect("the certificate must be rejected");
            let msg = err.to_string();
            assert!(matches!(err, TransportError::HostKey { .. }), "{msg}");
            for n in needles {
                assert!(msg.contains(n), "{n:?} missing from: {msg}");
            }
        }
        assert_eq!(std::fs::read_to_string(&self.fleet.known_hosts).unwrap(), before);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_certificate_trusted_through_cert_authority_only() {
    let _env = crate::common::env_shared();
    let host = Host::start();
    let h = host.fleet.hosts[0].clone();
    let dir = host.fleet.dir.clone();
    let ca = dir.join("ca");
    let ca_pub = new_key(&ca);
    let other_ca = dir.join("other_ca");
    new_key(&other_ca);
    // OpenSSH matches the CA line's patterns against `[host]:port` (non-22 port) and the
    // certificate's principals against the bare host name.
    let ca_line = format!("# CA for the lab\n@cert-authority [127.0.0.*]:*,!evil {ca_pub}\n");

    host.sign(&ca, &h.address, None);
    host.known_hosts(&ca_line);
    for policy in [HostKeyPolicy::Strict, HostKeyPolicy::AcceptNew] {
        let c = host.connect(policy).await.unwrap_or_else(|e| panic!("{policy:?}: {e}"));
        assert_eq!(run(&*c, "echo cert").await.stdout, b"cert\n");
        c.close().await;
    }
    // Trusted through the CA: nothing learned, no plain key line needed.
    assert_eq!(std::fs::read_to_string(&host.fleet.known_hosts).unwrap(), ca_line);
    // OpenSSH's own client agrees with the same known_hosts and certificate.
    let ssh = Command::new("ssh")
        .args(["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o"])
        .arg(format!("UserKnownHostsFile={}", host.fleet.known_hosts.display()))
        .args(["-o", "GlobalKnownHostsFile=/dev/null", "-i"])
        .arg(&host.fleet.client_key)
        .args(["-p", &h.port.to_string(), &format!("root@{}", h.address), "echo ok"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&ssh.stdout), "ok\n", "{}", String::from_utf8_lossy(&ssh.stderr));

    // Issued for another host name.
    host.sign(&ca, "127.0.0.99,vm9.example", None);
    let kh2 = format!("{}:2", host.fleet.known_hosts.display());
    let principals = format!("principals [127.0.0.99, vm9.example] do not include \"{}\"", h.address);
    host.rejected(&[&principals, "key id \"host1-id\"", &kh2]).await;

    // Expired (and one not valid yet).
    host.sign(&ca, &h.address, Some("20200101:20200102"));
    host.rejected(&["expired at 2020-01-0"]).await;
    host.sign(&ca, &h.address, Some("+3650d:+3660d"));
    host.rejected(&["not valid before"]).await;

    // Signed by a CA that known_hosts does not trust: checked as a plain key, which is unknown.
    // (accept-new would then learn that plain key, as OpenSSH does, so only strict is checked.)
    host.sign(&other_ca, &h.address, None);
    host.rejected_under(&[HostKeyPolicy::Strict], &["no @cert-authority line", "host key of", "is unknown"]).await;
    // ... and as OpenSSH does, a plain entry for the certified key still lets it in.
    host.known_hosts(&format!("{ca_line}{}", host.fleet.known_hosts_line(&h)));
    host.connect(HostKeyPolicy::Strict).await.unwrap().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_keys_and_cas_are_rejected() {
    let _env = crate::common::env_shared();
    let host = Host::start();
    let h = host.fleet.hosts[0].clone();
    let ca = host.fleet.dir.join("ca");
    let ca_pub = new_key(&ca);
    let ca_line = format!("@cert-authority * {ca_pub}\n");

    // A CA line for a host that has no certificate: the plain key is asked for and checked.
    let plain = host.fleet.known_hosts_line(&h);
    host.known_hosts(&format!("{ca_line}{plain}"));
    host.connect(HostKeyPolicy::Strict).await.unwrap().close().await;
    host.known_hosts(&ca_line);
    host.rejected_under(&[HostKeyPolicy::Strict], &["is unknown"]).await;

    // Plain key listed as known and also @revoked: revoked wins, also for accept-new.
    host.known_hosts(&format!("{plain}@revoked * {}\n", h.host_public_key));
    host.rejected(&["is marked @revoked", &format!("{}:2", host.fleet.known_hosts.display())]).await;

    host.sign(&ca, &h.address, None);
    host.known_hosts(&ca_line);
    host.connect(HostKeyPolicy::Strict).await.unwrap().close().await;
    // The certified host key revoked.
    host.known_hosts(&format!("{ca_line}@revoked [{}]:{} {}\n", h.address, h.port, h.host_public_key));
    host.rejected(&["its key", "is marked @revoked", ":2"]).await;
    // The CA revoked.
    host.known_hosts(&format!("{ca_line}@revoked * {ca_pub}\n"));
    host.rejected(&["its signing CA", "is marked @revoked"]).await;
    // A revocation for other hosts only does not apply.
    host.known_hosts(&format!("{ca_line}@revoked other.example {ca_pub}\n"));
    host.connect(HostKeyPolicy::Strict).await.unwrap().close().await;
}

/// The certificate checks themselves, on certificates ssh-keygen makes (no sshd needed).
#[test]
fn certificate_rules_match_openssh() {
    let _env = crate::common::env_shared();
    use mdxconf_transport::host_cert::{check_certificate, CertStatus};
    use russh::keys::Certificate;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca");
    let ca_pub = new_key(&ca);
    let key = dir.path().join("k");
    new_key(&key);
    let kh = dir.path().join("known_hosts");
    std::fs::write(&kh, format!("@cert-authority *.lab,[*.lab]:* {ca_pub}\n")).unwrap();
    let files = vec![kh.clone()];
    let sign = |extra: &[&str]| -> Certificate {
        let mut args = vec!["-q", "-s", ca.to_str().unwrap(), "-I", "kid"];
        args.extend_from_slice(extra);
        let pubkey = format!("{}.pub", key.display());
        args.push(&pubkey);
        ssh_keygen(&args);
        Certificate::from_openssh(std::fs::read_to_string(dir.path().join("k-cert.pub")).unwrap().trim()).unwrap()
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();

    // Principals are compared with the host name exactly; the CA line's patterns with `[host]:port`.
    let c = sign(&["-h", "-n", "vm1.lab"]);
    assert!(matches!(check_certificate(&files, "[vm1.lab]:2222", "vm1.lab", &c, now), CertStatus::Trusted(_)));
    assert!(matches!(check_certificate(&files, "vm1.lab", "vm1.lab", &c, now), CertStatus::Trusted(_)));
    match check_certificate(&files, "vm2.lab", "vm2.lab", &c, now) {
        CertStatus::Invalid { reason, ca } => {
            assert!(reason.contains("do not include \"vm2.lab\""), "{reason}");
            assert_eq!(ca.line, 1);
        }
        other => panic!("{other:?}"),
    }
    // The CA is not trusted for hosts outside its patterns: the plain key decides then.
    assert!(matches!(check_certificate(&files, "other.example", "other.example", &c, now), CertStatus::NoCa));
    // No principals: valid for any host the CA line covers (as OpenSSH).
    let c = sign(&["-h"]);
    assert!(matches!(check_certificate(&files, "vm7.lab", "vm7.lab", &c, now), CertStatus::Trusted(_)));
    // A user certificate is no host certificate, even from the right CA with the right name.
    let c = sign(&["-n", "vm1.lab"]);
    match check_certificate(&files, "vm1.lab", "vm1.lab", &c, now) {
        CertStatus::Invalid { reason, .. } => assert!(reason.contains("user certificate"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Validity window edges: valid-after is inclusive, valid-before exclusive.
    let c = sign(&["-h", "-n", "vm1.lab", "-V", "20300101000000:20300102000000"]);
    let (after, before) = (c.valid_after(), c.valid_before());
    assert!(matches!(check_certificate(&files, "vm1.lab", "vm1.lab", &c, after), CertStatus::Trusted(_)));
    assert!(matches!(check_certificate(&files, "vm1.lab", "vm1.lab", &c, after - 1), CertStatus::Invalid { .. }));
    assert!(matches!(check_certificate(&files, "vm1.lab", "vm1.lab", &c, before), CertStatus::Invalid { .. }));
}
