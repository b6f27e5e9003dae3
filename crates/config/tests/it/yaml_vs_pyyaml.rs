//! Differential test: our YAML loading against PyYAML's SafeLoader (what Ansible's loader is
//! built on), through /usr/bin/python3 from Debian's ansible dependencies.
use mdxconf_config::yaml::parse_str;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const DOC: &str = r#"
modes: [0644, 0755, "0644", '0600', 644, 0o17, 0x1F, -012, +7, 1_000]
bools: [yes, no, Yes, NO, on, Off, true, False, TRUE, y, n, Y, N, yEs]
nulls: [~, null, Null, NULL, ]
floats: [1.5, 1e3, 1.0e+3, .5, 1.10, 3., 6.8523015e+5]
strings: [10.1.2.3, 1.2.3, "yes", 'no', v1.0, 22.04, 00:11:22:33:44:55, 1:30, 190:20:30, -1:30, "1:30"]
dates: [2001-12-14, 2001-12-14t21:59:43.10-05:00]
block: |
  line1
   indented
  line3
folded: >
  a
  b

  c
strip: |-
  no newline
keep: |+
  keep

quoted: "tab\there \u00e9 \x41"
single: 'it''s'
multi: this is
  a folded plain
anchors:
  base: &base {a: 1, b: [1, 2]}
  copy: *base
  merged:
    <<: *base
    b: 3
  multi_merge:
    <<: [*base, {c: 4}]
empty_map: {}
empty_list: []
"key with spaces": value
? complex
: value
dup: 1
dup: 2
nested:
  - name: x
    list:
      - a
      - b: c
  - [1, [2, [3]]]
"#;

fn pyyaml(doc: &str) -> Value {
    let mut child = Command::new("/usr/bin/python3")
        .args(["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read()), default=str))"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/python3 with PyYAML is needed (apt-get install ansible)");
    child.stdin.take().unwrap().write_all(doc.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "PyYAML failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn same_values_as_pyyaml() {
    let theirs = pyyaml(DOC);
    let ours = parse_str(DOC, Path::new("doc.yml")).unwrap();
    let (t, o) = (theirs.as_object().unwrap(), ours.as_object().unwrap());
    let mut diffs = Vec::new();
    for (k, tv) in t {
        if k == "dates" {
            continue; // PyYAML makes date objects; we keep the text (compared below)
        }
        if o.get(k) != Some(tv) {
            diffs.push(format!("{k}:\n  pyyaml: {tv}\n  ours:   {}", o.get(k).map(|v| v.to_string()).unwrap_or("<missing>".into())));
        }
    }
    assert_eq!(o.len(), t.len(), "same keys");
    assert_eq!(ours["dates"][0], Value::from("2001-12-14"));
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
