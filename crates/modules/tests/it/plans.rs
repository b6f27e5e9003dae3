//! Plan tests as data: every `tests/plans/*.yaml` holds cases of {module, args, the probe outputs the
//! host answers with, the expected result, diff and steps}. The runner feeds a module's plan those
//! answers through a scripted connection (no host), so a plan's decision is checked on its own; the probes
//! and steps themselves run against real hosts in the engine's sshd, chroot and VM tests.
//!
//! A case:
//! ```yaml
//! - name: a key that is missing is added
//!   module: sysctl
//!   args: {name: vm.swappiness, value: 10}
//!   diff: true                 # show diffs (default true)
//!   probes:                    # answers to the plan's execs, in order
//!     - {rc: 0, stdout: "path=/etc/sysctl.conf\ntype=absent\n..."}
//!   probe_scripts: [[sysctl.conf]]   # substrings each probe's script must contain (optional)
//!   expect:
//!     err: substring           # plan returns an error (bad arguments and the like) ...
//!     failed: false            # ... or a result:
//!     changed: true
//!     msg: substring
//!     data: {key: value}       # a subset of the result's data
//!     diff: [{path: ..., before: ..., after: ...}]
//!     steps:                   # exactly these, in order
//!       - {run: "what substring", script: [substrings]}
//!       - {write: /etc/sysctl.conf, content: "exact content"}
//!       - {fail: substring}
//! ```
use mdxconf_config::template::Templater;
use mdxconf_modules::{Args, EntryKind, ModuleCtx, Step};
use mdxconf_transport::{Connection, ExecOutput, TransportError};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::sync::Mutex;

/// Answers each exec with the next canned output and remembers the scripts.
struct Scripted {
    answers: Mutex<Vec<ExecOutput>>,
    seen: Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl Connection for Scripted {
    fn host(&self) -> &str {
        "scripted"
    }
    async fn exec(&self, cmd: &str, _stdin: Option<Vec<u8>>) -> Result<ExecOutput, TransportError> {
        self.seen.lock().unwrap().push(cmd.to_string());
        let mut a = self.answers.lock().unwrap();
        if a.is_empty() {
            return Err(TransportError::Other { host: "scripted".into(), msg: format!("the case gives no answer for exec #{}:\n{cmd}", self.seen.lock().unwrap().len()) });
        }
        Ok(a.remove(0))
    }
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect(),
        Some(Value::String(x)) => vec![x.clone()],
        _ => vec![],
    }
}

