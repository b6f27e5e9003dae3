//! Image builds (QEMU pipeline replacing Packer's qemu builder) and the local VM lab.
//!
//! Map of the crate:
//! - [`image`]: `image build` — a definition (images/*.yaml) read and checked, a root file system from
//!   mmdebstrap or an installer booted in QEMU, provisioning by the role engine, generalization, the
//!   build cache (keyed by the hash of every input) and the outputs for both clouds (OVA, qcow2 + Glance).
//! - [`deploy`]: `image test` / `image deploy` — boot an export the way vSphere or OpenStack would
//!   (devices, ovf-env.xml ISO or config drive) and check that a person can log in.
//! - [`lab`]: `lab up N` — local VMs from a built image on a private network, with an inventory.
//! - [`qemu`] (accelerator probe, ports, QMP, serial console), [`guest`] (SSH into a guest), [`iso`],
//!   [`proc`], [`progress`], [`util`]: the parts the three above share.
#[cfg(feature = "cli")]
pub mod cli;
pub mod deploy;
pub mod guest;
pub mod image;
pub mod iso;
pub mod lab;
pub mod proc;
pub mod progress;
pub mod qemu;
pub mod util;

pub use image::{build, BuildOptions, BuildResult, OnError};
