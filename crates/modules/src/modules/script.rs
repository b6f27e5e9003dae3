//! script: a controller script (the role's files/, or a path) copied to a private temp directory on the
//! host and run there with its arguments, as Ansible's script action does; the result is command's (rc,
//! stdout, stderr, ..., changed). `creates`/`removes` are tested first (a skip is `skipped`, as in
//! Ansible); in check mode they make it predictable, without them the task is skipped.
use crate::module::CheckMode;
use crate::ops::local_src::{find_local, read_local};
use crate::plan::{Outcome, Step};
use crate::spec::{b, s, ArgSpec, Def};
use crate::util::{failed, put_output, sh, sh_quote as q, shlex_split, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{anyhow, bail, Result};
use std::path::Path;

pub struct Script;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("_raw_params"),
    s("cmd"),
    s("creates"),
    s("removes"),
    s("chdir"),
    s("executable"),
    // a vault-encrypted script is decrypted on the controller, as Ansible does
    b("decrypt").default(Def::Bool(true)),
])
.one_of(&[&["_raw_params", "cmd"]])
.exclusive(&[&["_raw_params", "cmd"]]);

const WHAT: &str = "script failed";
const NO_CHECK: &str = "Check mode is not supported for this task.";

/// The first shell word of a command line and the rest as written (Ansible replaces the first word by the
/// copied script's path and passes the arguments to the shell untouched).
fn split_first(line: &str) -> Result<(String, String)> {
    let line = line.trim();
    let first = shlex_split(line)?.into_iter().next().ok_or_else(|| anyhow!("script: no script given"))?;
    // the end of the first word: the first unquoted blank
    let (mut sq, mut dq, mut esc, mut end) = (false, false, false, line.len());
    for (i, c) in line.char_indices() {
        match c {
            _ if esc => esc = false,
            '\\' if !sq => esc = true,
            '\'' if !dq => sq = !sq,
            '"' if !sq => dq = !dq,
            c if c.is_whitespace() && !sq && !dq => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    Ok((first, line[end..].trim().to_string()))
}

pub fn run_script(name: &str, args: &str, chdir: Option<&str>, executable: Option<&str>) -> String {
    let target = format!("\"$t\"/{}", q(name));
    let mut s = String::from("t=$(mktemp -d) || exit 1\ntrap 'rm -rf \"$t\"' EXIT\n");
    s += &format!("cat > {target} || exit 1\nchmod 0700 {target} || exit 1\n");
    if let Some(d) = chdir {
        s += &format!("cd -- {} || exit 1\n", q(d));
    }
    // as Ansible joins it: shell words (`python3 -u` works), not one quoted path
    let exe = executable.map(|e| format!("{e} ")).unwrap_or_default();
    // the script gets no stdin, as in Ansible (the copy consumed it)
    s += &format!("{exe}{target}{}{args} </dev/null\n", if args.is_empty() { "" } else { " " });
    s
}

#[async_trait::async_trait]
impl Module for Script {
    fn name(&self) -> &'static str {
        "script"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    fn check_mode(&self) -> CheckMode {
        CheckMode::SkipsChanges
    }
    fn check_mode_of(&self, a: &Args) -> CheckMode {
        if a.has("creates") || a.has("removes") {
            CheckMode::Predicts
        } else {
            CheckMode::SkipsChanges
        }
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let line = a.str("_raw_params")?.or(a.str("cmd")?).unwrap_or_default();
        let (source, args) = split_first(&line)?;
        let chdir = a.str("chdir")?;
        if chdir.as_ref().is_some_and(|d| !d.starts_with('/')) {
            bail!("script: chdir {} must be an absolute path for a Unix-aware remote node", chdir.unwrap_or_default());
        }
        let local =
            find_local(&ctx.search_dirs, "files", &source).ok_or_else(|| anyhow!("script: could not find or access '{source}' (searched files/ of {:?})", ctx.search_dirs))?;
        if local.is_dir() {
            bail!("script: {} is a directory", local.display());
        }
        let (creates, removes) = (a.str("creates")?, a.str("removes")?);
        if creates.is_some() || removes.is_some() {
            // Ansible's _remote_file_exists: `test -e` on the path as given (no glob, not below chdir)
            let mut probe = String::new();
            if let Some(c) = &creates {
                probe += &format!("if [ -e {} ]; then echo creates; fi\n", q(c));
            }
            if let Some(r) = &removes {
                probe += &format!("if [ ! -e {} ]; then echo removes; fi\n", q(r));
            }
            let out = sh(ctx, &probe, None).await?;
            if out.rc != 0 {
                return Ok(Plan::done(failed(format!("script: {}", text(&out.stderr).trim()))));
            }
            let said = text(&out.stdout);
            let skip = match (&creates, &removes) {
                (Some(c), _) if said.contains("creates") => Some(format!("skipped, since {c} exists")),
                (_, Some(r)) if said.contains("removes") => Some(format!("skipped, since {r} does not exist")),
                _ => None,
            };
            if let Some(msg) = skip {
                return Ok(Plan::done(ModuleResult { skipped: true, msg, ..Default::default() }));
            }
        }
        let content = read_local(&local, a.bool("decrypt")?, "script")?;
        let name = Path::new(&source).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "script".into());
        let script = run_script(&name, &args, chdir.as_deref(), a.str("executable")?.as_deref());
        // the message check mode reports when the task is skipped (a real run replaces it)
        let r = ModuleResult { msg: NO_CHECK.into(), ..Default::default() };
        Ok(Plan::change(r, vec![Step::run_stdin(WHAT, script, content)]))
    }
    /// Like command: the script's rc/stdout/stderr; a non-zero rc fails ("non-zero return code").
    fn finish(&self, mut r: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        let Some(Outcome::Ran { out, .. }) = outcomes.last() else { return r };
        put_output(&mut r.data, out);
        // Ansible's script keeps stdout/stderr as they are (stdout_lines split them)
        r.data.insert("stdout".into(), text(&out.stdout).into());
        r.data.insert("stderr".into(), text(&out.stderr).into());
        r.changed = true;
        r.msg = String::new();
        if out.rc != 0 {
            r.failed = true;
            r.msg = "non-zero return code".into();
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mdxconf_transport::ExecOutput;

    #[test]
    fn first_word_and_arguments() {
        assert_eq!(split_first("run.sh a 'b c' $HOME").unwrap(), ("run.sh".into(), "a 'b c' $HOME".into()));
        assert_eq!(split_first("'my script.sh'").unwrap(), ("my script.sh".into(), "".into()));
        assert_eq!(split_first("  a\\ b.sh  x ").unwrap(), ("a b.sh".into(), "x".into()));
        assert!(split_first("  ").is_err());
    }

    #[test]
    fn finish_reports_the_output() {
        let ran = |rc| vec![Outcome::Ran { what: WHAT.into(), out: ExecOutput { rc, stdout: b"a\nb\n".to_vec(), stderr: vec![] } }];
        let r = Script.finish(ModuleResult { msg: NO_CHECK.into(), ..Default::default() }, &ran(0));
        assert!(r.changed && !r.failed && r.msg.is_empty());
        assert_eq!(r.data["stdout"], "a\nb\n");
        assert_eq!(r.data["stdout_lines"], serde_json::json!(["a", "b"]));
        let r = Script.finish(ModuleResult::default(), &ran(2));
        assert!(r.failed && r.msg == "non-zero return code" && r.data["rc"] == 2);
    }
}
