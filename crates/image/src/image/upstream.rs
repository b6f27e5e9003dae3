//! `image build --refresh`, for scheduled rebuilds: the package archives an image is built from,
//! reduced to a digest of their package indexes. A refreshed build's cache key includes that digest,
//! so an unchanged archive is a cache hit and a changed one (new packages, a new kernel) rebuilds the
//! image and, through the base's key, every variant on it.
//!
//! Only the `SHA256:` section of each Release/InRelease file is digested: the hashes of the Packages
//! indexes. Date and Valid-Until change on every archive run even when no package did.
use super::definition::{Definition, Source};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::process::Command;

/// What a refreshed build recorded about its archives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamState {
    /// Release/InRelease URLs, in the definition's order
    pub urls: Vec<String>,
    /// sha256 over every URL's package-index hashes
    pub digest: String,
    /// the cache key of the definition without the archive state
    pub definition_key: String,
}

/// The Release files that describe where `def`'s packages come from: `upstream:` when given; for a
/// rootfs source its mirror's suite; for an overlay, its base's (the roles install from the same
/// archives). Installer images without `upstream:` have none (the ISO is pinned by its sha256).
pub fn urls(def: &Definition, base_urls: &[String]) -> Vec<String> {
    if !def.upstream.is_empty() {
        return def.upstream.clone();
    }
    match &def.source {
        Some(Source::Rootfs(r)) => vec![format!("{}/dists/{}/InRelease", r.mirror.trim_end_matches('/'), r.suite)],
        Some(Source::Installer(_)) => vec![],
        None => base_urls.to_vec(),
    }
}

/// The `SHA256:` lines of a Release/InRelease file (`<hash> <size> <path>`), as found.
pub fn index_hashes(release: &str) -> Result<Vec<String>> {
    let mut out = vec![];
    let mut inside = false;
    for line in release.lines() {
        if line.starts_with(' ') {
            if inside {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() == 3 && f[0].len() == 64 && f[0].chars().all(|c| c.is_ascii_hexdigit()) {
                    out.push(f.join(" "));
                }
            }
        } else {
            inside = line.trim_end() == "SHA256:";
        }
    }
    if out.is_empty() {
        bail!("not an apt Release/InRelease file (no SHA256 section with index hashes)");
    }
    Ok(out)
}

/// Digest of the package indexes behind `urls` (`url` and its index hashes, in order).
pub fn digest(releases: &[(String, String)]) -> Result<String> {
    let mut h = Sha256::new();
    for (url, text) in releases {
        let lines = index_hashes(text).with_context(|| url.clone())?;
        h.update(url.as_bytes());
        h.update([0]);
        for l in lines {
            h.update(l.as_bytes());
            h.update([b'\n']);
        }
        h.update([0]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Fetch every URL (curl, as the installer ISOs) and digest them.
pub async fn fetch(urls: &[String]) -> Result<Vec<(String, String)>> {
    let mut out = vec![];
    for url in urls {
        let res = Command::new("curl").args(["-fsSL", "--retry", "2", "--max-time", "120", url]).output().await.context("running curl")?;
        if !res.status.success() {
            bail!("fetching {url} failed: {}", String::from_utf8_lossy(&res.stderr).trim());
        }
        out.push((url.clone(), String::from_utf8_lossy(&res.stdout).into_owned()));
    }
    Ok(out)
}

/// The newest `Date:` of the fetched Release files, in unix seconds (when the archives last changed,
/// as far as their files say).
pub fn newest_date(releases: &[(String, String)]) -> Option<u64> {
    releases.iter().filter_map(|(_, t)| t.lines().find_map(|l| l.strip_prefix("Date:")).and_then(|d| parse_rfc2822(d.trim()))).max()
}

/// `Sat, 11 Jul 2026 10:16:37 UTC` (apt's Release date format) to unix seconds.
fn parse_rfc2822(s: &str) -> Option<u64> {
    let s = s.split_once(',').map(|(_, rest)| rest).unwrap_or(s);
    let f: Vec<&str> = s.split_whitespace().collect();
    if f.len() < 4 || !matches!(f.get(4).copied(), None | Some("UTC" | "GMT" | "+0000")) {
        return None;
    }
    let day: i64 = f[0].parse().ok()?;
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|m| *m == f[1])? as i64 + 1;
    let year: i64 = f[2].parse().ok()?;
    let hms: Vec<i64> = f[3].split(':').map(|x| x.parse().ok()).collect::<Option<_>>()?;
    let [h, m, sec] = hms[..] else { return None };
    // days from 1970-01-01 to the date (Howard Hinnant's days_from_civil)
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    u64::try_from(days * 86400 + h * 3600 + m * 60 + sec).ok()
}

/// The cache key of a refreshed build: the definition's key bound to the archive state.
pub fn refreshed_key(definition_key: &str, digest: &str) -> String {
    let mut h = Sha256::new();
    h.update(definition_key.as_bytes());
    h.update(b"upstream:");
    h.update(digest.as_bytes());
    hex::encode(h.finalize())[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASE: &str = "Origin: Debian
Suite: stable
Date: Sat, 09 Nov 2026 10:00:00 UTC
Valid-Until: Sat, 16 Nov 2026 10:00:00 UTC
MD5Sum:
 0123456789abcdef0123456789abcdef 1234 main/binary-amd64/Packages
SHA256:
 1111111111111111111111111111111111111111111111111111111111111111 1234 main/binary-amd64/Packages
 2222222222222222222222222222222222222222222222222222222222222222 99 main/binary-amd64/Release
";

    #[test]
    fn only_index_hashes_count() {
        let d = |t: &str| digest(&[("http://m/dists/s/InRelease".into(), t.into())]).unwrap();
        let base = d(RELEASE);
        // a new archive run without package changes: same digest
        assert_eq!(d(&RELEASE.replace("09 Nov", "10 Nov").replace("16 Nov", "17 Nov")), base);
        assert_eq!(d(&RELEASE.replace("0123456789abcdef0123456789abcdef", "fedcba98765432100123456789abcdef")), base, "MD5 lines are not used");
        // a changed Packages index: another digest
        assert_ne!(d(&RELEASE.replace(&"1".repeat(64), &"3".repeat(64))), base);
        assert_eq!(index_hashes(RELEASE).unwrap().len(), 2);
        let e = digest(&[("http://m/x".into(), "<html>not found</html>".into())]).unwrap_err();
        assert!(format!("{e:#}").contains("http://m/x") && format!("{e:#}").contains("no SHA256 section"), "{e:#}");
    }

    #[test]
    fn release_dates() {
        assert_eq!(parse_rfc2822("Sat, 11 Jul 2026 10:16:37 UTC"), Some(1_783_764_997));
        assert_eq!(parse_rfc2822("Thu, 01 Jan 1970 00:00:00 UTC"), Some(0));
        assert_eq!(parse_rfc2822("Tue, 29 Feb 2028 23:59:59 UTC"), Some(1_835_481_599));
        assert_eq!(parse_rfc2822("Sat, 11 Jul 2026 10:16:37 +0900"), None, "only UTC");
        assert_eq!(newest_date(&[("a".into(), RELEASE.into()), ("b".into(), RELEASE.replace("09 Nov", "10 Nov"))]), parse_rfc2822("Tue, 10 Nov 2026 10:00:00 UTC"));
    }

    #[test]
    fn refreshed_key_depends_on_both() {
        let a = refreshed_key("k1", "d1");
        assert_eq!(a.len(), 16);
        assert_ne!(a, refreshed_key("k1", "d2"));
        assert_ne!(a, refreshed_key("k2", "d1"));
    }
}
