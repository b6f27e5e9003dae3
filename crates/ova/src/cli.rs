//! `mdxconf export` and `mdxconf ova verify`.
use anyhow::Result;
use std::path::PathBuf;

use crate::input::InputFormat;
use crate::ova::{default_mtime, export_ova, ExportSpec};
use crate::ovf::{Controller, Firmware, VmHardware};
use crate::verify::{verify_with, SchemaMode, VerifyOptions};
use crate::vsphere::VsphereVersion;

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Disk image to export (raw or qcow2)
    #[arg(long)]
    pub disk: PathBuf,
    /// Input format
    #[arg(long, value_enum, default_value = "auto")]
    pub format: InputFormat,
    /// VM name (also the base name of the files inside the OVA)
    #[arg(long)]
    pub name: String,
    /// vSphere guest OS id, e.g. ubuntu64Guest, debian12_64Guest
    #[arg(long, default_value = "ubuntu64Guest")]
    pub os: String,
    #[arg(long, default_value_t = 2)]
    pub cpus: u32,
    /// Memory in MiB
    #[arg(long, default_value_t = 4096)]
    pub memory: u64,
    #[arg(long, value_enum, default_value = "efi")]
    pub firmware: Firmware,
    #[arg(long, value_enum, default_value = "pvscsi")]
    pub controller: Controller,
    /// The oldest vSphere the OVA must deploy on (7.0, 7.0u3, 8.0u2, ...): sets the default hardware
    /// version and refuses a guest OS id it does not know
    #[arg(long, default_value = "7.0", value_parser = parse_vsphere)]
    pub vsphere: VsphereVersion,
    /// Virtual hardware version (vmx-NN); default: the newest the --vsphere release runs
    #[arg(long = "vmx-version")]
    pub vmx_version: Option<u32>,
    /// Leave out the vApp options cloud-init reads (instance-id, hostname, public-keys, user-data,
    /// seedfrom, password over the iso and com.vmware.guestInfo transports)
    #[arg(long)]
    pub no_vapp: bool,
    /// Network name the NIC connects to
    #[arg(long, default_value = "VM Network")]
    pub network: String,
    /// zlib level for grains (1 = fastest, 9 = smallest)
    #[arg(long, default_value_t = 1)]
    pub level: u32,
    /// Compression threads (default: all cores)
    #[arg(long)]
    pub threads: Option<usize>,
    /// mtime for tar headers (default: $SOURCE_DATE_EPOCH or 0)
    #[arg(long)]
    pub mtime: Option<u64>,
    /// Output .ova path
    #[arg(short = 'o', long)]
    pub output: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct OvaArgs {
    #[command(subcommand)]
    pub cmd: OvaCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum OvaCmd {
    /// Check the tar layout (names, member types, order), manifest hashes, the OVF descriptor (structure,
    /// and DMTF's schema with xmllint) and each VMDK's header fields and structure
    Verify {
        file: PathBuf,
        /// Skip inflating every grain (structure-only check)
        #[arg(long)]
        quick: bool,
        /// Validate the descriptor against this XSD instead of the bundled DMTF dsp8023 1.1.1 schema
        /// (needs xmllint)
        #[arg(long, value_name = "XSD", conflicts_with = "no_schema")]
        schema: Option<PathBuf>,
        /// Fail when xmllint is missing instead of reporting the schema check as not done
        #[arg(long, conflicts_with = "no_schema")]
        require_schema: bool,
        /// Skip the schema check (the output says it was not done)
        #[arg(long)]
        no_schema: bool,
    },
}

fn parse_vsphere(s: &str) -> Result<VsphereVersion, String> {
    VsphereVersion::parse(s).map_err(|e| e.to_string())
}

pub fn run_export(a: ExportArgs) -> Result<i32> {
    let product = (!a.no_vapp).then(|| crate::vapp::cloud_init_product(&a.name, ""));
    let spec = ExportSpec {
        disk: a.disk,
        format: a.format,
        vm: VmHardware {
            name: a.name,
            os_type: a.os,
            cpus: a.cpus,
            memory_mib: a.memory,
            firmware: a.firmware,
            controller: a.controller,
            vmx_version: a.vmx_version.unwrap_or_else(|| a.vsphere.max_hardware_version().unwrap_or(17)),
            network: a.network,
            product,
        },
        vsphere: a.vsphere,
        output: a.output,
        mtime: a.mtime.unwrap_or_else(default_mtime),
        compression_level: a.level,
        threads: a.threads,
        progress: true,
    };
    let r = export_ova(&spec)?;
    eprintln!(
        "wrote {} ({} bytes; {} input, capacity {} bytes, {} data grains, vmdk {} bytes) in {:.1}s",
        r.output.display(),
        r.ova_bytes,
        r.input_format,
        r.capacity,
        r.grains,
        r.vmdk_bytes,
        r.elapsed.as_secs_f64()
    );
    Ok(0)
}

pub fn run_ova(a: OvaArgs) -> Result<i32> {
    match a.cmd {
        OvaCmd::Verify { file, quick, schema, require_schema, no_schema } => {
            let schema = match (schema, require_schema, no_schema) {
                (Some(xsd), _, _) => SchemaMode::File(xsd),
                (None, true, _) => SchemaMode::Required,
                (None, false, true) => SchemaMode::Off,
                (None, false, false) => SchemaMode::Auto,
            };
            let r = verify_with(&file, &VerifyOptions { inflate: !quick, schema })?;
            for (name, d) in &r.disks {
                println!("{name}: {} ({} bytes capacity, {} grains, {} grain tables)", d.create_type, d.capacity_bytes, d.grains, d.grain_tables);
            }
            println!("{}", r.schema);
            println!("{}: OK ({} members)", file.display(), r.members.len());
            Ok(0)
        }
    }
}
