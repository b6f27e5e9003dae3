//! Native OVA export for vSphere: streamOptimized VMDK writer, OVF descriptor, SHA-256 manifest, tar.
pub mod cli;
