//! An in-process mutation fuzzer on the stable toolchain, run as ordinary tests in CI: seeds from the
//! repository's own fixtures, byte- and token-level mutations, a time budget per target. A panic fails
//! the test and names the input (written under `target/fuzz-failures/`); an input that runs longer than
//! the hang limit aborts the process the same way, so CI never waits on a hang. Inputs that once failed
//! live in `tests/fuzz-regressions/<target>/` and are replayed first, every run.
//!
//! Budget: `MDXCONF_FUZZ_SECONDS` per target (default 10; 0 replays seeds and regressions only).
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One input may take this long before it counts as a hang.
const HANG: Duration = Duration::from_secs(10);
/// Inputs grow at most to this size (parsers get real files of a few KiB).
const MAX_LEN: usize = 64 * 1024;

/// Tokens that reach parser states random bytes rarely do.
const DICT: &[&[u8]] = &[
    b"{{",
    b"}}",
    b"{%",
    b"%}",
    b"{#",
    b"#}",
    b"[",
    b"]",
    b":",
    b"::",
    b"=",
    b"\"",
    b"'",
    b"\n",
    b"\r\n",
    b"\t",
    b"- ",
    b": ",
    b"---\n",
    b"!vault |",
    b"&a",
    b"*a",
    b"<<: *a",
    b"|",
    b">",
    b"#",
    b",",
    b"\\",
    b"0",
    b"-1",
    b"18446744073709551615",
    b"99999999999999999999",
    b"[0:9]",
    b"[a:z]",
    b"[1:0]",
    b"%s",
    b"..",
    b"/",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\0",
    b"yes",
    b"no",
    b"null",
    b"~",
    b"0x10",
    b"0o17",
    b"1e309",
    b"nan",
];

/// A small, fast, seeded PRNG (xorshift64*): runs are reproducible from the printed seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(8) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            2 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(v.len())..end);
            }
            3 | 4 => {
                let t = DICT[rng.below(DICT.len())];
                v.splice(at..at, t.iter().copied());
            }
            5 if !v.is_empty() => {
                // duplicate a slice (deep nesting, long lines)
                let s = rng.below(v.len());
                let e = (s + 1 + rng.below(64)).min(v.len());
                let piece = v[s..e].to_vec();
                v.splice(at..at, piece);
            }
            6 if !corpus.is_empty() => {
                // splice in a piece of another input
                let other = &corpus[rng.below(corpus.len())];
                if !other.is_empty() {
                    let s = rng.below(other.len());
                    let e = (s + 1 + rng.below(256)).min(other.len());
                    v.splice(at..at, other[s..e].iter().copied());
                }
            }
            _ => {
                let n = 1 + rng.below(8);
                v.splice(at..at, (0..n).map(|_| rng.next() as u8));
            }
        }
    }
    v.truncate(MAX_LEN);
    v
}

/// Where a failing input is kept for the report.
fn failure_path(target: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/fuzz-failures").join(target);
    let _ = std::fs::create_dir_all(&dir);
    let h = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ *b as u64).wrapping_mul(0x100_0000_01b3));
    dir.join(format!("{h:016x}"))
}

fn report(target: &str, input: &[u8], what: &str) -> String {
    let p = failure_path(target, input);
    let _ = std::fs::write(&p, input);
    format!(
        "fuzz target `{target}`: {what} on a {}-byte input, saved as {} (add it to tests/fuzz-regressions/{target}/ once fixed):\n{}",
        input.len(),
        p.display(),
        String::from_utf8_lossy(&input[..input.len().min(400)])
    )
}

/// Seeds: every file under `dirs` whose name ends with one of `exts` (recursively), plus `extra`.
pub fn seeds(dirs: &[PathBuf], exts: &[&str], extra: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = extra.iter().map(|s| s.to_vec()).collect();
    let mut stack: Vec<PathBuf> = dirs.to_vec();
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if exts.iter().any(|x| p.to_string_lossy().ends_with(x)) {
                if let Ok(b) = std::fs::read(&p) {
                    if b.len() <= MAX_LEN {
                        out.push(b);
                    }
                }
            }
        }
    }
    out
}

/// Run `f` on the seeds, the target's regression inputs, then mutations for the time budget.
/// `f` must return normally for every input (errors are fine; panics and hangs are not).
pub fn run(target: &str, crate_dir: &Path, seeds: Vec<Vec<u8>>, f: impl Fn(&[u8]) + Sync) {
    let budget = std::env::var("MDXCONF_FUZZ_SECONDS").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(10);
    let regressions = self::seeds(&[crate_dir.join("tests/fuzz-regressions").join(target)], &[""], &[]);
    let mut corpus = seeds;
    assert!(!corpus.is_empty(), "fuzz target `{target}` has no seeds");
    // the watchdog: aborts the process (naming the input) when one input runs past HANG
    let current: Arc<Mutex<(Instant, Vec<u8>)>> = Arc::new(Mutex::new((Instant::now(), vec![])));
    let stop = Arc::new(AtomicBool::new(false));
    let watch = {
        let (current, stop, target) = (current.clone(), stop.clone(), target.to_string());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let c = current.lock().unwrap_or_else(|p| p.into_inner());
            if c.0.elapsed() > HANG {
                eprintln!("{}", report(&target, &c.1, &format!("hang (over {}s)", HANG.as_secs())));
                std::process::abort();
            }
        })
    };
    let one = |input: &[u8]| -> Result<(), String> {
        *current.lock().unwrap_or_else(|p| p.into_inner()) = (Instant::now(), input.to_vec());
        let r = catch_unwind(AssertUnwindSafe(|| f(input)));
        r.map_err(|e| {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            report(target, input, &format!("panic ({msg})"))
        })
    };
    let fixed: Vec<Vec<u8>> = regressions.iter().chain(corpus.iter()).cloned().collect();
    for input in &fixed {
        if let Err(e) = one(input) {
            stop.store(true, Ordering::Relaxed);
            panic!("{e}");
        }
    }
    let seed = std::env::var("MDXCONF_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1) | 1);
    // printed first: an abort (stack overflow, out of memory) leaves no panic message to carry it
    eprintln!("fuzz target `{target}`: mutating for {budget}s with MDXCONF_FUZZ_SEED={seed}");
    let mut rng = Rng(seed);
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed() < Duration::from_secs(budget) {
        let base = corpus[rng.below(corpus.len())].clone();
        let input = mutate(&mut rng, &base, &corpus);
        n += 1;
        if let Err(e) = one(&input) {
            stop.store(true, Ordering::Relaxed);
            panic!("{e}\n(MDXCONF_FUZZ_SEED={seed})");
        }
        // keep some mutants: later mutations build on inputs that got further
        if n.is_multiple_of(16) && corpus.len() < 4096 {
            corpus.push(input);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = watch.join();
    eprintln!("fuzz target `{target}`: {} fixed inputs and {n} mutations in {:.1}s, no panic or hang (seed {seed})", fixed.len(), t0.elapsed().as_secs_f64());
}
