//! `mdxconf image schedule`: a systemd service + timer that refreshes the catalogue, writes its
//! outputs, the report and prunes old builds, under one lock so two runs never overlap (the timer
//! never starts a running service twice; the flock also keeps out a run started by hand or by
//! another scheduler). The service's status is the catalogue build's: a failed template shows as a
//! failed unit in `systemctl status`, its output in the journal; report and prune run regardless.
//! Also the Kubernetes equivalent (a CronJob of an Indexed Job, one template per index), for
//! maintainers who outgrow one build machine.
use super::catalogue::Catalogue;
pub use super::schedule_options::ScheduleOptions;
use anyhow::{bail, Result};
use std::path::Path;

/// Paths go into ExecStart= and a shell line unquoted-safe only: refuse what would need quoting.
fn plain(p: &Path, what: &str) -> Result<String> {
    let s = p.display().to_string();
    if !p.is_absolute() || s.chars().any(|c| c.is_whitespace() || "'\"\\$%`;&|<>*?()[]{}".contains(c)) {
        bail!("{what} `{s}` must be an absolute path without spaces or shell/systemd special characters");
    }
    Ok(s)
}

pub fn service(o: &ScheduleOptions) -> Result<String> {
    let (bin, cat, cache, out) = (
        plain(&o.binary, "the mdxconf binary")?,
        plain(&o.catalogue, "the catalogue")?,
        plain(&o.cache_dir, "the cache directory")?,
        plain(&o.output_dir, "the output directory")?,
    );
    let jobs = o.jobs.map(|j| format!(" --jobs {j}")).unwrap_or_default();
    // `$$` and `%%`: systemd would expand `$rc` and `%` specifiers itself
    let script = format!(
        "{bin} image build {cat} --refresh{jobs} --quiet --cache-dir {cache} --output-dir {out}; rc=$$?; \
{bin} image report --cache-dir {cache} --output {out}/catalogue || rc=$${{rc:-1}}; \
{bin} image prune --keep {keep} --cache-dir {cache} || true; exit $$rc",
        keep = o.keep
    );
    Ok(format!(
        "# Written by `mdxconf image schedule`: refresh the template catalogue {cat}, then its report and prune.\n\
[Unit]\n\
Description=Refresh the mdx template catalogue ({cat})\n\
Wants=network-online.target\n\
After=network-online.target\n\
\n\
[Service]\n\
Type=oneshot\n\
Environment=MDXCONF_CACHE={cache}\n\
WorkingDirectory={cat}\n\
# one run at a time, also against runs not started by this timer (exit 75 when another holds it)\n\
ExecStart=/usr/bin/flock --nonblock --conflict-exit-code 75 {cache}/catalogue.lock /bin/sh -c '{script}'\n\
# QEMU and mmdebstrap run below this unit; stopping it stops them\n\
KillMode=control-group\n\
TimeoutStartSec=12h\n\
Nice=10\n\
StandardOutput=journal\n\
StandardError=journal\n"
    ))
}

pub fn timer(o: &ScheduleOptions) -> String {
    format!(
        "# Written by `mdxconf image schedule`.\n\
[Unit]\n\
Description=Refresh the mdx template catalogue on a schedule\n\
\n\
[Timer]\n\
OnCalendar={cal}\n\
# a run missed while the machine was off happens at the next boot\n\
Persistent=true\n\
RandomizedDelaySec={delay}\n\
AccuracySec=1s\n\
Unit={unit}.service\n\
\n\
[Install]\n\
WantedBy=timers.target\n",
        cal = o.on_calendar,
        delay = o.randomized_delay,
        unit = o.unit
    )
}

/// Cron's five fields for the CronJob, from the common OnCalendar shapes (`daily`, `weekly`,
/// `Sun 03:00`, `*-*-* 04:30`); anything else must be given as a cron line.
pub fn cron_of(on_calendar: &str) -> Result<String> {
    let c = on_calendar.trim();
    let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    let hm = |t: &str| -> Option<(u32, u32)> {
        let (h, m) = t.split_once(':')?;
        let (h, m) = (h.parse().ok()?, m.get(..2).unwrap_or(m).parse().ok()?);
        (h < 24 && m < 60).then_some((h, m))
    };
    let parts: Vec<&str> = c.split_whitespace().collect();
    Ok(match parts.as_slice() {
        ["daily"] => "0 0 * * *".into(),
        ["weekly"] => "0 0 * * 1".into(),
        [d, t] if days.contains(d) => {
            let Some((h, m)) = hm(t) else { bail!("`{c}`: no HH:MM time") };
            format!("{m} {h} * * {}", days.iter().position(|x| x == d).unwrap_or(0))
        }
        ["*-*-*", t] => {
            let Some((h, m)) = hm(t) else { bail!("`{c}`: no HH:MM time") };
            format!("{m} {h} * * *")
        }
        _ => bail!("cannot turn OnCalendar `{c}` into a CronJob schedule: use daily, weekly, `Sun 03:00` or `*-*-* 04:30`"),
    })
}

