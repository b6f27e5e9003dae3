//! command / shell / raw (one module in three flavours, as in Ansible): run a command; changed unless
//! `creates`/`removes` say there is nothing to do. Without them the plan cannot predict (check mode skips).
use crate::module::CheckMode;
use crate::plan::{Outcome, Step};
use crate::spec::{b, l, s, ArgSpec, Def};
use crate::util::{failed, put_output, sh, sh_quote as q, shlex_split, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use serde_json::Value;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Command,
    Shell,
    Raw,
}

pub struct Command;
pub struct Shell;
pub struct Raw;

static COMMAND: ArgSpec = ArgSpec::new(&[
    s("_raw_params"),
    s("cmd"),
    l("argv"),
    s("chdir"),
    s("creates"),
    s("removes"),
    s("stdin"),
    b("stdin_add_newline").default(Def::Bool(true)),
    b("strip_empty_ends").default(Def::Bool(true)),
    // not implemented: only `false` (mdxconf never expands $VAR or ~ in argv words) is accepted, in plan
    b("expand_argument_vars"),
    // removed from Ansible in 2.14; accepted and ignored as Ansible did
    b("warn").ignored(),
])
.one_of(&[&["_raw_params", "cmd", "argv"]])
.exclusive(&[&["_raw_params", "cmd", "argv"]]);

static SHELL: ArgSpec = ArgSpec::new(&[
    s("_raw_params"),
    s("cmd"),
    s("chdir"),
    s("creates"),
    s("removes"),
    s("stdin"),
    b("stdin_add_newline").default(Def::Bool(true)),
    b("strip_empty_ends").default(Def::Bool(true)),
    s("executable"),
    b("warn").ignored(),
])
.one_of(&[&["_raw_params", "cmd"]])
.exclusive(&[&["_raw_params", "cmd"]]);

static RAW: ArgSpec = ArgSpec::new(&[s("_raw_params").required(), s("executable")]);

const SKIP_MARK: &str = "@@MDXCONF-SKIPPED@@";
const WOULD_RUN: &str = "command would have run if not in check mode";

fn spec_of(f: Flavour) -> &'static ArgSpec {
    match f {
        Flavour::Command => &COMMAND,
        Flavour::Shell => &SHELL,
        Flavour::Raw => &RAW,
    }
}

fn has(a: &Args, key: &str) -> bool {
    a.spec().arg(key).is_some() && a.get(key).is_some()
}

fn predicts(a: &Args) -> CheckMode {
    if has(a, "creates") || has(a, "removes") {
        CheckMode::Predicts
    } else {
        CheckMode::SkipsChanges
    }
}

async fn plan(f: Flavour, name: &str, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
    let opt = |k: &str| if a.spec().arg(k).is_some() { a.str(k) } else { Ok(None) };
    let argv = if f == Flavour::Command { a.list("argv")? } else { vec![] };
    let text_cmd = opt("_raw_params")?.or(opt("cmd")?).unwrap_or_default();
    if text_cmd.trim().is_empty() && argv.is_empty() {
        bail!("{name}: the command is empty");
    }
    if f == Flavour::Command && a.opt_bool("expand_argument_vars")? == Some(true) {
        bail!("{name}: expand_argument_vars=true is not supported (mdxconf passes $VAR and ~ to the program as written); use shell");
    }
    // command runs without a shell: split like Ansible (shlex) and quote every word
    let command_line = match f {
        Flavour::Command => {
            let words = if argv.is_empty() { shlex_split(&text_cmd)? } else { argv.clone() };
            words.iter().map(|w| q(w)).collect::<Vec<_>>().join(" ")
        }
        _ => match opt("executable")? {
            Some(exe) => format!("{} -c {}", q(&exe), q(&text_cmd)),
            None => text_cmd.clone(),
        },
    };
    let (creates, removes, chdir) = (opt("creates")?, opt("removes")?, opt("chdir")?);
    // relative creates/removes are relative to chdir, as in Ansible
    let cd = chdir.as_ref().map(|d| format!("cd -- {} || exit 1\n", q(d))).unwrap_or_default();
    let display_cmd: Value = if !argv.is_empty() { argv.clone().into() } else { text_cmd.clone().into() };
    let mut r = ModuleResult { msg: WOULD_RUN.into(), ..Default::default() };
    r.data.insert("cmd".into(), display_cmd);
    if creates.is_some() || removes.is_some() {
        let mut probe = cd.clone();
        // globs are honoured like Ansible (unquoted pattern inside the for list)
        if let Some(c) = &creates {
            probe += &format!("for f in {}; do if [ -e \"$f\" ]; then echo '{SKIP_MARK}'; exit 0; fi; done\n", glob_word(c));
        }
        if let Some(rm) = &removes {
            probe += &format!("x=; for f in {}; do if [ -e \"$f\" ]; then x=1; fi; done; if [ -z \"$x\" ]; then echo '{SKIP_MARK}'; exit 0; fi\n", glob_word(rm));
        }
        let out = sh(ctx, &probe, None).await?;
        if out.rc != 0 {
            return Ok(Plan::done(failed(format!("{name}: {}", text(&out.stderr).trim()))));
        }
        if text(&out.stdout).contains(SKIP_MARK) {
            r.msg = match (&creates, &removes) {
                (Some(c), _) => format!("skipped, since {c} exists"),
                (_, Some(rm)) => format!("skipped, since {rm} does not exist"),
                _ => unreachable!(),
            };
            r.data.insert("rc".into(), 0.into());
            r.data.insert("stdout".into(), r.msg.clone().into());
            r.data.insert("stdout_lines".into(), vec![Value::from(r.msg.clone())].into());
            r.data.insert("stderr".into(), "".into());
            r.data.insert("stderr_lines".into(), Value::Array(vec![]));
            return Ok(Plan::done(r));
        }
    }
    let mut stdin = opt("stdin")?.map(String::into_bytes);
    if let (Some(s), true) = (&mut stdin, f != Flavour::Raw && a.bool("stdin_add_newline")?) {
        s.push(b'\n');
    }
    if f != Flavour::Raw && !a.bool("strip_empty_ends")? {
        r.data.insert("strip_empty_ends".into(), false.into());
    }
    r.data.insert("start".into(), now().into());
    let script = format!("{cd}{command_line}\n");
    Ok(Plan::change(r, vec![Step::Run { what: format!("{name} failed"), script, stdin }]))
}

