//! Make the provisioned system a template: nothing that identifies this one VM may remain.
//! Each step is a short shell fragment run in the guest; the last check fails the build if an
//! installer boot parameter survived in GRUB's configuration.
use super::definition::GeneralizeStep;
use crate::guest::Guest;
use anyhow::{bail, Result};

pub fn script_for(step: GeneralizeStep) -> String {
    use GeneralizeStep::*;
    match step {
        // empty (not missing) machine-id: systemd generates a fresh one on first boot
        MachineId => "truncate -s 0 /etc/machine-id; rm -f /var/lib/dbus/machine-id; \
            if [ -d /var/lib/dbus ]; then ln -s /etc/machine-id /var/lib/dbus/machine-id; fi"
            .into(),
        // host keys removed; first boot regenerates them (our unit, or distro's own where present)
        SshHostKeys => format!(
            "rm -f /etc/ssh/ssh_host_*; \
             if [ ! -e /lib/systemd/system/sshd-keygen.service ] && [ ! -e /usr/lib/systemd/system/sshd-keygen.service ]; then \
               cat > /etc/systemd/system/mdxconf-ssh-hostkeys.service <<'UNIT'\n{}UNIT\n\
               systemctl enable mdxconf-ssh-hostkeys.service >/dev/null 2>&1; \
               mkdir -p /etc/systemd/system/ssh.service.requires; \
               ln -sf /etc/systemd/system/mdxconf-ssh-hostkeys.service /etc/systemd/system/ssh.service.requires/; \
             fi",
            super::rootfs::SSH_HOSTKEY_UNIT
        ),
        // a deployed VM is a new instance: cloud-init (and the first-login step) run again at its first boot
        CloudInit => "if command -v cloud-init >/dev/null 2>&1; then cloud-init clean --logs --seed >/dev/null 2>&1 || cloud-init clean --logs; fi; \
            rm -rf /var/lib/cloud/instances /var/lib/cloud/instance /var/lib/cloud/data /var/lib/mdxconf/first-login"
            .into(),
        // installer-only kernel parameters (autoinstall, ds=..., preseed url=...) must not boot again
        GrubCmdline => "if [ -f /etc/default/grub ]; then \
              sed -i -E '/^GRUB_CMDLINE_LINUX(_DEFAULT)?=/{ s/ ?autoinstall//g; s/ ?ds=[^ \"]*//g; s/ ?(preseed\\/)?url=[^ \"]*//g; s/ ?auto=true//g; s/ ?priority=critical//g; s/ ?---//g; s/=\" /=\"/ }' /etc/default/grub; \
              if command -v update-grub >/dev/null 2>&1; then update-grub >/dev/null 2>&1; fi; \
            fi"
        .into(),
        AptCache => "if command -v apt-get >/dev/null 2>&1; then apt-get clean; rm -rf /var/lib/apt/lists/*; fi; rm -rf /var/cache/apt/*.bin".into(),
        Logs => "journalctl --rotate >/dev/null 2>&1; journalctl --vacuum-time=1s >/dev/null 2>&1; \
            find /var/log -type f \\( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \\) -delete; \
            find /var/log -type f -exec truncate -s 0 {} +; rm -f /etc/mdxconf-build-id"
            .into(),
        BuildKey => "rm -f /root/.ssh/authorized_keys".into(),
        ShellHistory => "rm -f /root/.bash_history /home/*/.bash_history; rm -rf /tmp/* /var/tmp/*".into(),
        Trim => "sync; fstrim -a >/dev/null 2>&1 || true".into(),
    }
}

/// Verifies the result of the steps that must hold (fails the build otherwise).
const CHECKS: &str = "\
if [ -s /etc/machine-id ]; then echo 'machine-id not empty'; fi; \
if ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1; then echo 'SSH host keys still present'; fi; \
if [ -e /var/lib/cloud/instance ] || [ -e /var/lib/cloud/data/instance-id ]; then echo 'cloud-init instance state left (a deployed VM would not run its first boot)'; fi; \
for f in /etc/default/grub /boot/grub/grub.cfg; do \
  [ -f $f ] && grep -nE 'ds=nocloud|autoinstall|url=http://10\\.0\\.2\\.2|priority=critical' $f | sed \"s|^|$f: installer boot parameter left: |\"; \
done; true";

/// Run the chosen steps (in a fixed, safe order: the key that lets us in goes last).
pub async fn run(g: &Guest, steps: &[GeneralizeStep], log: &crate::progress::BuildLog) -> Result<()> {
    let mut ordered: Vec<GeneralizeStep> = GeneralizeStep::all().into_iter().filter(|s| steps.contains(s)).collect();
    // trim after everything else deleted its files
    if let Some(pos) = ordered.iter().position(|s| *s == GeneralizeStep::Trim) {
        let t = ordered.remove(pos);
        ordered.push(t);
    }
    // one SSH round trip for all steps (each costs seconds on an emulated guest); each step runs in
    // its own subshell and a failing step names itself
    let mut script = String::from("set -u\n");
    for s in &ordered {
        log.info(format!("generalize: {s:?}"));
        script.push_str(&format!("( {} ) || {{ echo 'generalize step {s:?} failed' >&2; exit 1; }}\n", script_for(*s)));
    }
    // removing the host keys stops sshd from accepting new connections, so the checks run in the
    // same session, after a marker
    script.push_str("echo @@checks\n");
    script.push_str(CHECKS);
    let out = g.run(&script).await?;
    let problems = out.split("@@checks").nth(1).unwrap_or("").to_string();
    let relevant: Vec<&str> = problems
        .lines()
        .filter(|l| {
            (l.contains("machine-id") && steps.contains(&GeneralizeStep::MachineId))
                || (l.contains("host keys") && steps.contains(&GeneralizeStep::SshHostKeys))
                || (l.contains("installer boot parameter") && steps.contains(&GeneralizeStep::GrubCmdline))
                || (l.contains("cloud-init instance state") && steps.contains(&GeneralizeStep::CloudInit))
        })
        .collect();
    if !relevant.is_empty() {
        bail!("generalization incomplete:\n{}", relevant.join("\n"));
    }
    Ok(())
}
