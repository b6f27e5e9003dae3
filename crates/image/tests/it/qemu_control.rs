//! QEMU control with real QEMU: death at startup is reported at once with QEMU's own stderr,
//! and the accelerator probe falls back to TCG when KVM cannot boot a kernel.
use mdxconf_image::qemu::accel::{self, Accel};
use mdxconf_image::qemu::{Nic, Vm, VmSpec};
use std::time::{Duration, Instant};

#[tokio::test]
async fn qemu_dying_at_startup_is_reported_at_once_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = VmSpec::new("broken", dir.path(), Accel::Tcg);
    spec.extra_args = vec!["-definitely-not-an-option".into()];
    let t = Instant::now();
    let err = match Vm::start(spec).await {
        Ok(_) => panic!("QEMU with a bad argument must not start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(t.elapsed() < Duration::from_secs(10), "detected after {:?}", t.elapsed());
    assert!(err.contains("exited at startup") || err.contains("failed at startup"), "{err}");
    assert!(err.contains("-definitely-not-an-option"), "QEMU's stderr is in the error: {err}");
}

#[tokio::test]
async fn port_already_taken_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let mut spec = VmSpec::new("porttaken", dir.path(), Accel::Tcg);
    spec.nics.push(Nic::user(Some(port), None));
    let err = match Vm::start(spec).await {
        Ok(_) => panic!("hostfwd on a taken port must fail"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.to_lowercase().contains("forward"), "{err}");
}

#[tokio::test]
async fn qmp_status_and_shutdown_of_a_firmware_only_guest() {
    // no disk: SeaBIOS runs and waits; QMP must answer and quit must stop it
    let dir = tempfile::tempdir().unwrap();
    let mut vm = Vm::start(VmSpec::new("idle", dir.path(), Accel::Tcg)).await.expect("start");
    assert_eq!(vm.status().await.unwrap(), "running");
    let pid = vm.pid();
    // a guest without an OS ignores the ACPI button: shutdown falls back to quit, then kill
    let clean = vm.shutdown(Duration::from_secs(2)).await;
    assert!(!clean);
    assert!(!mdxconf_image::proc::pid_is_qemu(pid), "QEMU gone");
    assert!(vm.exited().is_some());
}

#[tokio::test]
async fn accel_probe_falls_back_to_tcg_when_kvm_cannot_boot() {
    // a "kernel" KVM cannot boot: the probe must say so and choose TCG
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("not-a-kernel");
    std::fs::write(&bogus, vec![0u8; 4096]).unwrap();
    let (ok, why) = accel::kvm_boots_linux(&bogus, Duration::from_secs(10)).await.unwrap();
    assert!(!ok, "{why}");

    // the real probe on this host: either KVM really booted a kernel, or it fell back to TCG and said why
    let r = accel::probe_uncached(Duration::from_secs(20)).await;
    match r.accel {
        Accel::Tcg => assert!(r.reason.contains("TCG"), "{}", r.reason),
        Accel::Kvm => assert!(r.reason.contains("booted a Linux kernel"), "{}", r.reason),
    }
    if std::env::var("MDXCONF_EXPECT_NO_KVM").is_ok() {
        assert_eq!(r.accel, Accel::Tcg, "{}", r.reason);
    }
    eprintln!("probe: {:?} — {}", r.accel, r.reason);
}
