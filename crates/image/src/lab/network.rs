//! The lab's private network: every VM's second NIC joins one QEMU multicast socket network on
//! 127.0.0.1 (a virtual L2 segment only these VMs share). Addresses are static, set over SSH (through
//! the first, user-mode NIC) with a systemd-networkd file matched by MAC — no cloud-init needed.
pub const SUBNET_PREFIX: &str = "192.168.100";
pub const FIRST_HOST: u32 = 10;

pub fn private_ip(index: usize) -> String {
    format!("{SUBNET_PREFIX}.{}", FIRST_HOST as usize + index)
}

/// Locally administered MACs unique per lab (derived from the lab's multicast port) and per VM.
pub fn private_mac(mcast_port: u16, index: usize) -> String {
    format!("52:54:{:02x}:{:02x}:01:{:02x}", mcast_port >> 8, mcast_port & 0xff, index + 1)
}

pub fn nat_mac(mcast_port: u16, index: usize) -> String {
    format!("52:54:{:02x}:{:02x}:00:{:02x}", mcast_port >> 8, mcast_port & 0xff, index + 1)
}

/// Shell run in the guest: find the NIC with `mac`, give it `ip`/24 now and on every boot.
pub fn configure_script(mac: &str, ip: &str, hostname: &str) -> String {
    format!(
        r#"set -e
IF=$(for d in /sys/class/net/*; do if [ "$(cat $d/address)" = "{mac}" ]; then basename $d; fi; done)
[ -n "$IF" ] || {{ echo "no interface with MAC {mac}"; exit 1; }}
mkdir -p /etc/systemd/network
printf '%s\n' '# written by mdxconf lab' '[Match]' 'MACAddress={mac}' '' '[Network]' 'Address={ip}/24' 'LinkLocalAddressing=no' '' '[Link]' 'RequiredForOnline=no' > /etc/systemd/network/10-mdxconf-lab-private.network
ip link set "$IF" up
ip -4 addr show dev "$IF" | grep -q "inet {ip}/" || ip addr add {ip}/24 dev "$IF"
if command -v networkctl >/dev/null 2>&1 && systemctl is-active -q systemd-networkd; then networkctl reload >/dev/null 2>&1 || true; fi
hostname {hostname}; echo {hostname} > /etc/hostname
echo "$IF"
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn addresses() {
        assert_eq!(private_ip(0), "192.168.100.10");
        assert_eq!(private_mac(0x1234, 1), "52:54:12:34:01:02");
        assert_ne!(private_mac(5000, 0), nat_mac(5000, 0));
    }
}
