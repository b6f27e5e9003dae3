//! What a catalogue build returns: one outcome per image, in build order (a leaf: types and their
//! printing, no building).
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Built now.
    Built,
    /// Rebuilt by `--refresh` (its package archives changed, or it was never built).
    Refreshed,
    /// The cache held this exact build (or `--refresh` found its archives unchanged).
    Cached,
    Failed,
    /// Not attempted: its base failed or was skipped.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub name: String,
    pub definition: PathBuf,
    pub base: Option<String>,
    pub status: Status,
    pub seconds: f64,
    /// The cache entry's disk when built or cached.
    pub image: Option<PathBuf>,
    pub outputs: Vec<PathBuf>,
    /// Why it failed or was skipped.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogueReport {
    pub directory: PathBuf,
    pub jobs: usize,
    pub seconds: f64,
    pub images: Vec<Outcome>,
    /// What the run's shared package cache moved (absent when the run had none).
    pub package_cache: Option<super::package_cache_options::Traffic>,
}

impl CatalogueReport {
    pub fn failed(&self) -> usize {
        self.images.iter().filter(|o| matches!(o.status, Status::Failed | Status::Skipped)).count()
    }

    fn count(&self, s: Status) -> usize {
        self.images.iter().filter(|o| o.status == s).count()
    }

    /// The summary table a maintainer reads after a rebuild.
    pub fn table(&self) -> String {
        let w = self.images.iter().map(|o| o.name.len()).max().unwrap_or(4).max(5);
        let mut s = format!("{:<w$}  {:<7}  {:>8}  {}\n", "IMAGE", "STATUS", "SECONDS", "BASE / OUTPUTS / ERROR");
        for o in &self.images {
            let status = format!("{:?}", o.status).to_lowercase();
            let mut detail = o.base.as_ref().map(|b| format!("on {b}")).unwrap_or_default();
            if let Some(e) = &o.error {
                detail = format!("{detail}{}{}", if detail.is_empty() { "" } else { "; " }, e.lines().next().unwrap_or(""));
            } else if !o.outputs.is_empty() {
                let names: Vec<String> = o.outputs.iter().map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()).collect();
                detail = format!("{detail}{}{}", if detail.is_empty() { "" } else { "; " }, names.join(", "));
            }
            s += &format!("{:<w$}  {:<7}  {:>8.1}  {}\n", o.name, status, o.seconds, detail);
        }
        s += &format!(
            "{} images in {:.1}s with {} job(s): {} built, {} refreshed, {} cached, {} failed, {} skipped\n",
            self.images.len(),
            self.seconds,
            self.jobs,
            self.count(Status::Built),
            self.count(Status::Refreshed),
            self.count(Status::Cached),
            self.count(Status::Failed),
            self.count(Status::Skipped)
        );
        if let Some(t) = &self.package_cache {
            s += &format!("{}\n", t.summary());
        }
        s
    }
}
