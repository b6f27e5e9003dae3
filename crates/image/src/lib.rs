//! Image builds (QEMU pipeline replacing Packer's qemu builder) and the local VM lab.
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
