//! tempfile: a new temporary file or directory on the host (mktemp; 0600 / 0700, as Python's mkstemp and
//! mkdtemp), its `path` and path info returned; always changed. Ansible's tempfile has no check-mode
//! support (attributes: check_mode none), so in check mode the task is skipped, as Ansible does.
use crate::module::CheckMode;
use crate::plan::{Outcome, Step};
use crate::spec::{s, ArgSpec, Def};
use crate::util::{failed, kv, sh_quote as q, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use serde_json::Value;

pub struct Tempfile;

static SPEC: ArgSpec =
    ArgSpec::new(&[s("state").default(Def::Str("file")).choices(&["directory", "file"]), s("path"), s("prefix").default(Def::Str("ansible.")), s("suffix").default(Def::Str(""))]);

const WHAT: &str = "tempfile failed";

pub fn tempfile_script(dir: bool, path: Option<&str>, prefix: &str, suffix: &str) -> String {
    let d = if dir { "-d " } else { "" };
    // no path: $TMPDIR or /tmp, as Python's gettempdir; `~` expands like Ansible's type: path
    let tmpdir = match path {
        None => "--tmpdir".to_string(),
        Some("~") => "--tmpdir=\"$HOME\"".to_string(),
        Some(p) => match p.strip_prefix("~/") {
            Some(rest) => format!("--tmpdir=\"$HOME\"/{}", q(rest)),
            None => format!("--tmpdir={}", q(p)),
        },
    };
    format!(
        "p=$(mktemp {d}{tmpdir} --suffix={} -- {}) || exit 1\nprintf 'path=%s\\n' \"$p\"\nstat --printf 'uid=%u\\ngid=%g\\nowner=%U\\ngroup=%G\\nmode=%a\\nsize=%s\\n' -- \"$p\"\n",
        q(suffix),
        q(&format!("{prefix}XXXXXXXX"))
    )
}

#[async_trait::async_trait]
impl Module for Tempfile {
    fn name(&self) -> &'static str {
        "tempfile"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    fn check_mode(&self) -> CheckMode {
        CheckMode::SkipsChanges
    }
    async fn plan(&self, a: &Args, _ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let dir = a.choice("state")? == "directory";
        let (prefix, suffix) = (a.req("prefix")?, a.req("suffix")?);
        if prefix.contains('/') || suffix.contains('/') {
            bail!("tempfile: prefix and suffix must not contain '/' (use path for the directory)");
        }
        // what Ansible says when it skips a module without check-mode support (cleared by a real run)
        let mut r = ModuleResult { msg: "remote module (tempfile) does not support check mode".into(), ..Default::default() };
        r.data.insert("state".into(), if dir { "directory" } else { "file" }.into());
        let script = tempfile_script(dir, a.str("path")?.as_deref(), &prefix, &suffix);
        Ok(Plan::change(r, vec![Step::run(WHAT, script)]))
    }
    /// The path mktemp printed, with Ansible's path info (uid, gid, owner, group, mode, state, size).
    fn finish(&self, mut r: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        let Some(Outcome::Ran { out, .. }) = outcomes.last() else { return r };
        if out.rc != 0 {
            return failed(format!("{WHAT}: {}", text(&out.stderr).trim()));
        }
        let kv = kv(&text(&out.stdout));
        let Some(path) = kv.get("path").filter(|p| !p.is_empty()) else {
            return failed(format!("{WHAT}: mktemp printed no path: {}", text(&out.stdout).trim()));
        };
        r.data.insert("path".into(), path.clone().into());
        for k in ["uid", "gid", "size"] {
            if let Some(n) = kv.get(k).and_then(|v| v.parse::<u64>().ok()) {
                r.data.insert(k.into(), n.into());
            }
        }
        for k in ["owner", "group"] {
            if let Some(v) = kv.get(k) {
                r.data.insert(k.into(), v.clone().into());
            }
        }
        if let Some(m) = kv.get("mode").and_then(|m| u32::from_str_radix(m, 8).ok()) {
            r.data.insert("mode".into(), Value::from(format!("{m:04o}")));
        }
        r.changed = true;
        r.msg.clear();
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdxconf_transport::ExecOutput;

    fn ran(rc: i32, so: &str, se: &str) -> Vec<Outcome> {
        vec![Outcome::Ran { what: WHAT.into(), out: ExecOutput { rc, stdout: so.as_bytes().to_vec(), stderr: se.as_bytes().to_vec() } }]
    }

    #[test]
    fn finish_reads_the_path() {
        let r = Tempfile.finish(ModuleResult::default(), &ran(0, "path=/tmp/ansible.abcdefgh\nuid=0\ngid=0\nowner=root\ngroup=root\nmode=600\nsize=0\n", ""));
        assert!(r.changed && !r.failed);
        assert_eq!(r.data["path"], "/tmp/ansible.abcdefgh");
        assert_eq!(r.data["mode"], "0600");
        assert_eq!(r.data["uid"], 0);
        let r = Tempfile.finish(ModuleResult::default(), &ran(1, "", "mktemp: failed to create file via template '/nope/ansible.XXXXXXXX': No such file or directory\n"));
        assert!(r.failed && r.msg.contains("No such file or directory"));
        let r = Tempfile.finish(ModuleResult::default(), &ran(0, "garbage", ""));
        assert!(r.failed && r.msg.contains("no path"));
    }
}
