//! Build step for the embedded rule packs.
//!
//! The packs under `detectors/` are embedded with `include_dir!`, which cargo cannot see, so the
//! build reruns when they change. Each `.toml` pack is also parsed here once and written to
//! `$OUT_DIR` as JSON: deserialising JSON at start-up is several times cheaper than parsing TOML,
//! and start-up is most of a hook call. The TOML stays the source of truth: at run time a pack's
//! JSON is used only when the TOML being loaded is byte-identical to the embedded one, and a
//! unit test checks that both forms give the same rules. A pack that does not parse gets no JSON,
//! so its error is reported at run time exactly as for any other rule file.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=detectors");
    // Digests of the detection and extraction code. Rule digests cover the rules as data, but a
    // change to how they are applied (normalisation, decoding, context windows) or to what text
    // is extracted changes results just as much: re-scans must know that stored judgements are
    // stale without anyone remembering to bump a version.
    for (var, dir) in [("RAGSAN_DETECT_CODE", "src/detect"), ("RAGSAN_EXTRACT_CODE", "src/extract")] {
        println!("cargo:rerun-if-changed={dir}");
        println!("cargo:rustc-env={var}={}", code_digest(Path::new(dir)));
    }
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    let mut entries = Vec::new();
    collect(Path::new("detectors"), Path::new("detectors"), &mut entries);
    entries.sort();
    let mut table = String::from("&[\n");
    for (name, json) in entries {
        let file = Path::new(&out).join(format!("{}.json", name.replace('/', "__")));
        std::fs::write(&file, json).expect("write pack JSON");
        table.push_str(&format!("    ({name:?}, include_str!({:?})),\n", file.display().to_string()));
    }
    table.push_str("]\n");
    std::fs::write(Path::new(&out).join("packs_json.rs"), table).expect("write pack table");
}

/// sha256 over the sorted relative paths and contents of the `.rs` files under `dir`, first 16
/// hex digits.
fn code_digest(dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let mut files = Vec::new();
    rs_files(dir, &mut files);
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        let text = std::fs::read(&f).expect("read source");
        h.update(f.to_string_lossy().replace('\\', "/").as_bytes());
        h.update([0]);
        h.update((text.len() as u64).to_le_bytes());
        h.update(&text);
    }
    h.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(root, &p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            let Ok(text) = std::fs::read_to_string(&p) else { continue };
            let Ok(value) = toml::from_str::<toml::Value>(&text) else { continue };
            let Ok(json) = serde_json::to_string(&value) else { continue };
            let name = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            out.push((name, json));
        }
    }
}
