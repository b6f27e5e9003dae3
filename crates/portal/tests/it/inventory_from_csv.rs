//! `mdxconf inventory from-csv` against a realistic portal export (BOM, quoted fields, Japanese
//! comments, a powered-off VM without addresses, a link-local IPv6), compared with hand-written golden files.
use mdxconf_config::error::ConfigError;
use mdxconf_portal::cli::{run_inventory, InventoryArgs, InventoryCmd};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// Run `from-csv ARGS -o <tmp>` and return the written inventory.
fn from_csv(args: &[&str]) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let out = dir.path().join("inventory.ini");
    let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    argv.push("-o".into());
    argv.push(out.display().to_string());
    let code = run_inventory(InventoryArgs { cmd: InventoryCmd::FromCsv { args: argv } })?;
    assert_eq!(code, 0, "from-csv exit code");
    Ok(std::fs::read_to_string(out)?)
}

fn config_error(e: anyhow::Error) -> ConfigError {
    e.downcast::<ConfigError>().expect("a located ConfigError")
}

#[test]
fn default_inventory_matches_golden_file() {
    let csv = fixture("portal_vms.csv");
    assert!(std::fs::read(&csv).unwrap().starts_with(b"\xef\xbb\xbf"), "fixture must carry the portal's BOM");
    let got = from_csv(&[csv.to_str().unwrap()]).unwrap();
    let want = std::fs::read_to_string(fixture("portal_vms.expected.ini")).unwrap();
    assert_eq!(got, want);
}

#[test]
fn groups_and_group_vars_match_golden_file() {
    let csv = fixture("portal_vms.csv");
    let got = from_csv(&[
        csv.to_str().unwrap(),
        "-d",
        "all_vms",
        "--group-with",
        "nfsserver",
        "ikura-login",
        "--group-without",
        "workers",
        "ikura-login",
        "ikura-off",
        "-g",
        "gpu",
        r"-gpu-\d+$",
        "-gv",
        "cpu",
        "gpu|login",
        "--group-var",
        "gpu",
        "cuda_version=12-4",
        "--group-var",
        "all_vms",
        "ldap_domain=dc=ikura,dc=mdx,dc=jp",
        "--group-var",
        "gpu",
        "nvidia_driver_branch=550",
    ])
    .unwrap();
    let want = std::fs::read_to_string(fixture("portal_vms.groups.expected.ini")).unwrap();
    assert_eq!(got, want);
}

#[test]
fn regexp_groups_select_by_vm_name() {
    let csv = fixture("portal_vms.csv");
    let got = from_csv(&[csv.to_str().unwrap(), "-g", "compute", "^ikura-(cpu|gpu)-0[12]$", "-g", "first", "-01$"]).unwrap();
    let section = |name: &str| -> Vec<String> {
        let start = got.find(&format!("[{name}]\n")).unwrap_or_else(|| panic!("no [{name}] in\n{got}"));
        got[start..].lines().skip(1).take_while(|l| !l.is_empty()).filter(|l| !l.starts_with('#')).map(|l| l.split(' ').next().unwrap().to_string()).collect()
    };
    assert_eq!(section("compute"), ["ikura-cpu-01", "ikura-cpu-02", "ikura-gpu-01"]);
    assert_eq!(section("first"), ["ikura-cpu-01", "ikura-gpu-01"]);
}

#[test]
fn use_ipv6_and_linklocal_flags() {
    let csv = fixture("portal_vms.csv");
    let got = from_csv(&[csv.to_str().unwrap(), "-6", "--enable-linklocal"]).unwrap();
    assert!(got.contains("ikura-login ansible_host=2001:2f8:1041:21c:250:56ff:fe01:9b10 hostname=ikura-login ethipv4=10.13.204.10"), "{got}");
    // link-local kept when asked for; the /64 still comes from a global address (as upstream)
    assert!(got.contains("ikura-cpu-01 ansible_host=fe80::250:56ff:fe01:9b11 "), "{got}");
    assert!(got.contains("ethipv6prefix=2001:2f8:1041:21c::/64\n"), "{got}");
    assert!(!got.contains("ethipv6="), "ethipv6 only with --enable-ethipv6: {got}");
    let with = from_csv(&[csv.to_str().unwrap(), "--enable-ethipv6"]).unwrap();
    assert!(with.contains(" ethipv6=2001:2f8:1041:21c:250:56ff:fe01:9b12\n"), "{with}");
}

