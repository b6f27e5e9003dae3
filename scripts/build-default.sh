#!/usr/bin/env bash
# The main job on its built-in default: build the Debian 12 server template with QEMU (cached by the hash
# of its inputs), export it as an OVA for vSphere and verify the OVA.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin mdxconf
bin=target/release/mdxconf
out=output/debian12-server
$bin image build images/debian12-server.yaml --output-dir "$out"
$bin export --disk "$out/debian12-server.qcow2" --format qcow2 --name debian12-server \
  --os debian12_64Guest --cpus 2 --memory 1024 --firmware bios -o "$out/debian12-server.ova"
$bin ova verify "$out/debian12-server.ova"
echo "template: $out/debian12-server.ova"
