//! What `image schedule` writes units for (a leaf).
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct ScheduleOptions {
    /// The mdxconf binary the units run (absolute).
    pub binary: PathBuf,
    /// The catalogue directory (absolute).
    pub catalogue: PathBuf,
    pub cache_dir: PathBuf,
    /// Where outputs go: OUTPUT/<name>/..., the report in OUTPUT/catalogue/.
    pub output_dir: PathBuf,
    /// systemd OnCalendar= expression.
    pub on_calendar: String,
    /// systemd RandomizedDelaySec= (spreads many build machines' runs; `0` starts on time).
    pub randomized_delay: String,
    /// `image prune --keep`.
    pub keep: usize,
    pub jobs: Option<usize>,
    /// Unit name stem: STEM.service and STEM.timer.
    pub unit: String,
    /// Kubernetes: the container image holding mdxconf and QEMU.
    pub k8s_image: String,
    /// Kubernetes: the PersistentVolumeClaim holding the cache and outputs.
    pub k8s_claim: String,
    /// Kubernetes: the templates, one per index (definition file names in the catalogue).
    pub k8s_templates: Vec<String>,
}
