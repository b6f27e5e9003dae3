//! `mdxconf export` and `mdxconf ova verify`. PLACEHOLDER: replaced by the export implementation.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {}
#[derive(clap::Args, Debug)]
pub struct OvaArgs {}
pub fn run_export(_a: ExportArgs) -> anyhow::Result<i32> { anyhow::bail!("export: not implemented yet") }
pub fn run_ova(_a: OvaArgs) -> anyhow::Result<i32> { anyhow::bail!("ova: not implemented yet") }
