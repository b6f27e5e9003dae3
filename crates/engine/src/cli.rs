//! `mdxconf apply`. PLACEHOLDER: replaced by the executor implementation.
#[derive(clap::Args, Debug)]
pub struct ApplyArgs {}
pub fn run_apply(_a: ApplyArgs) -> anyhow::Result<i32> { anyhow::bail!("apply: not implemented yet") }
