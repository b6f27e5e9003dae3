//! `mdxconf apply` against a booted VM: `reboot` must wait until the host is back (new boot id) and the
//! run must go on over the re-established connection. Run by scripts/test-vm-modules.sh with the lab's
//! inventory: MDXCONF_TEST_INVENTORY=<lab>/inventory.ini (host keys from the lab's known_hosts).
use std::process::Command;

#[test]
#[ignore = "needs a disposable VM: MDXCONF_TEST_INVENTORY=<lab dir>/inventory.ini"]
fn vm_reboot_waits_until_back_and_the_run_continues() {
    let inventory = std::env::var("MDXCONF_TEST_INVENTORY").expect("set MDXCONF_TEST_INVENTORY to a lab inventory");
    let dir = tempfile::tempdir().unwrap();
    let playbook = dir.path().join("reboot.yml");
    std::fs::write(
        &playbook,
        r#"- hosts: all
  gather_facts: false
  tasks:
    - command: cat /proc/sys/kernel/random/boot_id
      register: before
      changed_when: false
    - reboot:
        reboot_timeout: 600
      register: rebooted
    - command: cat /proc/sys/kernel/random/boot_id
      register: after
      changed_when: false
    - assert:
        that:
          - before.stdout != after.stdout
          - rebooted is changed
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mdxconf-apply")).arg(&playbook).args(["-i", &inventory, "--limit", "vm1", "--format", "json"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "apply failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json report");
    let recap = &report["recap"]["vm1"];
    assert_eq!(recap["changed"], 1, "exactly the reboot changes: {report}");
    assert_eq!(recap["failed"], 0, "{report}");
    assert_eq!(recap["unreachable"], 0, "{report}");
    let reboot = report["results"].as_array().unwrap().iter().find(|r| r["module"] == "reboot").expect("a reboot result");
    assert_eq!(reboot["status"], "changed", "{reboot}");
}
