# mdxconf's generalize steps for a Debian image (crates/image/src/image/generalize.rs), as the Packer
# baselines' last shell provisioner: machine-id, SSH host keys, cloud-init, GRUB, apt caches, logs,
# build id, shell history, trim. Packer's shutdown_command then removes the build key and powers off.
set -eu
truncate -s 0 /etc/machine-id; rm -f /var/lib/dbus/machine-id; if [ -d /var/lib/dbus ]; then ln -s /etc/machine-id /var/lib/dbus/machine-id; fi
rm -f /etc/ssh/ssh_host_*
rm -rf /var/lib/cloud/instances /var/lib/cloud/instance
update-grub >/dev/null 2>&1
apt-get clean; rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
journalctl --rotate >/dev/null 2>&1 || true; journalctl --vacuum-time=1s >/dev/null 2>&1 || true
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' \) -delete; find /var/log -type f -exec truncate -s 0 {} +
rm -f /etc/mdxconf-build-id /root/.bash_history /home/*/.bash_history; rm -rf /tmp/* /var/tmp/*
sync; fstrim -a >/dev/null 2>&1 || true
