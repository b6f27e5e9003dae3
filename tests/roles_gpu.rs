//! GPU role tests on one real QEMU VM (no GPU needed): the NVIDIA driver's DKMS module is built for
//! every installed kernel, and nvcc from the cuda role compiles and links a .cu file.
//! Both go through `--check` (exact prediction), a real run and a second run with 0 changed.
//!
//! Heavy under TCG (DKMS compile of the NVIDIA module, ~1.5 GB of CUDA packages):
//! cargo test --test roles_gpu -- --ignored --nocapture --test-threads 1
#[path = "roles_support.rs"]
mod support;

use std::time::Duration;
use support::{apply_twice_with_check, Lab};

#[test]
#[ignore = "builds the NVIDIA DKMS module in a QEMU VM (long under TCG); run with --ignored"]
fn nvidia_driver_module_is_built_for_every_installed_kernel() {
    let image = support::lab_image();
    let lab = Lab::up(1, &image, 2048);
    let inv = lab.inventory("hosts.ini", &[("gpu", &[0])], &[]);
    apply_twice_with_check("playbooks/test-nvidia.yml", &inv, &[]);

    let kernels = lab.sh(0, "dpkg-query -W -f='${db:Status-Abbrev} ${Package}\\n' 'linux-image-[0-9]*' | awk '$1 == \"ii\" { sub(/^linux-image-/, \"\", $2); print $2 }'");
    let kernels: Vec<&str> = kernels.lines().collect();
    assert!(!kernels.is_empty());
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
    eprintln!("PASS: nvidia_driver: dkms built the module for {kernels:?}");
}

#[test]
#[ignore = "installs the CUDA toolkit in a QEMU VM (GBs, long under TCG); run with --ignored"]
fn cuda_nvcc_compiles_a_cu_file() {
    let image = support::lab_image();
    let lab = Lab::up(1, &image, 2048);
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
    eprintln!("PASS: cuda: nvcc compiled and linked add.cu");
}
