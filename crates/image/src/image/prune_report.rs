//! What `image prune` is asked and what it did (a leaf: types and their printing).
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Default)]
pub struct PruneOptions {
    /// Keep this many newest builds of each image.
    pub keep: Option<usize>,
    /// Remove only builds that finished longer ago than this.
    pub older_than: Option<Duration>,
    /// Say what would go; remove nothing.
    pub dry_run: bool,
    /// Only these images (default: all).
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrunedEntry {
    pub name: String,
    pub key: String,
    pub dir: PathBuf,
    pub bytes: u64,
    pub finished_at: u64,
    /// Why it stays (empty for a removed one).
    pub kept_because: Option<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct PruneReport {
    pub dry_run: bool,
    pub removed: Vec<PrunedEntry>,
    pub kept: Vec<PrunedEntry>,
}

impl PruneReport {
    pub fn bytes_freed(&self) -> u64 {
        self.removed.iter().map(|e| e.bytes).sum()
    }

    pub fn human(&self) -> String {
        let mut s = String::new();
        let verb = if self.dry_run { "would remove" } else { "removed" };
        for e in &self.removed {
            s += &format!("{verb}  {} {} ({} MiB)\n", e.name, e.key, e.bytes >> 20);
        }
        for e in &self.kept {
            s += &format!("kept     {} {} ({})\n", e.name, e.key, e.kept_because.as_deref().unwrap_or(""));
        }
        s += &format!("{verb} {} build(s), {} MiB; kept {}\n", self.removed.len(), self.bytes_freed() >> 20, self.kept.len());
        s
    }
}

/// `--older-than`: a number with s, m, h, d or w (`30d`, `12h`, `2w`).
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().map_err(|_| format!("`{s}` is no age: write a number and a unit, e.g. 30d, 12h, 2w"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (s, m, h, d or w)")),
    };
    n.checked_mul(mult).map(Duration::from_secs).ok_or_else(|| format!("`{s}` is too long an age"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages() {
        assert_eq!(super::parse_age("30d").unwrap().as_secs(), 30 * 86_400);
        assert_eq!(super::parse_age("12h").unwrap().as_secs(), 12 * 3600);
        assert_eq!(super::parse_age("2w").unwrap().as_secs(), 14 * 86_400);
        assert!(super::parse_age("x").is_err() && super::parse_age("3y").is_err() && super::parse_age("99999999999999999999w").is_err());
    }
}