/// A CronJob whose Job is Indexed: index i builds the i-th template (with its bases, from the shared
/// cache; the cache's per-image lock lets one index build a base while others wait for it), on a
/// node with /dev/kvm. Not run here: no cluster is reachable.
pub fn kubernetes(o: &ScheduleOptions) -> Result<String> {
    if o.k8s_templates.is_empty() {
        bail!("no templates for the Kubernetes job");
    }
    let cron = cron_of(&o.on_calendar)?;
    let n = o.k8s_templates.len();
    let list = o.k8s_templates.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" ");
    let parallelism = o.jobs.unwrap_or(n).min(n);
    // a raw template: `\` line continuations would eat the YAML's indentation
    let yaml = r#"# Written by `mdxconf image schedule --kubernetes`: one template per index of an Indexed Job,
# the cache and outputs on a shared volume, /dev/kvm from the node. NOT RUN by mdxconf's tests
# (validated against the Kubernetes API schemas only).
apiVersion: batch/v1
kind: CronJob
metadata:
  name: @UNIT@
  labels: {app.kubernetes.io/name: mdxconf-catalogue}
spec:
  schedule: "@CRON@"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      completionMode: Indexed
      completions: @N@
      parallelism: @PARALLELISM@
      backoffLimitPerIndex: 1
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: build
              image: "@IMAGE@"
              command: ["/bin/sh", "-ec"]
              args:
                - |
                  set -- @LIST@
                  shift "$JOB_COMPLETION_INDEX"
                  mdxconf image build "/catalogue/$1" --refresh --quiet --cache-dir /cache --output-dir "/cache/output/${1%.yaml}"
              env:
                - {name: MDXCONF_CACHE, value: /cache}
              resources:
                requests: {cpu: "2", memory: 4Gi}
                limits: {memory: 8Gi}
              securityContext:
                # /dev/kvm from the node (a device plugin such as kubevirt's can replace this)
                privileged: true
              volumeMounts:
                - {name: cache, mountPath: /cache}
                - {name: kvm, mountPath: /dev/kvm}
          volumes:
            - name: cache
              persistentVolumeClaim: {claimName: @CLAIM@}
            - name: kvm
              hostPath: {path: /dev/kvm, type: CharDevice}
"#;
    Ok(yaml
        .replace("@UNIT@", &o.unit)
        .replace("@CRON@", &cron)
        .replace("@N@", &n.to_string())
        .replace("@PARALLELISM@", &parallelism.to_string())
        .replace("@IMAGE@", &o.k8s_image)
        .replace("@LIST@", &list)
        .replace("@CLAIM@", &o.k8s_claim))
}

/// The templates of a catalogue, as the Kubernetes job lists them (definition file names).
pub fn template_files(catalogue: &Path) -> Result<Vec<String>> {
    let c = Catalogue::load(catalogue)?;
    Ok(c.images.iter().filter_map(|d| d.file.file_name().map(|n| n.to_string_lossy().into_owned())).collect())
}

/// Write STEM.service and STEM.timer into `dir` (and the CronJob when asked); with `install`,
/// reload systemd and enable the timer (the units must be in a systemd unit directory).
pub fn write(o: &ScheduleOptions, dir: &Path, with_kubernetes: bool) -> Result<Vec<std::path::PathBuf>> {
    // both go into the timer as they are: one line, no unit syntax smuggled in
    for (v, what) in [(&o.on_calendar, "--on-calendar"), (&o.randomized_delay, "--randomized-delay")] {
        if v.trim().is_empty() || v.chars().any(|c| c.is_control() || c == '%' || c == '\\') {
            bail!("{what} `{}` must be one line without `%` or `\\`", v.escape_debug());
        }
    }
    let mut written = vec![];
    let svc = dir.join(format!("{}.service", o.unit));
    mdxconf_config::fs::write_atomic(&svc, service(o)?.as_bytes())?;
    written.push(svc);
    let tmr = dir.join(format!("{}.timer", o.unit));
    mdxconf_config::fs::write_atomic(&tmr, timer(o).as_bytes())?;
    written.push(tmr);
    if with_kubernetes {
        let k = dir.join(format!("{}-cronjob.yaml", o.unit));
        mdxconf_config::fs::write_atomic(&k, kubernetes(o)?.as_bytes())?;
        written.push(k);
    }
    Ok(written)
}

/// `--install`: daemon-reload and enable --now the timer.
pub fn install(o: &ScheduleOptions, user: bool) -> Result<()> {
    let scope: &[&str] = if user { &["--user"] } else { &[] };
    for args in [vec!["daemon-reload"], vec!["enable", "--now"]] {
        let mut cmd = std::process::Command::new("systemctl");
        cmd.args(scope).args(&args);
        if args[0] == "enable" {
            cmd.arg(format!("{}.timer", o.unit));
        }
        let st = cmd.status()?;
        if !st.success() {
            bail!("systemctl {} failed ({st})", args.join(" "));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cron_lines() {
        assert_eq!(super::cron_of("Sun 03:00").unwrap(), "0 3 * * 0");
        assert_eq!(super::cron_of("*-*-* 04:30").unwrap(), "30 4 * * *");
        assert_eq!(super::cron_of("daily").unwrap(), "0 0 * * *");
        assert!(super::cron_of("Sun 25:00").is_err() && super::cron_of("Mon..Fri 03:00").is_err());
    }
}