/// `--host-names address`: mdxcsv2inventory.py's layout (hosts named by address, padded columns),
/// which its mdxpasswdinit.py reads; `ansible_remote_tmp` as upstream writes it.
#[test]
fn upstream_host_naming_by_address() {
    let csv = fixture("portal_vms.csv");
    let got = from_csv(&[csv.to_str().unwrap(), "--host-names", "address", "--enable-ethipv6"]).unwrap();
    assert!(got.contains("\nansible_remote_tmp=/tmp/.ansible\n"), "{got}");
    assert!(got.contains("\n10.13.204.12    hostname=ikura-cpu-02 ethipv4=10.13.204.12    rdmaipv4=172.17.10.12    ethipv6=2001:2f8:1041:21c:250:56ff:fe01:9b12\n"), "{got}");
    assert!(got.contains("\n10.13.204.11    hostname=ikura-cpu-01 ethipv4=10.13.204.11    rdmaipv4=172.17.10.11   \n"), "link-local dropped: {got}");
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts.ini");
    std::fs::write(&inv, &got).unwrap();
    let loaded = mdxconf_config::inventory::Inventory::load(&inv).expect("engine loads it");
    assert_eq!(loaded.host_vars("10.13.204.12")["hostname"], "ikura-cpu-02");
}

#[test]
fn output_is_a_valid_inventory_for_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("hosts.ini");
    std::fs::write(&inv, from_csv(&[fixture("portal_vms.csv").to_str().unwrap(), "-g", "gpu", "gpu"]).unwrap()).unwrap();
    let loaded = mdxconf_config::inventory::Inventory::load(&inv).expect("engine loads the generated inventory");
    assert_eq!(loaded.hosts_matching("gpu"), ["ikura-gpu-01"]);
    let vars = loaded.host_vars("ikura-cpu-02");
    assert_eq!(vars["ansible_host"], "10.13.204.12");
    assert_eq!(vars["rdmaipv4"], "172.17.10.12");
    assert_eq!(vars["ethipv4prefix"], "10.13.200.0/21");
}

#[test]
fn ragged_row_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("vms.csv");
    std::fs::write(&csv, "\u{feff}VM_NAME,SERVICE_NET_1_IPv4,SERVICE_NET_1_IPv6,STORAGE_NET_1_IPv4\na,10.0.0.1,,\nb,10.0.0.2\n").unwrap();
    let e = config_error(from_csv(&[csv.to_str().unwrap()]).unwrap_err());
    assert_eq!((e.file.as_path(), e.line), (csv.as_path(), 3), "{e}");
    assert!(e.to_string().contains("2 fields"), "{e}");
}

#[test]
fn bad_address_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("vms.csv");
    std::fs::write(&csv, "\u{feff}VM_NAME,SERVICE_NET_1_IPv4,SERVICE_NET_1_IPv6,STORAGE_NET_1_IPv4\na,10.0.0.1,,\nb,10.0.0.2,,172.17.300.1\n").unwrap();
    let e = config_error(from_csv(&[csv.to_str().unwrap()]).unwrap_err());
    assert_eq!((e.line, e.col), (3, 13), "{e}");
    assert!(e.to_string().contains(&format!("{}:3:13:", csv.display())), "{e}");
    assert!(e.to_string().contains("172.17.300.1"), "{e}");
}

#[test]
fn missing_column_is_reported_on_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("vms.csv");
    std::fs::write(&csv, "\u{feff}VM_NAME,SERVICE_NET_1_IPv4\na,10.0.0.1\n").unwrap();
    let e = config_error(from_csv(&[csv.to_str().unwrap()]).unwrap_err());
    assert_eq!(e.line, 1);
    assert!(e.message.contains("SERVICE_NET_1_IPv6"), "{e}");
}

#[test]
fn non_utf8_file_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("vms.csv");
    // Shift_JIS "計算" in the comment column: what Excel writes when it re-saves the portal's file.
    let mut bytes = b"VM_NAME,SERVICE_NET_1_IPv4,SERVICE_NET_1_IPv6,STORAGE_NET_1_IPv4,COMMENT\na,10.0.0.1,,,".to_vec();
    bytes.extend_from_slice(&[0x8c, 0x76, 0x8e, 0x5a, b'\n']);
    std::fs::write(&csv, bytes).unwrap();
    let e = config_error(from_csv(&[csv.to_str().unwrap()]).unwrap_err());
    assert_eq!((e.line, e.col), (2, 14), "{e}");
}

#[test]
fn bad_regexp_and_group_var_are_rejected() {
    let csv = fixture("portal_vms.csv");
    let e = from_csv(&[csv.to_str().unwrap(), "-g", "g", "(unclosed"]).unwrap_err();
    assert!(e.to_string().contains("bad regular expression"), "{e:#}");
    let e = from_csv(&[csv.to_str().unwrap(), "--group-var", "g", "novalue"]).unwrap_err();
    assert!(e.to_string().contains("KEY=VALUE"), "{e:#}");
}
