//! GPU role tests on one real QEMU VM (no GPU needed): the NVIDIA driver's DKMS module is built for
//! every installed kernel, and nvcc from the cuda role compiles and links a .cu file.
//! Both go through `--check` (exact prediction), a real run and a second run with 0 changed.
//!
//! Heavy under TCG (DKMS compile of the NVIDIA module for two kernels, ~1.6 GB of CUDA packages
//! unpacked to ~5 GB): on a 2-core host at load ~27 neither finished within an hour (2026-11-25:
//! lab up 5 min, cuda --check 33 s, cuda download ~20 min then unpacking at ~5 min per large
//! library; nvidia --check 2 min, the second kernel's initramfs alone >45 min before INITRD=No).
//! 2026-11-26, idle machine: cuda passed in 65 min (first run 61 min); nvidia was stopped after 50 min
//! with DKMS still on the first kernel. Second nvidia run (2 vCPUs, quick_initramfs): --check 6 changes,
//! the real run's install took 76 min (DKMS ~9 files/min per kernel, two kernels), then it failed at "find
//! kernels without a built module" on an engine bug since fixed (a `shell: |` script's lines were joined).
//! 2026-11-26, after the fix: passed (--check 6 changes == the real run's 6, second run 0 changed, the
//! module installed for 6.1.0-47 and 6.1.0-50) in 147 min, the real run 139 min of it, with other tests
//! loading the host for a part of it. Not for a 90-minute CI under TCG; run them where KVM works:
//! cargo test --test it -- --ignored --nocapture --test-threads 1 roles_gpu::
use crate::support;

use std::time::{Duration, Instant};
use support::{apply_twice_with_check, Lab};

#[test]
#[ignore = "builds the NVIDIA DKMS module in a QEMU VM (long under TCG); run with --ignored"]
fn nvidia_driver_module_is_built_for_every_installed_kernel() {
    let started = Instant::now();
    let image = support::lab_image();
    // 2 vCPUs: DKMS compiles with one job per CPU, and TCG runs each vCPU on its own host thread
    let lab = Lab::up_with_cpus(1, &image, 2048, 2);
    let inv = lab.inventory("hosts.ini", &[("gpu", &[0])], &[]);
    quick_initramfs(&lab);
    // A second kernel (image only: the role must bring its headers), so "every kernel" is tested.
    let second = install_second_kernel(&lab);
    eprintln!("second kernel installed: {second} ({:?} since start)", started.elapsed());
    apply_twice_with_check("playbooks/test-nvidia.yml", &inv, &[]);

    let kernels = lab.sh(0, "dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' 'linux-image-[0-9]*' | awk '$1 == \"ii\" { sub(/^linux-image-/, \"\", $2); print $2 }'");
    let kernels: Vec<&str> = kernels.lines().collect();
    assert!(kernels.len() >= 2 && kernels.contains(&second.as_str()), "expected the image's kernel and {second}, got {kernels:?}");
    let status = lab.sh(0, "dkms status");
    for k in &kernels {
        assert!(
            status.lines().any(|l| l.starts_with("nvidia") && l.contains(&format!(", {k}, ")) && l.ends_with(": installed")),
            "dkms status has no installed nvidia module for kernel {k}:\n{status}"
        );
        lab.sh(0, &format!("ls /lib/modules/{k}/updates/dkms/ | grep -q '^nvidia'"));
    }
    // persistence mode is configured and the daemon enabled (it only starts with a GPU present)
    assert_eq!(lab.sh(0, "systemctl is-enabled nvidia-persistenced").trim(), "enabled");
    assert!(lab.sh(0, "systemctl cat nvidia-persistenced").contains("--persistence-mode"));
    eprintln!("PASS: nvidia_driver: dkms built the module for {kernels:?} in {:?}", started.elapsed());
}

/// Test-VM tuning, not role behaviour: the driver's packages (firmware-misc-nonfree, the nouveau
/// blacklist) each trigger an initramfs rebuild, and Debian's default (every module, zstd -19) takes
/// many minutes per rebuild under TCG. Only the modules this VM needs, gzip-compressed.
fn quick_initramfs(lab: &Lab) {
    lab.sh(0, "printf 'MODULES=dep\\nCOMPRESS=gzip\\n' > /etc/initramfs-tools/conf.d/zz-mdxconf-test.conf");
}

/// Install a kernel of another ABI than the image's from the guest's own apt sources (the newest
/// one not yet installed whose headers are also available) and return its release ("6.1.0-N-amd64").
fn install_second_kernel(lab: &Lab) -> String {
    let pick = r#"set -e
apt-get update -qq
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 'linux-image-[0-9]*' | awk '$1 == "ii" { print $2 }')
for p in $(apt-cache pkgnames linux-image- | grep -E '^linux-image-[0-9.]+-[0-9]+-amd64$' | sort -rV); do
  echo "$installed" | grep -qx "$p" && continue
  k=${p#linux-image-}
  apt-cache show "$p" >/dev/null 2>&1 && apt-cache show "linux-headers-$k" >/dev/null 2>&1 || continue
  echo "$k"; exit 0
done
echo "no second kernel in: $(apt-cache pkgnames linux-image- | sort -V | tr '\n' ' ')" >&2; exit 1"#;
    let k = lab.sh(0, pick).trim().to_string();
    // never booted here, only built against: INITRD=No skips its initramfs (minutes under TCG)
    lab.sh(0, &format!("INITRD=No DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-image-{k} >/dev/null"));
    k
}

#[test]
#[ignore = "installs the CUDA toolkit in a QEMU VM (GBs, long under TCG); run with --ignored"]
fn cuda_nvcc_compiles_a_cu_file() {
    let started = Instant::now();
    let image = support::lab_image();
    let lab = Lab::up(1, &image, 2048);
    // the image's 8 GiB do not hold Debian's toolkit (GBs unpacked) next to its downloaded .debs
    lab.grow_disk(0, 16);
    let inv = lab.inventory("hosts.ini", &[("gpu", &[0])], &[]);
    apply_twice_with_check("playbooks/test-cuda.yml", &inv, &[]);

    let src = r#"#include <cstdio>
__global__ void add(const float *a, const float *b, float *c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
int main() { printf("compiled with nvcc\n"); return 0; }
"#;
    lab.sh(0, &format!("mkdir -p /root/cu && cat > /root/cu/add.cu <<'EOF'\n{src}EOF"));
    let out = lab.wait_for(0, "cd /root/cu && bash -lc 'nvcc -o add add.cu' && ./add", Duration::from_secs(1));
    assert_eq!(out.trim(), "compiled with nvcc");
    // device code really was generated for a GPU architecture
    let sass = lab.sh(0, "cd /root/cu && (cuobjdump --list-elf add || cuobjdump -lelf add)");
    assert!(sass.contains("sm_"), "no device code in the binary:\n{sass}");
    eprintln!("PASS: cuda: nvcc compiled and linked add.cu in {:?}", started.elapsed());
}
