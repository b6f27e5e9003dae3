//! The OVF descriptor validated against DMTF's OVF envelope schema (dsp8023 1.1.1 and the CIM schemas
//! it imports, bundled in the binary from tests/fixtures/dmtf) with `xmllint --nonet`. Whether the
//! check ran is always reported: without xmllint it is skipped and says so, unless it is required.
use anyhow::{anyhow, bail, Context, Result};
use std::fmt;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::atomic::AtomicFile;

/// The bundled schema files; dsp8023_1.1.1.xsd is the entry point.
const BUNDLED: &[(&str, &str)] = &[
    ("dsp8023_1.1.1.xsd", include_str!("../../tests/fixtures/dmtf/dsp8023_1.1.1.xsd")),
    ("CIM_ResourceAllocationSettingData.xsd", include_str!("../../tests/fixtures/dmtf/CIM_ResourceAllocationSettingData.xsd")),
    ("CIM_VirtualSystemSettingData.xsd", include_str!("../../tests/fixtures/dmtf/CIM_VirtualSystemSettingData.xsd")),
    ("common.xsd", include_str!("../../tests/fixtures/dmtf/common.xsd")),
    ("xml.xsd", include_str!("../../tests/fixtures/dmtf/xml.xsd")),
];
const ENTRY: &str = "dsp8023_1.1.1.xsd";
/// At most this much of xmllint's complaint goes into the error.
const MAX_REPORT_LINES: usize = 8;

/// Which schema check `verify` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SchemaMode {
    /// The bundled schema if xmllint is on PATH; otherwise skipped, and the report says so.
    #[default]
    Auto,
    /// The bundled schema; a missing xmllint is an error.
    Required,
    /// This schema file (its imports resolved next to it); a missing xmllint is an error.
    File(PathBuf),
    /// No schema check (reported as not done).
    Off,
}

/// What became of the schema check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaCheck {
    Passed { schema: String },
    Skipped { reason: String },
}

impl fmt::Display for SchemaCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaCheck::Passed { schema } => write!(f, "OVF schema: valid against {schema} (xmllint)"),
            SchemaCheck::Skipped { reason } => write!(f, "OVF schema: NOT CHECKED ({reason})"),
        }
    }
}

/// Writes the bundled schemas into `dir`, the CIM schemas' absolute import of common.xsd pointed at
/// the local copy (xmllint runs with --nonet); returns the entry point's path.
pub fn write_bundled(dir: &Path) -> Result<PathBuf> {
    for (name, text) in BUNDLED {
        let text = text.replace("schemaLocation=\"http://schemas.dmtf.org/wbem/wscim/1/common.xsd\"", "schemaLocation=\"common.xsd\"");
        write_file(&dir.join(name), text.as_bytes())?;
    }
    Ok(dir.join(ENTRY))
}

fn write_file(path: &Path, data: &[u8]) -> Result<()> {
    let mut f = AtomicFile::create(path).with_context(|| format!("create {}", path.display()))?;
    f.file.write_all(data)?;
    f.commit()
}

/// Validates the descriptor `text` (the member `ovf_name`) as `mode` says.
pub fn check(text: &str, ovf_name: &str, mode: &SchemaMode) -> Result<SchemaCheck> {
    if *mode == SchemaMode::Off {
        return Ok(SchemaCheck::Skipped { reason: "--no-schema".into() });
    }
    let dir = tempfile::tempdir().context("temporary directory for the schema check")?;
    let (schema, label) = match mode {
        SchemaMode::File(p) => (p.clone(), p.display().to_string()),
        _ => (write_bundled(dir.path())?, "the bundled DMTF OVF envelope schema dsp8023 1.1.1".to_string()),
    };
    let doc = dir.path().join("descriptor.ovf");
    write_file(&doc, text.as_bytes())?;
    let out = match Command::new("xmllint").arg("--nonet").arg("--noout").arg("--schema").arg(&schema).arg(&doc).stdin(Stdio::null()).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound && *mode == SchemaMode::Auto => {
            return Ok(SchemaCheck::Skipped { reason: "xmllint not found on PATH; install libxml2-utils, or pass --require-schema to make this an error".into() })
        }
        Err(e) => bail!("xmllint, needed for the schema check: {e}"),
    };
    if out.status.success() {
        return Ok(SchemaCheck::Passed { schema: label });
    }
    let doc_s = doc.display().to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&doc_s, ovf_name);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    let shown = lines.iter().take(MAX_REPORT_LINES).copied().collect::<Vec<_>>().join("\n  ");
    let more = lines.len().saturating_sub(MAX_REPORT_LINES);
    let more = if more > 0 { format!("\n  ({more} more lines)") } else { String::new() };
    // xmllint: 3 = the document fails validation; 4/5 = the schema itself could not be used
    match out.status.code() {
        Some(3) => Err(anyhow!("{ovf_name}: fails {label}:\n  {shown}{more}")),
        _ => Err(anyhow!("xmllint could not validate against {label} ({}):\n  {shown}{more}", out.status)),
    }
}
