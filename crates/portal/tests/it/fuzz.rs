//! Fuzz target: the portal's VM CSV, parsed and turned into an inventory as `inventory from-csv` does.
use mdxconf_portal::inventory_ini::{render_inventory, InventoryOptions};
use mdxconf_portal::vm_csv::parse_vm_csv;
use mdxconf_testkit::fuzz;
use std::path::Path;

#[test]
fn portal_csv() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = fuzz::seeds(&[crate_dir.join("tests/fixtures")], &[".csv"], &[b"VM_NAME,SERVICE_NET_1_IPv4,SERVICE_NET_1_IPv6,STORAGE_NET_1_IPv4\nvm1,10.0.0.1,fe80::1,\n"]);
    fuzz::run("portal_csv", crate_dir, seeds, |b| {
        let text = String::from_utf8_lossy(b);
        for linklocal in [false, true] {
            if let Ok(vms) = parse_vm_csv(Path::new("vms.csv"), &text, linklocal) {
                let _ = render_inventory(&vms, &InventoryOptions::default());
            }
        }
    });
}
