//! `mdxconf image ...` and `mdxconf lab ...`. PLACEHOLDER: replaced by the image implementation.
#[derive(clap::Args, Debug)]
pub struct ImageArgs {}
#[derive(clap::Args, Debug)]
pub struct LabArgs {}
pub fn run_image(_a: ImageArgs) -> anyhow::Result<i32> { anyhow::bail!("image: not implemented yet") }
pub fn run_lab(_a: LabArgs) -> anyhow::Result<i32> { anyhow::bail!("lab: not implemented yet") }
