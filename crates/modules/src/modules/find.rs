//! find: files matching criteria (Ansible's find module, ansible-core 2.14): one probe walks the paths,
//! the filters are Ansible's (basename patterns with fnmatch or re.match, excludes, age, size, type,
//! hidden, depth, contains). Never changes anything, so check mode runs it as is.
use crate::host::find::{find_script, fnmatch_regex, normpath, parse_find, statinfo, Entry, FindProbe};
use crate::spec::{b, i, l, s, ArgSpec, Def};
use crate::util::{failed, sh, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{anyhow, bail, Result};
use regex::Regex;
use serde_json::{Map, Value};

pub struct Find;

static SPEC: ArgSpec = ArgSpec::new(&[
    l("paths").aliases(&["name", "path"]).required(),
    l("patterns").aliases(&["pattern"]),
    l("excludes").aliases(&["exclude"]),
    s("contains"),
    b("read_whole_file").default(Def::Bool(false)),
    s("file_type").default(Def::Str("file")).choices(&["any", "directory", "file", "link"]),
    b("recurse").default(Def::Bool(false)),
    i("depth"),
    b("hidden").default(Def::Bool(false)),
    b("follow").default(Def::Bool(false)),
    b("get_checksum").default(Def::Bool(false)),
    s("age"),
    s("age_stamp").default(Def::Str("mtime")).choices(&["atime", "ctime", "mtime"]),
    s("size"),
    b("use_regex").default(Def::Bool(false)),
]);

/// `-?N[unit]` with Ansible's units: the signed number of seconds (age) or bytes (size).
fn amount(module_arg: &str, v: &str, units: &[(char, i64)]) -> Result<i64> {
    let v = v.trim().to_ascii_lowercase();
    let (num, unit) = match v.chars().last() {
        Some(c) if c.is_ascii_alphabetic() => (&v[..v.len() - 1], Some(c)),
        _ => (v.as_str(), None),
    };
    let n: i64 = num.parse().map_err(|_| anyhow!("find: failed to process {module_arg} '{v}'"))?;
    let mult = match unit {
        None => 1,
        Some(u) => units.iter().find(|(c, _)| *c == u).map(|(_, m)| *m).ok_or_else(|| anyhow!("find: failed to process {module_arg} '{v}'"))?,
    };
    Ok(n.saturating_mul(mult))
}

const AGE_UNITS: &[(char, i64)] = &[('s', 1), ('m', 60), ('h', 3600), ('d', 86400), ('w', 604800)];
const SIZE_UNITS: &[(char, i64)] = &[('b', 1), ('k', 1 << 10), ('m', 1 << 20), ('g', 1 << 30), ('t', 1 << 40)];

struct Filters {
    patterns: Vec<Regex>,
    excludes: Vec<Regex>,
    age: Option<i64>,
    stamp: String,
    size: Option<i64>,
    kind: String,
    hidden: bool,
    depth: Option<i64>,
    contains: bool,
}

impl Filters {
    /// Ansible's pfilter: a basename matching a pattern and no exclude.
    fn name_ok(&self, base: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(base)) && !self.excludes.iter().any(|e| e.is_match(base))
    }
    fn age_ok(&self, e: &Entry, now: f64) -> bool {
        let t = match self.stamp.as_str() {
            "atime" => e.atime,
            "ctime" => e.ctime,
            _ => e.mtime,
        };
        match self.age {
            None => true,
            Some(a) if a >= 0 => now - t >= a as f64,
            Some(a) => now - t <= a.unsigned_abs() as f64,
        }
    }
    fn size_ok(&self, e: &Entry) -> bool {
        match self.size {
            None => true,
            Some(s) if s >= 0 => e.size >= s as u64,
            Some(s) => e.size <= s.unsigned_abs(),
        }
    }
    /// The per-type rules of Ansible's main loop (size only for regular files; contains only for `file`).
    fn selects(&self, e: &Entry, now: f64, matched: &std::collections::HashSet<String>) -> bool {
        let base = e.path.rsplit('/').next().unwrap_or(&e.path);
        if self.depth.is_some_and(|d| e.depth > d) || (!self.hidden && base.starts_with('.')) {
            return false;
        }
        let common = self.name_ok(base) && self.age_ok(e, now);
        match self.kind.as_str() {
            "any" => common && (e.kind != 'f' || self.size_ok(e)),
            "directory" => e.kind == 'd' && common,
            "link" => e.kind == 'l' && common,
            _ => e.kind == 'f' && common && self.size_ok(e) && (!self.contains || matched.contains(&e.path)),
        }
    }
}

