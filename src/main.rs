//! Temporary minimal CLI (extract, detect) so extractor and rule work can be measured; replaced
//! by `cli.rs`.
use ragsan::sniff::{sniff, Sniffed};
use std::io::{BufRead, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("extract") => {
            let Some(path) = args.get(2) else {
                return ExitCode::from(2);
            };
            let json = args.iter().any(|a| a == "json");
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("{path}: {e}");
                    return ExitCode::from(2);
                }
            };
            let ext = std::path::Path::new(path)
                .extension()
                .and_then(|e| e.to_str());
            let kind = match sniff(&bytes, ext) {
                Sniffed::Accept(k) => k,
                Sniffed::Reject { reason, detail } => {
                    eprintln!("{path}: rejected: {} ({detail})", reason.as_str());
                    return ExitCode::from(1);
                }
            };
            let limits = ragsan::Limits::default();
            let budget = ragsan::Budget::new(&limits);
            match ragsan::extract::extract(kind, &bytes, &budget) {
                Ok(x) => {
                    if json {
                        println!("{}", serde_json::to_string_pretty(&x).unwrap_or_default());
                    } else {
                        print!("{}", x.visible_text());
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{path}: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Some("detect") => {
            let d = match args
                .get(2)
                .filter(|a| *a == "--detectors")
                .and_then(|_| args.get(3))
            {
                Some(dir) => ragsan::Detectors::from_dir(std::path::Path::new(dir)),
                None => ragsan::Detectors::embedded(),
            };
            let d = match d {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(2);
                }
            };
            let stdin = std::io::stdin();
            let mut out = std::io::stdout().lock();
            for line in stdin.lock().lines().map_while(Result::ok) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                let text = v["text"].as_str().unwrap_or("");
                let findings: Vec<_> = d
                    .scan(text)
                    .iter()
                    .map(|m| {
                        let r = d.rule(m.rule);
                        serde_json::json!({"rule": r.id(), "kind": r.kind.as_str(), "label": r.spec.label,
                            "start": m.start, "end": m.end, "score": m.score})
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({"id": v["id"], "findings": findings})
                );
            }
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("usage: ragsan extract FILE [json] | ragsan detect [--detectors DIR]");
            ExitCode::from(2)
        }
    }
}
