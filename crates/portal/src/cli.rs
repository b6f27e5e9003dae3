//! `mdxconf inventory ...` and `mdxconf passwdinit`. PLACEHOLDER: replaced by the portal implementation.
#[derive(clap::Args, Debug)]
pub struct InventoryArgs {}
#[derive(clap::Args, Debug)]
pub struct PasswdInitArgs {}
pub fn run_inventory(_a: InventoryArgs) -> anyhow::Result<i32> { anyhow::bail!("inventory: not implemented yet") }
pub fn run_passwdinit(_a: PasswdInitArgs) -> anyhow::Result<i32> { anyhow::bail!("passwdinit: not implemented yet") }
