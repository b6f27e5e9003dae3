//! The catalogue report's data (a leaf: what `image report` writes as JSON and renders as HTML).
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct VersionEntry {
    pub version: u64,
    pub key: String,
    pub finished_at: u64,
    pub kernel: String,
    /// What changed from the version before (the first: "first build").
    pub summary: String,
    /// The changelog page, relative to the report directory.
    pub changelog: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TemplateRow {
    pub name: String,
    pub version: u64,
    pub key: String,
    pub finished_at: u64,
    pub age_days: u64,
    pub kernel: String,
    /// Allocated bytes of the cached disks.
    pub bytes: u64,
    pub base: Option<String>,
    pub last_change: String,
    /// Oldest first.
    pub versions: Vec<VersionEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogueSnapshot {
    pub generated_at: u64,
    pub templates: Vec<TemplateRow>,
}
