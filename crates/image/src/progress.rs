//! What a build tells its user: one log file per build (every step, command output, timings) and
//! indicatif spinners on the terminal for the long steps.
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct BuildLog {
    path: PathBuf,
    file: Mutex<std::fs::File>,
    start: Instant,
    /// stage name -> seconds, in order
    durations: Mutex<Vec<(String, f64)>>,
    /// No spinners/terminal lines (tests, library use); the log file is still written.
    quiet: bool,
    current: Mutex<Option<ProgressBar>>,
}

impl BuildLog {
    pub fn create(path: &Path, quiet: bool) -> std::io::Result<BuildLog> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d)?;
        }
        use std::os::unix::fs::OpenOptionsExt;
        // the log can hold answer files: the owner's only
        let file = std::fs::OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
        Ok(BuildLog { path: path.into(), file: Mutex::new(file), start: Instant::now(), durations: Mutex::new(vec![]), quiet, current: Mutex::new(None) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A line in the log file and on the terminal.
    pub fn info(&self, msg: impl AsRef<str>) {
        let msg = msg.as_ref();
        let t = self.start.elapsed().as_secs_f64();
        let _ = writeln!(self.file.lock().unwrap(), "[{t:8.1}s] {msg}");
        tracing::info!("{msg}");
        if !self.quiet {
            match self.current.lock().unwrap().as_ref() {
                Some(pb) => pb.println(format!("  {msg}")),
                None => eprintln!("  {msg}"),
            }
        }
    }

    /// Start a long step: a spinner with elapsed time until `Stage::done`.
    pub fn stage(&self, name: &str) -> Stage<'_> {
        let _ = writeln!(self.file.lock().unwrap(), "[{:8.1}s] == {name}", self.start.elapsed().as_secs_f64());
        let pb = if self.quiet {
            ProgressBar::hidden()
        } else {
            let pb = ProgressBar::new_spinner();
            pb.set_style(ProgressStyle::with_template("{spinner} {msg} [{elapsed}]").unwrap_or_else(|_| ProgressStyle::default_spinner()));
            pb.set_message(name.to_string());
            pb.enable_steady_tick(Duration::from_millis(200));
            pb
        };
        *self.current.lock().unwrap() = Some(pb.clone());
        Stage { log: self, name: name.into(), start: Instant::now(), pb }
    }

    pub fn durations(&self) -> Vec<(String, f64)> {
        self.durations.lock().unwrap().clone()
    }
}

pub struct Stage<'a> {
    log: &'a BuildLog,
    name: String,
    start: Instant,
    pb: ProgressBar,
}

impl Stage<'_> {
    pub fn set_message(&self, m: &str) {
        self.pb.set_message(format!("{}: {m}", self.name));
    }
    pub fn done(self) -> f64 {
        let secs = self.start.elapsed().as_secs_f64();
        self.pb.finish_and_clear();
        *self.log.current.lock().unwrap() = None;
        self.log.durations.lock().unwrap().push((self.name.clone(), secs));
        self.log.info(format!("{} done in {secs:.1}s", self.name));
        secs
    }
}

impl Drop for Stage<'_> {
    fn drop(&mut self) {
        if !self.pb.is_finished() {
            self.pb.abandon();
            *self.log.current.lock().unwrap() = None;
        }
    }
}
