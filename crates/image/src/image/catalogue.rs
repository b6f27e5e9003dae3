//! `mdxconf image build DIR`: every definition of a directory, bases before the overlays on them,
//! up to `jobs` at once. A failed image stops only the images built on it; the others go on. An
//! interrupted run resumes by running it again: finished images are cache hits.
use super::catalogue_report::{CatalogueReport, Outcome, Status};
use super::definition::Definition;
use super::BuildOptions;
use futures_util::stream::{FuturesUnordered, StreamExt};
use mdxconf_config::error::ConfigError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The definitions of a directory in build order, each with the index of its base (earlier).
#[derive(Debug)]
pub struct Catalogue {
    pub dir: PathBuf,
    pub images: Vec<Definition>,
    pub bases: Vec<Option<usize>>,
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Catalogue {
    /// Load every `*.yaml`/`*.yml` in `dir` (not recursive). Bad input stops here, before anything
    /// builds: a definition's own errors, two files with one image name, a base that is not in the
    /// directory, a base cycle — each naming the files involved.
    pub fn load(dir: &Path) -> Result<Catalogue, ConfigError> {
        Self::load_paths(&[dir.to_path_buf()])
    }

    /// Like [`Catalogue::load`] over several directories and definition files.
    pub fn load_paths(paths: &[PathBuf]) -> Result<Catalogue, ConfigError> {
        let mut files: Vec<PathBuf> = Vec::new();
        for p in paths {
            if p.is_dir() {
                let rd = std::fs::read_dir(p).map_err(|e| ConfigError::at(p, 0, 0, format!("cannot read the image directory: {e}")))?;
                let mut found: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml")).collect();
                if found.is_empty() {
                    return Err(ConfigError::at(p, 0, 0, "no image definitions (*.yaml) in this directory"));
                }
                found.sort();
                files.extend(found);
            } else {
                files.push(p.clone());
            }
        }
        let mut seen = std::collections::HashSet::new();
        files.retain(|f| seen.insert(canonical(f)));
        let dir = match paths {
            [one] if one.is_dir() => one.clone(),
            _ => PathBuf::from(paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ")),
        };
        let defs: Vec<Definition> = files.iter().map(|f| Definition::load(f)).collect::<Result<_, _>>()?;
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for (i, d) in defs.iter().enumerate() {
            if let Some(&j) = by_name.get(d.name.as_str()) {
                let (line, col) = d.origin_of("name");
                return Err(ConfigError::at(
                    &d.file,
                    line,
                    col,
                    format!("image name `{}` is also defined in {}: each image of a catalogue needs its own name", d.name, defs[j].file.display()),
                ));
            }
            by_name.insert(&d.name, i);
        }
        let by_file: HashMap<PathBuf, usize> = defs.iter().enumerate().map(|(i, d)| (canonical(&d.file), i)).collect();
        let mut base_of: Vec<Option<usize>> = Vec::with_capacity(defs.len());
        for d in &defs {
            base_of.push(match d.base_path() {
                None => None,
                Some(f) => match by_file.get(&canonical(&f)) {
                    Some(&j) => Some(j),
                    // a base kept elsewhere is built (or found cached) as part of its overlay's chain
                    None if f.is_file() => None,
                    None => {
                        let (line, col) = d.origin_of("base");
                        return Err(ConfigError::at(
                            &d.file,
                            line,
                            col,
                            format!("base `{}` of image `{}` is neither in this catalogue nor a file (looked for {})", d.base.as_deref().unwrap_or(""), d.name, f.display()),
                        ));
                    }
                },
            });
        }
        // order: a base before its overlays; a cycle never reaches a root
        let mut order: Vec<usize> = Vec::new();
        let mut placed = vec![false; defs.len()];
        for start in 0..defs.len() {
            let mut path = vec![start];
            let mut cur = start;
            while let Some(b) = base_of[cur].filter(|&b| !placed[b]) {
                if let Some(k) = path.iter().position(|&p| p == b) {
                    let files: Vec<String> = path[k..].iter().map(|&i| format!("{} ({})", defs[i].name, defs[i].file.display())).collect();
                    let d = &defs[b];
                    let (line, col) = d.origin_of("base");
                    return Err(ConfigError::at(&d.file, line, col, format!("base images form a cycle: {} -> back to {}", files.join(" -> "), d.name)));
                }
                path.push(b);
                cur = b;
            }
            for &i in path.iter().rev() {
                if !placed[i] {
                    placed[i] = true;
                    order.push(i);
                }
            }
        }
        let new_index: HashMap<usize, usize> = order.iter().enumerate().map(|(n, &o)| (o, n)).collect();
        let bases = order.iter().map(|&o| base_of[o].map(|b| new_index[&b])).collect();
        let images = order.iter().map(|&o| defs[o].clone()).collect();
        Ok(Catalogue { dir, images, bases })
    }

    /// Builds at once when not asked: one per two host cores (a TCG guest keeps about two busy) and
    /// as many as the available memory holds with the largest build VM and 1 GiB to spare each.
    pub fn default_jobs(&self) -> usize {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let avail_mib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().find(|l| l.starts_with("MemAvailable:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
            .map(|kib| kib / 1024)
            .unwrap_or(4096);
        let per_vm = self.images.iter().map(|d| d.memory as u64).max().unwrap_or(1024) + 1024;
        (cores / 2).min((avail_mib / per_vm) as usize).clamp(1, self.images.len().max(1))
    }

    /// Build every image, at most `jobs` at once, an image only after its base succeeded.
    /// `opts.output_dir` (if set) gets one subdirectory per image.
    pub async fn build(&self, opts: &BuildOptions, jobs: usize) -> CatalogueReport {
        let t0 = Instant::now();
        let jobs = jobs.max(1);
        let n = self.images.len();
        let mut done: Vec<Option<Outcome>> = vec![None; n];
        let mut started = vec![false; n];
        let mut running = FuturesUnordered::new();
        loop {
            // skip what cannot build, start what can
            for i in 0..n {
                if started[i] {
                    continue;
                }
                match self.bases[i].map(|b| done[b].as_ref().map(|o| o.status)) {
                    Some(Some(Status::Failed | Status::Skipped)) => {
                        started[i] = true;
                        let b = &self.images[self.bases[i].unwrap_or(i)].name;
                        done[i] = Some(self.outcome(i, Status::Skipped, 0.0, None, Some(format!("not built: its base `{b}` did not build"))));
                    }
                    Some(None) => {}
                    _ if running.len() < jobs => {
                        started[i] = true;
                        running.push(self.build_one(i, opts));
                    }
                    _ => {}
                }
            }
            match running.next().await {
                Some((i, o)) => done[i] = Some(o),
                None if started.iter().all(|s| *s) => break,
                // only skips happened this round; look again
                None => continue,
            }
        }
        CatalogueReport { directory: self.dir.clone(), jobs, seconds: t0.elapsed().as_secs_f64(), images: done.into_iter().flatten().collect(), package_cache: None }
    }

    async fn build_one(&self, i: usize, opts: &BuildOptions) -> (usize, Outcome) {
        let d = &self.images[i];
        let mut o = opts.clone();
        o.output_dir = opts.output_dir.as_ref().map(|p| p.join(&d.name));
        let t = Instant::now();
        let r = super::build(&d.file, &o).await;
        let secs = t.elapsed().as_secs_f64();
        let outcome = match r {
            Ok(r) => {
                let status = match (r.cached, opts.refresh) {
                    (true, _) => Status::Cached,
                    (false, true) => Status::Refreshed,
                    (false, false) => Status::Built,
                };
                let mut out = self.outcome(i, status, secs, Some(r.entry.image()), None);
                out.outputs = r.outputs;
                out
            }
            Err(e) => self.outcome(i, Status::Failed, secs, None, Some(format!("{e:#}"))),
        };
        (i, outcome)
    }

    fn outcome(&self, i: usize, status: Status, seconds: f64, image: Option<PathBuf>, error: Option<String>) -> Outcome {
        let d = &self.images[i];
        let base = self.bases[i].map(|b| self.images[b].name.clone());
        Outcome { name: d.name.clone(), definition: d.file.clone(), base, status, seconds, image, outputs: vec![], error }
    }
}
