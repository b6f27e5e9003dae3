//! Native OVA export for vSphere: streamOptimized VMDK writer, OVF descriptor, SHA-256 manifest, tar.
//!
//! Library entry point for other crates: [`export_ova`] with an [`ExportSpec`]; [`verify::verify`] to check.
//!
//! Map of the crate:
//! - [`pipeline`]: disk in, OVA out — read the input disk ([`disk`], [`input`], [`qcow2`]: raw, qcow2,
//!   VMDK), write a streamOptimized VMDK ([`vmdk`], written by hand: no crate writes it), the OVF
//!   descriptor ([`ovf`], [`descriptor`], [`vsphere`] hardware versions, [`vapp`] cloud-init options), the
//!   SHA-256 manifest, and the tar ([`tarfmt`], [`ova`]), atomically.
//! - [`verify`]: an OVA checked as an importer would (tar members and order, manifest, descriptor structure
//!   and DMTF schema, VMDK header fields as qemu reads them, grains).
mod atomic;
#[cfg(feature = "cli")]
pub mod cli;
pub mod descriptor;
pub mod disk;
pub mod input;
pub mod ova;
pub mod ovf;
pub mod pipeline;
pub mod qcow2;
pub mod tarfmt;
pub mod vapp;
pub mod verify;
pub mod vmdk;
pub mod vsphere;

pub use disk::InputFormat;
pub use ova::{export_ova, ExportReport, ExportSpec};
pub use ovf::{Controller, Firmware, OvfProperty, ProductSection, VmHardware};
pub use vsphere::VsphereVersion;
