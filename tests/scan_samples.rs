//! End to end through the real CLI on the bundled samples: one verdict per file, the index read
//! back from disk, no planted value anywhere in the output, idempotent re-scans.

mod common;
use common::*;
use ragsan::index::IndexReaderHandle;
use std::collections::BTreeMap;

fn scan(data: &std::path::Path) -> (i32, Vec<serde_json::Value>, Vec<u8>) {
    let out = ragsan()
        .args(["--data"])
        .arg(data)
        .args(["scan", "samples", "--format", "ndjson", "--quiet"])
        .output()
        .expect("run");
    (out.status.code().unwrap_or(-1), ndjson(&out.stdout), [out.stdout, out.stderr].concat())
}

#[test]
fn scan_samples_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (code, reports, output) = scan(&data);
    assert_eq!(code, 1, "samples hold findings, so exit 1");

    // Every file under samples/ exactly once, with the expected verdict and reason.
    // Sources are named by absolute paths under the resolved scan root, whatever was typed.
    let canon = std::fs::canonicalize(root()).unwrap();
    let mut by_path: BTreeMap<String, &serde_json::Value> = BTreeMap::new();
    for r in &reports {
        let abs = std::path::Path::new(r["path"].as_str().unwrap());
        let p = abs.strip_prefix(&canon).unwrap_or_else(|_| panic!("{} not under {}", abs.display(), canon.display()));
        let p = p.to_string_lossy().replace('\\', "/");
        assert!(by_path.insert(p.clone(), r).is_none(), "{p} reported twice");
    }
    let on_disk: Vec<String> = files_under(&root().join("samples"))
        .iter()
        .map(|p| p.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/"))
        .collect();
    assert_eq!(by_path.keys().cloned().collect::<Vec<_>>(), on_disk, "every sample exactly once");
    let mut mismatches = Vec::new();
    for e in expected() {
        let r = by_path[&format!("samples/{}", e.file)];
        if r["verdict"] != e.verdict.as_str() {
            mismatches.push(format!("{}: verdict {} want {} ({})", e.file, r["verdict"], e.verdict, r["detail"]));
        }
        if let Some(want) = e.reasons.first() {
            if r["reason"] != want.as_str() {
                mismatches.push(format!("{}: reason {} want {want}", e.file, r["reason"]));
            }
        }
        for h in &e.hidden_reasons {
            let seen = r["findings"].as_array().unwrap().iter().any(|f| {
                f["kind"] == "injection" && f["visibility"].as_array().unwrap().iter().any(|v| v == h.as_str())
            });
            if !seen {
                mismatches.push(format!("{}: no injection finding marked {h}", e.file));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));

    // The index, read back from disk: clean words are there, no planted value or injection
    // sentence is in any stored field.
    let idx = IndexReaderHandle::open(&data.join("index")).unwrap();
    let chunks = idx.all().unwrap();
    assert!(!chunks.is_empty());
    for e in expected() {
        for w in &e.clean_words {
            let (n, hits) = idx.search(w, 5).unwrap();
            assert!(n > 0, "clean word {w:?} from {} not found", e.file);
            assert!(hits.iter().any(|h| h.source_path.ends_with(&e.file)), "{w:?} not attributed to {}", e.file);
        }
    }
    let forbidden = forbidden();
    for c in &chunks {
        let stored = serde_json::to_string(c).unwrap();
        for v in &forbidden {
            assert!(
                !stored.contains(v.as_str()),
                "stored chunk of {} holds a planted value or injection",
                c.source_path
            );
        }
        // Provenance: the stored hash is the chunk's, and the chunk maps back to its range.
        assert_eq!(c.chunk_sha256, ragsan::chunk::sha256_hex(c.text.as_bytes()));
        assert_eq!((c.end - c.start) as usize, c.text.len());
        assert_eq!(c.ruleset.len(), 64);
        assert!(!c.source_sha256.is_empty());
        assert!(c.verdict == "clean" || c.verdict == "redacted" || c.verdict == "flagged");
    }
    // Redacted files carry tokens in place of their values.
    assert!(chunks.iter().any(|c| c.text.contains("[REDACTED:")));

    // Every output byte: stdout/stderr, reports, sidecars and index files (the quarantined
    // originals are the inputs themselves and are exempt).
    let mut blobs = vec![("output".to_string(), output)];
    for p in files_under(&data) {
        if p.extension().is_some_and(|e| e == "bin") && p.parent().is_some_and(|d| d.ends_with("quarantine")) {
            continue;
        }
        blobs.push((p.display().to_string(), std::fs::read(&p).unwrap()));
    }
    for (name, bytes) in &blobs {
        let text = String::from_utf8_lossy(bytes);
        for v in forbidden.iter().filter(|v| v.len() >= 8) {
            assert!(!text.contains(v.as_str()), "{name} contains a planted value");
        }
    }

    // Quarantine keeps originals with sidecars.
    let sidecars: Vec<_> = files_under(&data.join("quarantine"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    let n_quarantined = reports.iter().filter(|r| r["verdict"] == "quarantined").count();
    assert_eq!(sidecars.len(), n_quarantined);
    for s in &sidecars {
        assert!(s.with_extension("bin").exists(), "original kept for {}", s.display());
    }

    // A second run leaves the same chunks (no duplicates).
    let before: Vec<_> = chunks.iter().map(|c| c.chunk_id.clone()).collect();
    let (code2, reports2, _) = scan(&data);
    assert_eq!(code2, 1);
    assert_eq!(reports2.len(), reports.len());
    let idx2 = IndexReaderHandle::open(&data.join("index")).unwrap();
    let mut after: Vec<_> = idx2.all().unwrap().into_iter().map(|c| c.chunk_id).collect();
    let mut before_sorted = before.clone();
    before_sorted.sort();
    after.sort();
    assert_eq!(before_sorted, after, "re-scan changed the chunk set");
}

#[test]
fn human_summary_and_search() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ragsan().arg("--data").arg(tmp.path()).args(["scan", "samples"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("verdicts:"), "{s}");
    assert!(s.contains("quarantined"));
    let out =
        ragsan().arg("--data").arg(tmp.path()).args(["search", "onboarding", "--format", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["count"].as_u64().unwrap() >= 1);
    let hit = &v["hits"][0];
    for k in ["chunk_id", "chunk_sha256", "source_path", "source_sha256", "ruleset", "tool_version"] {
        assert!(hit[k].as_str().is_some_and(|s| !s.is_empty()), "hit lacks {k}");
    }
}
