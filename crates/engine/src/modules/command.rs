//! command / shell / raw: run a command; changed unless `creates`/`removes` say there is nothing to do.
//! The creates/removes test, chdir and the command itself run in ONE exec.
use super::util::{failed, put_output, q, sh, shlex_split, text, Args, Spec};
use super::{ModuleCtx, ModuleResult};
use anyhow::{bail, Result};
use serde_json::{Map, Value};

pub const COMMAND: Spec =
    Spec { args: &["_raw_params", "cmd", "argv", "chdir", "creates", "removes", "stdin", "stdin_add_newline", "strip_empty_ends", "expand_argument_vars", "warn"], required: &[] };
pub const SHELL: Spec =
    Spec { args: &["_raw_params", "cmd", "chdir", "creates", "removes", "stdin", "stdin_add_newline", "strip_empty_ends", "executable", "warn"], required: &[] };
pub const RAW: Spec = Spec { args: &["_raw_params", "executable"], required: &["_raw_params"] };

const SKIP_MARK: &str = "@@MDXCONF-SKIPPED@@";

pub async fn run(name: &'static str, args: &Map<String, Value>, ctx: &ModuleCtx<'_>) -> Result<ModuleResult> {
    let spec = match name {
        "shell" => &SHELL,
        "raw" => &RAW,
        _ => &COMMAND,
    };
    let a = Args::new(name, spec, args)?;
    let raw = a.str("_raw_params")?;
    let cmd_arg = if name == "raw" { None } else { a.str("cmd")? };
    let argv = if name == "command" { a.list("argv")? } else { vec![] };
    let given = [raw.is_some(), cmd_arg.is_some(), !argv.is_empty()].iter().filter(|b| **b).count();
    if given == 0 {
        bail!("{name}: no command given (free-form, 'cmd' or 'argv')");
    }
    if given > 1 {
        bail!("{name}: give only one of the free-form command, 'cmd' and 'argv'");
    }
    let text_cmd = raw.or(cmd_arg).unwrap_or_default();
    if text_cmd.trim().is_empty() && argv.is_empty() {
        bail!("{name}: the command is empty");
    }
    // command runs without a shell: split like Ansible (shlex) and quote every word.
    let command_line = match name {
        "command" => {
            let words = if argv.is_empty() { shlex_split(&text_cmd)? } else { argv.clone() };
            words.iter().map(|w| q(w)).collect::<Vec<_>>().join(" ")
        }
        _ => match a.str("executable")? {
            Some(exe) => format!("{} -c {}", q(&exe), q(&text_cmd)),
            None => text_cmd.clone(),
        },
    };
    let creates = if name == "raw" { None } else { a.str("creates")? };
    let removes = if name == "raw" { None } else { a.str("removes")? };
    let chdir = if name == "raw" { None } else { a.str("chdir")? };
    let mut script = String::new();
    if let Some(d) = &chdir {
        script += &format!("cd -- {} || exit 1\n", q(d));
    }
    // globs are honoured like Ansible (unquoted pattern inside the for list)
    if let Some(c) = &creates {
        script += &format!("for f in {}; do if [ -e \"$f\" ]; then echo '{SKIP_MARK}'; exit 0; fi; done\n", glob_word(c));
    }
    if let Some(r) = &removes {
        script += &format!("x=; for f in {}; do if [ -e \"$f\" ]; then x=1; fi; done; if [ -z \"$x\" ]; then echo '{SKIP_MARK}'; exit 0; fi\n", glob_word(r));
    }
    let display_cmd: Value = if name == "command" && !argv.is_empty() { argv.clone().into() } else { text_cmd.clone().into() };
    let mut r = ModuleResult::default();
    r.data.insert("cmd".into(), display_cmd);
    if ctx.check {
        if creates.is_none() && removes.is_none() {
            r.skipped = true;
            r.msg = "command would have run if not in check mode".into();
            return Ok(r);
        }
        script += "echo '@@MDXCONF-WOULD-RUN@@'\n";
        let out = sh(ctx, &script, None).await?;
        if text(&out.stdout).contains(SKIP_MARK) {
            r.msg = skip_msg(&creates, &removes);
        } else if out.rc != 0 {
            return Ok(failed(format!("{name}: {}", text(&out.stderr).trim())));
        } else {
            r.changed = true;
            r.msg = "command would have run if not in check mode".into();
        }
        return Ok(r);
    }
    script += &format!("{command_line}\n");
    let mut stdin = a.str("stdin")?.map(|s| s.into_bytes());
    if let (Some(s), true) = (&mut stdin, a.bool("stdin_add_newline", true)?) {
        s.push(b'\n');
    }
    let start = now();
    let out = sh(ctx, &script, stdin).await?;
    let end = now();
    if (creates.is_some() || removes.is_some()) && out.stdout.starts_with(SKIP_MARK.as_bytes()) {
        r.msg = skip_msg(&creates, &removes);
        r.data.insert("rc".into(), 0.into());
        r.data.insert("stdout".into(), r.msg.clone().into());
        r.data.insert("stdout_lines".into(), vec![Value::from(r.msg.clone())].into());
        r.data.insert("stderr".into(), "".into());
        r.data.insert("stderr_lines".into(), Value::Array(vec![]));
        return Ok(r);
    }
    put_output(&mut r.data, &out);
    r.data.insert("start".into(), start.into());
    r.data.insert("end".into(), end.into());
    r.changed = true;
    if out.rc != 0 {
        r.failed = true;
        r.msg = "non-zero return code".into();
    }
    Ok(r)
}

fn skip_msg(creates: &Option<String>, removes: &Option<String>) -> String {
    match (creates, removes) {
        (Some(c), _) => format!("skipped, since {c} exists"),
        (_, Some(r)) => format!("skipped, since {r} does not exist"),
        _ => String::new(),
    }
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
