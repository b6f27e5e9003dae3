//! `mdxconf image report --output DIR`: the catalogue as maintainers publish it — `index.html` (one
//! row per template: version, build date, kernel, size, age, last change, links to every version's
//! changelog), `catalogue.json` with the same data, and `NAME/vN.html` per version. Static files
//! with inline CSS: any web server (or a file:// URL) shows them.
use super::cache::Cache;
use super::diff;
pub use super::report_model::{CatalogueSnapshot, TemplateRow, VersionEntry};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #ccc;padding:.4em .6em;text-align:left;vertical-align:top}th{background:#eef}\
tr:nth-child(even) td{background:#fafafa}.num{text-align:right;white-space:nowrap}.nw{white-space:nowrap}code{font-size:.95em}a{color:#0645ad}";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `YYYY-MM-DD HH:MM UTC` from unix seconds.
pub fn utc(secs: u64) -> String {
    let rem = secs % 86_400;
    format!("{} {:02}:{:02} UTC", mdxconf_transport::host_cert::civil_date((secs / 86_400) as i64), rem / 3600, rem % 3600 / 60)
}

/// Read the cache into the report's rows (newest version of each image).
pub fn snapshot(cache: &Cache) -> CatalogueSnapshot {
    let now = super::record::now();
    let mut names: Vec<String> = cache.list().into_iter().map(|(n, _)| n).collect();
    names.dedup();
    let mut templates = vec![];
    for name in names {
        let recs = diff::versions(cache, &name);
        let Some(newest) = recs.last() else { continue };
        let versions: Vec<VersionEntry> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| VersionEntry {
                version: r.version,
                key: r.cache_key.clone(),
                finished_at: r.finished_at,
                kernel: r.kernels.last().cloned().unwrap_or_else(|| r.running_kernel.clone()),
                summary: if i == 0 { "first build".into() } else { diff::compare(&recs[i - 1], r).summary() },
                changelog: format!("{name}/v{}-{}.html", r.version, r.cache_key),
            })
            .collect();
        let last = versions.last().expect("one version at least").clone();
        templates.push(TemplateRow {
            name: name.clone(),
            version: newest.version,
            key: newest.cache_key.clone(),
            finished_at: newest.finished_at,
            age_days: now.saturating_sub(newest.finished_at) / 86_400,
            kernel: last.kernel.clone(),
            bytes: cache.entry(&name, &newest.cache_key).allocated_bytes(),
            base: newest.base.as_ref().map(|b| b.name.clone()),
            last_change: last.summary.clone(),
            versions,
        });
    }
    CatalogueSnapshot { generated_at: now, templates }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title><style>{STYLE}</style></head>\n<body><h1>{t}</h1>\n{body}</body></html>\n",
        t = esc(title)
    )
}

fn index_html(s: &CatalogueSnapshot) -> String {
    let mut rows = String::new();
    for t in &s.templates {
        let links: Vec<String> = t.versions.iter().rev().map(|v| format!("<a href=\"{}\">v{}</a>", esc(&v.changelog), v.version)).collect();
        rows += &format!(
            "<tr id=\"{n}\"><td class=\"nw\"><b>{n}</b>{base}</td><td class=\"num\">v{v}</td><td class=\"nw\">{date}</td><td class=\"nw\"><code>{k}</code></td><td class=\"num\">{mib} MiB</td><td class=\"num\">{age} d</td><td>{chg}</td><td>{links}</td></tr>\n",
            n = esc(&t.name),
            base = t.base.as_ref().map(|b| format!("<br><small>on {}</small>", esc(b))).unwrap_or_default(),
            v = t.version,
            date = utc(t.finished_at),
            k = esc(&t.kernel),
            mib = t.bytes >> 20,
            age = t.age_days,
            chg = esc(&t.last_change),
            links = links.join(" "),
        );
    }
    let body = format!(
        "<p>{} templates, generated {} by mdxconf {}. Data: <a href=\"catalogue.json\">catalogue.json</a>.</p>\n<table>\n<thead><tr><th>Template</th><th>Version</th><th>Built</th><th>Kernel</th><th>Size</th><th>Age</th><th>Last change</th><th>Changelogs</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n",
        s.templates.len(),
        utc(s.generated_at),
        env!("CARGO_PKG_VERSION")
    );
    page("mdx template catalogue", &body)
}

fn changelog_html(cache: &Cache, t: &TemplateRow, i: usize) -> String {
    let v = &t.versions[i];
    let detail = if i == 0 {
        "<p>First build of this template in the catalogue.</p>\n".to_string()
    } else {
        match diff::diff(cache, &t.name, Some(&t.versions[i - 1].key), Some(&v.key)) {
            Ok(d) => format!("<pre>{}</pre>\n", esc(&d.human())),
            Err(e) => format!("<p>{}</p>\n", esc(&format!("{e:#}"))),
        }
    };
    let body = format!(
        "<p>Built {} · kernel <code>{}</code> · cache key <code>{}</code> · <a href=\"../index.html\">catalogue</a></p>\n<p><b>{}</b></p>\n{detail}",
        utc(v.finished_at),
        esc(&v.kernel),
        esc(&v.key),
        esc(&v.summary)
    );
    page(&format!("{} v{}", t.name, v.version), &body)
}

/// Write the report; returns the index page's path.
pub fn write(cache: &Cache, out: &Path) -> Result<(PathBuf, CatalogueSnapshot)> {
    let s = snapshot(cache);
    let w = |p: &Path, text: &str| mdxconf_config::fs::write_atomic(p, text.as_bytes()).with_context(|| format!("writing {}", p.display()));
    for t in &s.templates {
        for i in 0..t.versions.len() {
            w(&out.join(&t.versions[i].changelog), &changelog_html(cache, t, i))?;
        }
    }
    w(&out.join("catalogue.json"), &serde_json::to_string_pretty(&s)?)?;
    let index = out.join("index.html");
    w(&index, &index_html(&s))?;
    Ok((index, s))
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc(1_796_256_000), "2026-12-03 00:00 UTC");
        assert_eq!(super::utc(951_825_600), "2000-02-29 12:00 UTC");
    }
}
