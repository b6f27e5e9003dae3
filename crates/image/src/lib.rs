//! Image builds (QEMU pipeline replacing Packer's qemu builder) and the local VM lab.
pub mod cli;