fn compile(arg: &str, pats: &[String], use_regex: bool) -> Result<Vec<Regex>> {
    pats.iter()
        .map(|p| {
            // re.match anchors at the start only; fnmatch matches the whole name
            let re = if use_regex { format!("^(?:{p})") } else { fnmatch_regex(p) };
            Regex::new(&re).map_err(|e| anyhow!("find: {arg} '{p}' is not a valid pattern: {e}"))
        })
        .collect()
}

#[async_trait::async_trait]
impl Module for Find {
    fn name(&self) -> &'static str {
        "find"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let paths = a.list("paths")?;
        if paths.is_empty() {
            bail!("find: paths is empty");
        }
        let use_regex = a.bool("use_regex")?;
        let mut patterns = a.list("patterns")?;
        // Ansible: no pattern means everything (so that excludes alone work)
        let all = patterns.is_empty();
        if all {
            patterns = vec![if use_regex { ".*".into() } else { "*".into() }];
        }
        let excludes = a.list("excludes")?;
        let recurse = a.bool("recurse")?;
        // depth 0 is unlimited, as Ansible's `if params['depth']`; recurse=false is depth 1
        let depth = if recurse { a.int("depth")?.filter(|d| *d != 0) } else { Some(1) };
        let contains = a.str("contains")?;
        if let Some(c) = &contains {
            Regex::new(c).map_err(|e| anyhow!("find: contains '{c}' is not a valid regular expression: {e}"))?;
        }
        let kind = a.choice("file_type")?;
        let f = Filters {
            patterns: compile("pattern", &patterns, use_regex)?,
            excludes: compile("exclude", &excludes, use_regex)?,
            age: a.str("age")?.map(|v| amount("age", &v, AGE_UNITS)).transpose()?,
            stamp: a.choice("age_stamp")?,
            size: a.str("size")?.map(|v| amount("size", &v, SIZE_UNITS)).transpose()?,
            contains: contains.is_some() && kind == "file",
            kind,
            hidden: a.bool("hidden")?,
            depth,
        };
        let wants_files = f.kind == "file" || f.kind == "any";
        let no: Vec<String> = vec![];
        let probe = FindProbe {
            paths: &paths,
            follow: a.bool("follow")?,
            // recursing, one level deeper than reported: os.walk lists (and Ansible counts as examined) the
            // children of the deepest directory it enters; without recurse Ansible stops after the top level
            maxdepth: if recurse { depth.map(|d| d + 1) } else { Some(1) },
            checksum: a.bool("get_checksum")? && wants_files,
            contains: contains.as_deref().filter(|_| f.contains).map(|c| (c, a.bool("read_whole_file").unwrap_or(false))),
            prefilter: if use_regex || all { (&no, &no) } else { (&patterns, &excludes) },
        };
        let out = sh(ctx, &find_script(&probe), None).await?;
        let listing = match parse_find(&out.stdout) {
            Ok(l) => l,
            Err(e) => return Ok(Plan::done(failed(format!("find: {e}: {}", text(&out.stderr).trim())))),
        };
        let mut files = vec![];
        let mut examined = 0;
        for (_, entries) in &listing.roots {
            examined += entries.len();
            for e in entries.iter().filter(|e| f.selects(e, listing.now, &listing.matches)) {
                let mut e = e.clone();
                let raw = e.path.clone();
                e.path = normpath(&e.path);
                let mut info = statinfo(&e);
                // only regular files (under follow a link's target was summed too)
                if let (Some(c), Some(o), 'f') = (listing.checksums.get(&raw), info.as_object_mut(), e.kind) {
                    o.insert("checksum".into(), c.clone());
                }
                files.push(info);
            }
        }
        let mut skipped = Map::new();
        for p in &listing.skipped {
            skipped.insert(p.clone(), format!("{p} was skipped as it does not seem to be a valid directory or it cannot be accessed\n").into());
        }
        let mut r =
            ModuleResult { msg: if skipped.is_empty() { "All paths examined".into() } else { "Not all paths examined, check warnings for details".into() }, ..Default::default() };
        r.data.insert("matched".into(), files.len().into());
        r.data.insert("files".into(), Value::Array(files));
        r.data.insert("examined".into(), examined.into());
        r.data.insert("skipped_paths".into(), Value::Object(skipped));
        Ok(Plan::done(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert_eq!(amount("age", "2d", AGE_UNITS).unwrap(), 172800);
        assert_eq!(amount("age", "-1W", AGE_UNITS).unwrap(), -604800);
        assert_eq!(amount("age", "30", AGE_UNITS).unwrap(), 30);
        assert_eq!(amount("size", "10k", SIZE_UNITS).unwrap(), 10240);
        assert!(amount("size", "10x", SIZE_UNITS).is_err());
        assert!(amount("age", "d", AGE_UNITS).is_err());
    }
}
