#!/usr/bin/env bash
# The main job on its built-in default: build the Debian 12 server template with QEMU (cached by the hash
# of its inputs), export it for both mdx clouds (an OVA for vSphere, a qcow2 + Glance description for
# OpenStack), verify the OVA, and boot each export the way its cloud would to check that a person can
# log in (`mdxconf image test`).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin mdxconf
bin=target/release/mdxconf
out=output/debian12-server
$bin image build images/debian12-server.yaml --output-dir "$out"
$bin ova verify "$out/debian12-server.ova"
$bin image test "$out/debian12-server.ova"
$bin image test "$out/debian12-server-openstack.qcow2"
echo "templates:"
echo "  mdx I  (vSphere):   $out/debian12-server.ova"
echo "  mdx II (OpenStack): $out/debian12-server-openstack.qcow2"
echo "    upload: (cd $out && $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["command_line"])' "$out/debian12-server-openstack.json"))"
