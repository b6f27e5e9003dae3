# pyinfra inventory for the apply benchmark, generated from the fleet's Ansible INI inventory (the file
# sshd_fleet writes; path in $BENCH_INVENTORY): the same hosts, addresses, ports, user and key, and strict
# host key checking against the fleet's known_hosts, as mdxconf and ansible-playbook use.
import os
import re

_text = open(os.environ["BENCH_INVENTORY"]).read()
_kh = re.search(r"UserKnownHostsFile=([^\s\"]+)", _text)
bench = []
for _line in _text.splitlines():
    _words = _line.split()
    if not _words or _words[0].startswith(("[", "#", ";")) or "=" in _words[0]:
        continue
    _v = dict(w.split("=", 1) for w in _words[1:] if "=" in w)
    bench.append(
        (
            _words[0],
            {
                "ssh_hostname": _v["ansible_host"],
                "ssh_port": int(_v["ansible_port"]),
                "ssh_user": _v["ansible_user"],
                "ssh_key": _v["ansible_ssh_private_key_file"],
                "ssh_known_hosts_file": _kh.group(1) if _kh else None,
                "ssh_strict_host_key_checking": "yes",
                "ssh_allow_agent": False,
                "ssh_look_for_keys": False,
            },
        )
    )