/// The command's output is the result: rc/stdout/stderr (non-zero rc fails, as in Ansible), start/end.
fn finish(mut r: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
    let Some(Outcome::Ran { out, .. }) = outcomes.last() else { return r };
    let keep_ends = r.data.remove("strip_empty_ends").is_some();
    put_output(&mut r.data, out);
    if keep_ends {
        r.data.insert("stdout".into(), text(&out.stdout).into());
        r.data.insert("stderr".into(), text(&out.stderr).into());
    }
    r.data.insert("end".into(), now().into());
    r.msg = String::new();
    r.changed = true;
    if out.rc != 0 {
        r.failed = true;
        r.msg = "non-zero return code".into();
    }
    r
}

/// Quote a path for a `for` list but keep glob characters active.
fn glob_word(p: &str) -> String {
    let mut out = String::new();
    for c in p.chars() {
        if matches!(c, '*' | '?' | '[' | ']') || c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c) {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

fn now() -> String {
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:06}", t.as_secs(), t.subsec_micros())
}

macro_rules! flavour {
    ($ty:ident, $f:expr, $name:literal) => {
        #[async_trait::async_trait]
        impl Module for $ty {
            fn name(&self) -> &'static str {
                $name
            }
            fn spec(&self) -> &'static ArgSpec {
                spec_of($f)
            }
            fn check_mode(&self) -> CheckMode {
                CheckMode::SkipsChanges
            }
            fn check_mode_of(&self, a: &Args) -> CheckMode {
                predicts(a)
            }
            async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
                plan($f, $name, a, ctx).await
            }
            fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
                finish(planned, outcomes)
            }
        }
    };
}

flavour!(Command, Flavour::Command, "command");
flavour!(Shell, Flavour::Shell, "shell");
flavour!(Raw, Flavour::Raw, "raw");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mode_of(m: &dyn Module, args: Value) -> CheckMode {
        m.check_mode_of(&Args::new(m.name(), m.spec(), args.as_object().unwrap()).unwrap())
    }

    /// Check mode: without creates/removes the plan cannot predict (the task is skipped), with them it does.
    #[test]
    fn check_mode_depends_on_creates_and_removes() {
        assert_eq!(mode_of(&Command, json!({"_raw_params": "true"})), CheckMode::SkipsChanges);
        assert_eq!(mode_of(&Command, json!({"_raw_params": "true", "creates": "/x"})), CheckMode::Predicts);
        assert_eq!(mode_of(&Shell, json!({"cmd": "true", "removes": "/x"})), CheckMode::Predicts);
        assert_eq!(mode_of(&Shell, json!({"cmd": "true"})), CheckMode::SkipsChanges);
        assert_eq!(mode_of(&Raw, json!({"_raw_params": "true"})), CheckMode::SkipsChanges);
    }

    /// The result comes from the Run step's output: rc/stdout/stderr/stdout_lines, end; non-zero rc fails.
    #[test]
    fn finish_reports_the_output() {
        let ran =
            |rc, so: &str| vec![Outcome::Ran { what: "command failed".into(), out: mdxconf_transport::ExecOutput { rc, stdout: so.as_bytes().to_vec(), stderr: b"e\n".to_vec() } }];
        let planned = || ModuleResult { msg: WOULD_RUN.into(), ..Default::default() };
        let r = finish(planned(), &ran(0, "a\nb\n"));
        assert!(r.changed && !r.failed && r.msg.is_empty());
        assert_eq!((r.data["rc"].clone(), r.data["stdout"].clone(), r.data["stderr"].clone()), (json!(0), json!("a\nb"), json!("e")));
        assert_eq!(r.data["stdout_lines"], json!(["a", "b"]));
        assert!(r.data.contains_key("end"));
        let r = finish(planned(), &ran(3, ""));
        assert!(r.failed && r.changed && r.msg == "non-zero return code" && r.data["rc"] == 3);
        let mut keep = planned();
        keep.data.insert("strip_empty_ends".into(), false.into());
        let r = finish(keep, &ran(0, "a\n\n"));
        assert_eq!(r.data["stdout"], "a\n\n");
        assert!(!r.data.contains_key("strip_empty_ends"));
    }

    #[test]
    fn glob_words() {
        assert_eq!(super::glob_word("/a b/*.conf"), "/a\\ b/*.conf");
        assert_eq!(super::glob_word("x'y"), "x\\'y");
    }
}
