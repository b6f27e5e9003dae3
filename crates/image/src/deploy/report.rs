//! What `image test` found: one line per check, as text for people and JSON for jobs.
use super::options::Cloud;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub artifact: String,
    pub cloud: Cloud,
    pub passed: bool,
    pub seconds: f64,
    pub checks: Vec<Check>,
}

impl TestReport {
    pub fn failed(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }

    pub fn human(&self) -> String {
        let mut s = format!("image test {} ({}):\n", self.artifact, self.cloud.name());
        let width = self.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &self.checks {
            s.push_str(&format!("  {} {:<width$}  {:>5.1}s  {}\n", if c.ok { "ok  " } else { "FAIL" }, c.name, c.seconds, c.detail.replace('\n', "\n        ")));
        }
        let failed = self.failed().len();
        s.push_str(&format!("{}: {} of {} checks passed in {:.0}s\n", if self.passed { "PASSED" } else { "FAILED" }, self.checks.len() - failed, self.checks.len(), self.seconds));
        s
    }
}
