//! mount (ansible.posix.mount): the fstab entry (written atomically) and the mounted state, read in one exec.
use crate::host::mounts::{esc, mount_script, parse_mount, set_fstab_entry};
use crate::ops::put::{plan_put_with_info, Put};
use crate::plan::{Outcome, Step};
use crate::spec::{b, s, ArgSpec, Def};
use crate::util::{sh, sh_quote as q, state_diff, text};
use crate::{Args, Module, ModuleCtx, ModuleResult, Plan};
use anyhow::{bail, Result};
use mdxconf_transport::sha256_hex;

pub struct Mount;

static SPEC: ArgSpec = ArgSpec::new(&[
    s("path").aliases(&["name"]).required(),
    s("src"),
    s("fstype"),
    s("opts").default(Def::Str("defaults")),
    s("dump").default(Def::Str("0")),
    s("passno").default(Def::Str("0")),
    s("state").choices(&["mounted", "present", "unmounted", "absent", "remounted"]).required(),
    s("fstab").default(Def::Str("/etc/fstab")),
    b("boot").default(Def::Bool(true)),
    b("backup").default(Def::Bool(false)),
])
.required_if(&[("state", "mounted", &["src", "fstype"]), ("state", "present", &["src", "fstype"])]);

#[async_trait::async_trait]
impl Module for Mount {
    fn name(&self) -> &'static str {
        "mount"
    }
    fn spec(&self) -> &'static ArgSpec {
        &SPEC
    }
    async fn plan(&self, a: &Args, ctx: &ModuleCtx<'_>) -> Result<Plan> {
        let path = a.req("path")?.trim_end_matches('/').to_string();
        let path = if path.is_empty() { "/".to_string() } else { path };
        let state = a.req("state")?;
        let fstab = a.req("fstab")?;
        let (src, fstype) = (a.str("src")?, a.str("fstype")?);
        let mut opts = a.req("opts")?;
        if !a.bool("boot")? && !opts.split(',').any(|o| o == "noauto") {
            opts += ",noauto";
        }
        let entry = format!("{} {} {} {opts} {} {}", esc(src.as_deref().unwrap_or("")), esc(&path), fstype.as_deref().unwrap_or(""), a.req("dump")?, a.req("passno")?);
        let out = sh(ctx, &mount_script(&path, &fstab), None).await?;
        if out.rc != 0 {
            bail!("mount: inspecting {path} failed: {}", text(&out.stderr).trim());
        }
        let st = parse_mount(&out.stdout)?;
        let before = st.fstab.content.as_deref().map(text).unwrap_or_default();
        let after = match state.as_str() {
            "mounted" | "present" => set_fstab_entry(&before, &path, Some(&entry)),
            "absent" => set_fstab_entry(&before, &path, None),
            _ => before.clone(),
        };
        let mut r = ModuleResult::default();
        let mut steps = vec![];
        let fstab_changed = after != before;
        if fstab_changed {
            let mut put = Put::new(fstab.clone(), after.clone().into_bytes());
            put.follow = true;
            put.backup = a.bool("backup")?;
            let sha = sha256_hex(after.as_bytes());
            let w = plan_put_with_info(ctx, put, st.fstab, sha);
            if w.result.failed {
                return Ok(w);
            }
            r.diff.extend(w.result.diff);
            steps.extend(w.steps);
        }
        let p = q(&path);
        // like Ansible, a non-default fstab is handed to mount(8) with -T
        let mnt = if fstab == "/etc/fstab" { "mount".to_string() } else { format!("mount -T {}", q(&fstab)) };
        let mut cmds: Vec<String> = vec![];
        match state.as_str() {
            "mounted" if !st.mounted => {
                if !st.is_dir {
                    cmds.push(format!("mkdir -p -- {p}"));
                }
                cmds.push(format!("{mnt} -- {p}"));
            }
            "mounted" if fstab_changed => cmds.push(format!("{{ {mnt} -o remount -- {p} || {{ umount -- {p} && {mnt} -- {p}; }}; }}")),
            "unmounted" | "absent" if st.mounted => cmds.push(format!("umount -- {p}")),
            "remounted" if !st.mounted => return Ok(Plan::failed(format!("{path} is not mounted"))),
            "remounted" => cmds.push(format!("{mnt} -o remount -- {p}")),
            _ => {}
        }
        if !cmds.is_empty() {
            let want = match state.as_str() {
                "mounted" => "mounted: true",
                "remounted" => "remounted",
                _ => "mounted: false",
            };
            r.diff.push(state_diff(format!("mount {path}"), format!("mounted: {}\n", st.mounted), format!("{want}\n")));
            steps.push(Step::run(format!("Error mounting/unmounting {path}"), cmds.join(" && ")));
        }
        r.data.insert("name".into(), path.into());
        r.data.insert("fstab".into(), fstab.into());
        if let Some(s) = src {
            r.data.insert("src".into(), s.into());
        }
        if let Some(f) = fstype {
            r.data.insert("fstype".into(), f.into());
        }
        r.data.insert("opts".into(), opts.into());
        Ok(Plan::change(r, steps))
    }
    /// A failed mount after the fstab was written is still a change.
    fn finish(&self, planned: ModuleResult, outcomes: &[Outcome]) -> ModuleResult {
        let mut r = crate::module::default_finish(planned, outcomes);
        if r.failed && outcomes.iter().any(|o| matches!(o, Outcome::Written { .. })) {
            r.changed = true;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn a_failed_mount_after_the_fstab_write_is_a_change() {
        let bad = Outcome::Ran { what: "Error mounting/unmounting /m".into(), out: mdxconf_transport::ExecOutput { rc: 32, stdout: vec![], stderr: b"no\n".to_vec() } };
        let r = Mount.finish(ModuleResult { changed: true, ..Default::default() }, &[Outcome::Written { backup: None }, bad.clone()]);
        assert!(r.failed && r.changed && r.msg == "Error mounting/unmounting /m: no");
        let r = Mount.finish(ModuleResult { changed: true, ..Default::default() }, &[bad]);
        assert!(r.failed && !r.changed);
    }
}