async fn run_case(file: &str, case: &Value) -> Result<(), String> {
    let name = s(case, "name").unwrap_or("(unnamed)");
    let module = s(case, "module").ok_or("case has no `module`")?;
    let entry = mdxconf_modules::lookup(module).ok_or_else(|| format!("unknown module {module}"))?;
    let EntryKind::Module(m) = entry.kind else { return Err(format!("{module} is not a module of this crate")) };
    let args: Map<String, Value> = case.get("args").and_then(Value::as_object).cloned().unwrap_or_default();
    let answers = case
        .get("probes")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| ExecOutput {
                    rc: p.get("rc").and_then(Value::as_i64).unwrap_or(0) as i32,
                    stdout: s(p, "stdout").unwrap_or("").as_bytes().to_vec(),
                    stderr: s(p, "stderr").unwrap_or("").as_bytes().to_vec(),
                })
                .collect()
        })
        .unwrap_or_default();
    let conn = Scripted { answers: Mutex::new(answers), seen: Mutex::new(vec![]) };
    let templater = Templater::new();
    let vars = case.get("vars").cloned().unwrap_or(json!({}));
    let dir = Path::new(file).parent().unwrap().join("files");
    let ctx =
        ModuleCtx { conn: &conn, become_user: None, diff: case.get("diff").and_then(Value::as_bool).unwrap_or(true), vars: &vars, templater: &templater, search_dirs: vec![dir] };
    let expect = case.get("expect").cloned().unwrap_or(json!({}));
    let fail = |what: String| format!("{file}: case `{name}`: {what}");
    let planned = match Args::new(m.name(), m.spec(), &args) {
        Ok(a) => m.plan(&a, &ctx).await.map_err(|e| format!("{e:#}")),
        Err(e) => Err(e.msg),
    };
    let plan = match (planned, s(&expect, "err")) {
        (Err(e), Some(want)) if e.contains(want) => return Ok(()),
        (Err(e), _) => return Err(fail(format!("plan failed: {e}"))),
        (Ok(_), Some(want)) => return Err(fail(format!("expected an error containing `{want}`"))),
        (Ok(p), None) => p,
    };
    let seen = conn.seen.lock().unwrap().clone();
    if let Some(Value::Array(ps)) = case.get("probe_scripts") {
        for (i, want) in ps.iter().enumerate() {
            let got = seen.get(i).ok_or_else(|| fail(format!("probe #{i} never ran")))?;
            for w in strings(Some(want)) {
                if !got.contains(&w) {
                    return Err(fail(format!("probe #{i} does not contain `{w}`:\n{got}")));
                }
            }
        }
    }
    let left = conn.answers.lock().unwrap().len();
    if left > 0 {
        return Err(fail(format!("the plan ran {} execs, the case gives {} answers", seen.len(), seen.len() + left)));
    }
    let r = &plan.result;
    for (k, got) in [("failed", r.failed), ("changed", r.changed), ("skipped", r.skipped)] {
        let want = expect.get(k).and_then(Value::as_bool).unwrap_or(false);
        if want != got {
            return Err(fail(format!("{k}: expected {want}, got {got} (msg: {})", r.msg)));
        }
    }
    if let Some(want) = s(&expect, "msg") {
        if !r.msg.contains(want) {
            return Err(fail(format!("msg `{}` does not contain `{want}`", r.msg)));
        }
    }
    if let Some(Value::Object(want)) = expect.get("data") {
        for (k, v) in want {
            if r.data.get(k) != Some(v) {
                return Err(fail(format!("data.{k}: expected {v}, got {:?}", r.data.get(k))));
            }
        }
    }
    if let Some(want) = expect.get("diff") {
        let got = serde_json::to_value(&r.diff).unwrap();
        if &got != want {
            return Err(fail(format!("diff: expected {want}, got {got}")));
        }
    }
    let want_steps = expect.get("steps").and_then(Value::as_array).cloned().unwrap_or_default();
    if want_steps.len() != plan.steps.len() {
        let got: Vec<Value> = plan.steps.iter().map(Step::describe).collect();
        return Err(fail(format!("expected {} steps, got {}: {}", want_steps.len(), plan.steps.len(), serde_json::to_string_pretty(&got).unwrap())));
    }
    for (i, (want, got)) in want_steps.iter().zip(&plan.steps).enumerate() {
        let d = got.describe();
        let kind_ok = match got {
            Step::Run { what, .. } => s(want, "run").is_some_and(|w| what.contains(w)),
            Step::Write(w) => s(want, "write") == Some(w.info.path.as_str()),
            Step::LocalWrite { path, .. } => s(want, "local_write") == Some(&*path.display().to_string()),
            Step::Fail(m) => s(want, "fail").is_some_and(|w| m.contains(w)),
        };
        if !kind_ok {
            return Err(fail(format!("step #{i}: expected {want}, got {d}")));
        }
        for w in strings(want.get("script")) {
            if !s(&d, "script").unwrap_or("").contains(&w) {
                return Err(fail(format!("step #{i}: script does not contain `{w}`:\n{}", s(&d, "script").unwrap_or(""))));
            }
        }
        if let Some(c) = s(want, "content") {
            if s(&d, "content") != Some(c) {
                return Err(fail(format!("step #{i}: content: expected {c:?}, got {:?}", s(&d, "content"))));
            }
        }
        if let Some(c) = s(want, "stdin") {
            if s(&d, "stdin") != Some(c) {
                return Err(fail(format!("step #{i}: stdin: expected {c:?}, got {:?}", s(&d, "stdin"))));
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn plan_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "yaml")).collect();
    files.sort();
    let (mut n, mut errors) = (0, vec![]);
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let cases: Vec<Value> = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for c in &cases {
            n += 1;
            if let Err(e) = run_case(&f.display().to_string(), c).await {
                errors.push(e);
            }
        }
    }
    assert!(n > 0, "no plan cases found in {}", dir.display());
    assert!(errors.is_empty(), "{} of {n} plan cases failed:\n{}", errors.len(), errors.join("\n\n"));
    eprintln!("{n} plan cases passed");
}
