//! The tantivy index of clean chunks, with provenance on every chunk.
//!
//! One writer (the pipeline's sink) owns it. Each source is replaced atomically within a commit:
//! its old chunks are deleted by source path before the new ones are added, so re-running on the
//! same corpus never duplicates chunks, and a quarantined source's old chunks are pulled. Nothing
//! is visible until `commit`, so a crash leaves the last committed state intact.

use crate::model::{Chunk, DocKind, Provenance, VerdictKind};
use anyhow::{Context, Result};
use serde::Serialize;
use std::path::Path;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::QueryParser;
use tantivy::schema::document::{DeserializeError, DocumentDeserialize, DocumentDeserializer};
use tantivy::schema::document::{ValueDeserialize, ValueDeserializer, ValueVisitor};
use tantivy::schema::{Field, Schema, Value, INDEXED, STORED, STRING, TEXT};
use tantivy::{doc, DateTime, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Memory for the single indexing thread; bounded whatever the corpus size.
const WRITER_HEAP: usize = 64 << 20;

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub chunk_id: Field,
    pub text: Field,
    pub chunk_sha256: Field,
    pub source_path: Field,
    pub source_sha256: Field,
    pub kind: Field,
    pub verdict: Field,
    pub page: Field,
    pub ordinal: Field,
    pub start: Field,
    pub end: Field,
    pub ruleset: Field,
    pub tool_version: Field,
    pub extractor: Field,
    pub ingested: Field,
    pub redactions: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        chunk_id: b.add_text_field("chunk_id", STRING | STORED),
        text: b.add_text_field("text", TEXT | STORED),
        chunk_sha256: b.add_text_field("chunk_sha256", STRING | STORED),
        source_path: b.add_text_field("source_path", STRING | STORED),
        source_sha256: b.add_text_field("source_sha256", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        verdict: b.add_text_field("verdict", STRING | STORED),
        page: b.add_u64_field("page", INDEXED | STORED),
        ordinal: b.add_u64_field("ordinal", STORED),
        start: b.add_u64_field("start", STORED),
        end: b.add_u64_field("end", STORED),
        ruleset: b.add_text_field("ruleset", STRING | STORED),
        tool_version: b.add_text_field("tool_version", STRING | STORED),
        extractor: b.add_text_field("extractor", STRING | STORED),
        ingested: b.add_date_field("ingested", STORED),
        redactions: b.add_u64_field("redactions", STORED),
    };
    (b.build(), f)
}

pub fn open(dir: &Path) -> Result<(Index, Fields)> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating index dir {}", dir.display()))?;
    let (schema, fields) = schema();
    let mmap = MmapDirectory::open(dir).with_context(|| format!("opening index dir {}", dir.display()))?;
    let index = Index::open_or_create(mmap, schema).with_context(|| format!("opening index at {}", dir.display()))?;
    Ok((index, fields))
}

/// A stable id for a chunk: the same source, position and content give the same id.
pub fn chunk_id(source_path: &str, chunk: &Chunk) -> String {
    let mut s = crate::chunk::sha256_hex(format!("{source_path}\0{}\0{}", chunk.ordinal, chunk.sha256).as_bytes());
    s.truncate(32);
    s
}

/// Documents per read task of [`IndexReaderHandle::scan_chunks_where`].
const SCAN_RANGE: u32 = 1024;

/// The single writer.
pub struct IndexSink {
    index: Index,
    writer: IndexWriter,
    f: Fields,
    pending: usize,
}

impl IndexSink {
    pub fn open(dir: &Path) -> Result<Self> {
        let (index, f) = open(dir)?;
        let writer = index
            .writer_with_num_threads(1, WRITER_HEAP)
            .with_context(|| format!("locking index {} (is another ragsan writing to it?)", dir.display()))?;
        // A writer killed mid-commit leaves files no commit names (a segment's `.del` bitset, say).
        // Tantivy names them by opstamp, which restarts from the last commit, so the next commit
        // would collide with the leftover ("File already exists"). Every file tantivy writes is
        // registered as managed before it is created, so collecting them now is complete.
        writer
            .garbage_collect_files()
            .wait()
            .with_context(|| format!("removing files a killed writer left in {}", dir.display()))?;
        Ok(IndexSink { index, writer, f, pending: 0 })
    }

    /// Replaces every chunk of `source_path` with `chunks` (none: just removes).
    pub fn replace_source(
        &mut self,
        source_path: &str,
        kind: Option<DocKind>,
        verdict: VerdictKind,
        chunks: &[Chunk],
        prov: &Provenance,
        ingested: i64,
    ) -> Result<()> {
        let f = self.f;
        self.writer.delete_term(Term::from_field_text(f.source_path, source_path));
        let now = DateTime::from_timestamp_secs(ingested);
        for c in chunks {
            self.writer.add_document(doc!(
                f.chunk_id => chunk_id(source_path, c),
                f.text => c.text.as_str(),
                f.chunk_sha256 => c.sha256.as_str(),
                f.source_path => source_path,
                f.source_sha256 => prov.source_sha256.as_str(),
                f.kind => kind.map_or("unknown", DocKind::as_str),
                f.verdict => verdict.as_str(),
                f.page => u64::from(c.page.unwrap_or(0)),
                f.ordinal => u64::from(c.ordinal),
                f.start => c.start as u64,
                f.end => c.end as u64,
                f.ruleset => prov.ruleset_digest.as_str(),
                f.tool_version => prov.tool_version.as_str(),
                f.extractor => prov.extractor.as_str(),
                f.ingested => now,
                f.redactions => u64::from(c.redactions),
            ))?;
        }
        self.pending += 1;
        Ok(())
    }

    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Makes everything added so far durable and visible, with `payload` (the ruleset manifest).
    pub fn commit(&mut self, payload: &str) -> Result<()> {
        let mut prepared = self.writer.prepare_commit().context("preparing index commit")?;
        prepared.set_payload(payload);
        prepared.commit().context("committing index")?;
        self.pending = 0;
        Ok(())
    }

    /// Drops uncommitted changes and waits for merge threads.
    pub fn finish(self) -> Result<()> {
        self.writer.wait_merging_threads().context("finishing index merges")?;
        drop(self.index);
        Ok(())
    }
}

/// A stored chunk as read back from the index.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StoredChunk {
    pub chunk_id: String,
    pub text: String,
    pub chunk_sha256: String,
    pub source_path: String,
    pub source_sha256: String,
    pub kind: String,
    pub verdict: String,
    pub page: Option<u64>,
    pub ordinal: u64,
    pub start: u64,
    pub end: u64,
    pub ruleset: String,
    pub tool_version: String,
    pub extractor: String,
    pub redactions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

fn stored(doc: &TantivyDocument, f: &Fields, score: Option<f32>) -> StoredChunk {
    let s = |field: Field| doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let n = |field: Field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0);
    StoredChunk {
        chunk_id: s(f.chunk_id),
        text: s(f.text),
        chunk_sha256: s(f.chunk_sha256),
        source_path: s(f.source_path),
        source_sha256: s(f.source_sha256),
        kind: s(f.kind),
        verdict: s(f.verdict),
        page: Some(n(f.page)).filter(|p| *p > 0),
        ordinal: n(f.ordinal),
        start: n(f.start),
        end: n(f.end),
        ruleset: s(f.ruleset),
        tool_version: s(f.tool_version),
        extractor: s(f.extractor),
        redactions: n(f.redactions),
        score,
    }
}

/// The three stored fields a re-scan needs from each chunk. Reading only these (instead of a
/// whole [`TantivyDocument`] turned into a [`StoredChunk`]) makes the re-scan's read of every
/// stored chunk several times cheaper; it is the largest fixed cost of a rescan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkText {
    pub chunk_id: String,
    pub source_path: String,
    pub text: String,
}

/// A stored value kept only when it is a string; numbers and dates are skipped.
struct MaybeStr(Option<String>);

struct MaybeStrVisitor;

impl ValueVisitor for MaybeStrVisitor {
    type Value = MaybeStr;
    fn visit_string(&self, val: String) -> Result<MaybeStr, DeserializeError> {
        Ok(MaybeStr(Some(val)))
    }
    fn visit_u64(&self, _: u64) -> Result<MaybeStr, DeserializeError> {
        Ok(MaybeStr(None))
    }
    fn visit_i64(&self, _: i64) -> Result<MaybeStr, DeserializeError> {
        Ok(MaybeStr(None))
    }
    fn visit_datetime(&self, _: DateTime) -> Result<MaybeStr, DeserializeError> {
        Ok(MaybeStr(None))
    }
}

impl ValueDeserialize for MaybeStr {
    fn deserialize<'de, D: ValueDeserializer<'de>>(deserializer: D) -> Result<Self, DeserializeError> {
        deserializer.deserialize_any(MaybeStrVisitor)
    }
}

/// Deserializes a stored chunk into a [`ChunkText`].
struct ChunkTextDoc(ChunkText);

/// Field ids of [`schema`]: fixed by its code, and `open` refuses an index with another schema.
static FIELDS: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(|| schema().1);

impl DocumentDeserialize for ChunkTextDoc {
    fn deserialize<'de, D: DocumentDeserializer<'de>>(mut de: D) -> Result<Self, DeserializeError> {
        let f = &*FIELDS;
        let mut out = ChunkText::default();
        while let Some((field, MaybeStr(v))) = de.next_field::<MaybeStr>()? {
            let Some(v) = v else { continue };
            if field == f.text {
                out.text = v;
            } else if field == f.source_path {
                out.source_path = v;
            } else if field == f.chunk_id {
                out.chunk_id = v;
            }
        }
        Ok(ChunkTextDoc(out))
    }
}

/// Read access for `search` and tests.
pub struct IndexReaderHandle {
    index: Index,
    reader: IndexReader,
    f: Fields,
}

impl IndexReaderHandle {
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.join("meta.json").exists() {
            anyhow::bail!("no index at {} (run `ragsan scan` first)", dir.display());
        }
        let (index, f) = open(dir)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(IndexReaderHandle { index, reader, f })
    }

    pub fn num_chunks(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Top `limit` chunks for a query in tantivy's query syntax.
    pub fn search(&self, query: &str, limit: usize) -> Result<(usize, Vec<StoredChunk>)> {
        let searcher = self.reader.searcher();
        let qp = QueryParser::for_index(&self.index, vec![self.f.text]);
        let (q, _errors) = qp.parse_query_lenient(query);
        let (count, top) = searcher.search(&q, &(Count, TopDocs::with_limit(limit.max(1))))?;
        let mut out = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            out.push(stored(&doc, &self.f, Some(score)));
        }
        Ok((count, out))
    }

    /// Every stored chunk (tests, rescans). Reads segment by segment.
    pub fn all(&self) -> Result<Vec<StoredChunk>> {
        let searcher = self.reader.searcher();
        let mut out = Vec::new();
        for seg in searcher.segment_readers() {
            let store = seg.get_store_reader(64)?;
            let alive = seg.alive_bitset();
            for id in 0..seg.max_doc() {
                if alive.is_some_and(|a| !a.is_alive(id)) {
                    continue;
                }
                let doc: TantivyDocument = store.get(id)?;
                out.push(stored(&doc, &self.f, None));
            }
        }
        Ok(out)
    }

    /// Id, source path and text of every live chunk (tests; a re-scan uses
    /// [`IndexReaderHandle::scan_chunks`], which does not hold the texts).
    #[cfg(test)]
    fn chunk_texts(&self) -> Result<Vec<ChunkText>> {
        Ok(self.scan_chunks(|c| Some(c.clone()))?.0)
    }

    /// Calls `f` on every live chunk and keeps what it returns (in index order), with the set of
    /// source paths that have chunks (see [`IndexReaderHandle::scan_chunks_where`]).
    pub fn scan_chunks<T: Send>(
        &self,
        f: impl Fn(&ChunkText) -> Option<T> + Sync,
    ) -> Result<(Vec<T>, std::collections::BTreeSet<String>)> {
        Ok((self.scan_chunks_where(|_| true, f)?, self.source_paths()?))
    }

    /// Calls `f` on every live chunk whose stored bytes pass `pre`, and keeps what it returns (in
    /// index order). `pre` sees the document's stored form, which holds its text verbatim among
    /// the other fields: a re-scan's new rules are mostly keyword-gated, so a keyword search of
    /// the bytes rules out most chunks before any is decoded (decoding is most of the cost).
    ///
    /// A re-scan runs new rules over every stored chunk: holding the whole index's text for
    /// that would make its memory grow with the knowledge base, so each task holds one chunk at
    /// a time. Segments are cut into ranges of [`SCAN_RANGE`] documents, each read through its
    /// own one-block cache, so a large segment does not leave a core idle while it is read alone.
    pub fn scan_chunks_where<T: Send>(
        &self,
        pre: impl Fn(&[u8]) -> bool + Sync,
        f: impl Fn(&ChunkText) -> Option<T> + Sync,
    ) -> Result<Vec<T>> {
        use rayon::prelude::*;
        let searcher = self.reader.searcher();
        let tasks: Vec<(&tantivy::SegmentReader, std::ops::Range<u32>)> = searcher
            .segment_readers()
            .iter()
            .flat_map(|seg| {
                (0..seg.max_doc())
                    .step_by(SCAN_RANGE as usize)
                    .map(move |lo| (seg, lo..lo.saturating_add(SCAN_RANGE).min(seg.max_doc())))
            })
            .collect();
        let parts: Vec<Result<Vec<T>>> = tasks
            .par_iter()
            .map(|(seg, range)| {
                let store = seg.get_store_reader(1)?;
                let alive = seg.alive_bitset();
                let mut kept = Vec::new();
                for id in range.clone() {
                    if alive.is_some_and(|a| !a.is_alive(id)) || !pre(store.get_document_bytes(id)?.as_slice()) {
                        continue;
                    }
                    // The block is in the reader's cache: this decodes, it does not re-read.
                    let ChunkTextDoc(c) = store.get(id)?;
                    kept.extend(f(&c));
                }
                Ok(kept)
            })
            .collect();
        let mut all = Vec::new();
        for part in parts {
            all.extend(part?);
        }
        Ok(all)
    }

    /// Source paths with at least one live chunk, from the `source_path` term dictionary: no
    /// stored document is read, so a re-scan with no rule to run over stored text does not pay
    /// for reading the whole index to find chunks the ledger does not know.
    pub fn source_paths(&self) -> Result<std::collections::BTreeSet<String>> {
        use tantivy::{DocSet, TERMINATED};
        let searcher = self.reader.searcher();
        let mut paths = std::collections::BTreeSet::new();
        for seg in searcher.segment_readers() {
            let inverted = seg.inverted_index(self.f.source_path)?;
            let alive = seg.alive_bitset();
            let mut terms = inverted.terms().stream()?;
            while terms.advance() {
                // Deleted chunks keep their terms until a merge: a path counts only with a
                // live chunk.
                let live = match alive {
                    None => true,
                    Some(a) => {
                        let mut postings = inverted
                            .read_postings_from_terminfo(terms.value(), tantivy::schema::IndexRecordOption::Basic)?;
                        let mut doc = postings.doc();
                        while doc != TERMINATED && !a.is_alive(doc) {
                            doc = postings.advance();
                        }
                        doc != TERMINATED
                    }
                };
                if live {
                    paths.insert(String::from_utf8_lossy(terms.key()).into_owned());
                }
            }
        }
        Ok(paths)
    }

    /// Payload of the last commit (the ruleset manifest).
    pub fn commit_payload(&self) -> Result<Option<String>> {
        Ok(self.index.load_metas()?.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(ordinal: u32, text: &str) -> Chunk {
        Chunk {
            ordinal,
            text: text.to_string(),
            start: 0,
            end: text.len(),
            page: Some(ordinal + 1),
            section: None,
            sha256: crate::chunk::sha256_hex(text.as_bytes()),
            redactions: 0,
        }
    }

    fn prov() -> Provenance {
        Provenance {
            source_sha256: "s".into(),
            text_sha256: "t".into(),
            extractor: "e".into(),
            ruleset_digest: "r".into(),
            tool_version: "v".into(),
        }
    }

    /// A sink over `dir` with `a.txt` (two chunks) and `b.txt` (one) committed.
    fn sink_with_a_and_b(dir: &Path, prov: &Provenance) -> IndexSink {
        let mut sink = IndexSink::open(dir).unwrap();
        let a = [chunk(0, "alpha one"), chunk(1, "alpha two")];
        sink.replace_source("a.txt", Some(DocKind::Text), VerdictKind::Clean, &a, prov, 0).unwrap();
        sink.replace_source("b.txt", Some(DocKind::Text), VerdictKind::Clean, &[chunk(0, "beta")], prov, 0).unwrap();
        sink.commit("{}").unwrap();
        sink
    }

    #[test]
    fn chunk_texts_reads_the_live_chunks_like_all() {
        let dir = tempfile::tempdir().unwrap();
        let prov = prov();
        let mut sink = sink_with_a_and_b(dir.path(), &prov);
        // Replace b in a second commit: its old chunk is deleted, not returned.
        sink.replace_source("b.txt", Some(DocKind::Text), VerdictKind::Redacted, &[chunk(0, "beta 2")], &prov, 0)
            .unwrap();
        sink.commit("{}").unwrap();
        sink.finish().unwrap();

        let r = IndexReaderHandle::open(dir.path()).unwrap();
        let mut lean = r.chunk_texts().unwrap();
        let mut full: Vec<ChunkText> = r
            .all()
            .unwrap()
            .into_iter()
            .map(|c| ChunkText { chunk_id: c.chunk_id, source_path: c.source_path, text: c.text })
            .collect();
        lean.sort_by(|x, y| x.chunk_id.cmp(&y.chunk_id));
        full.sort_by(|x, y| x.chunk_id.cmp(&y.chunk_id));
        assert_eq!(lean.len(), 3);
        assert_eq!(lean, full);
        assert!(lean.iter().any(|c| c.source_path == "b.txt" && c.text == "beta 2"));
        assert!(!lean.iter().any(|c| c.text == "beta"));
    }

    /// More chunks than one read range, over several sources and two segments: every live
    /// chunk reaches `f` once, what it keeps comes back, and the path set names every source
    /// with chunks (and no source whose chunks were all deleted).
    #[test]
    fn scan_chunks_visits_every_live_chunk_across_batches_and_segments() {
        let dir = tempfile::tempdir().unwrap();
        let prov = prov();
        let mut sink = IndexSink::open(dir.path()).unwrap();
        let n = SCAN_RANGE as usize * 2 + 7;
        let texts: Vec<String> = (0..n).map(|i| format!("chunk {i}")).collect();
        let chunks: Vec<Chunk> = texts.iter().enumerate().map(|(i, t)| chunk(i as u32, t)).collect();
        let (first, rest) = chunks.split_at(SCAN_RANGE as usize + 3);
        sink.replace_source("a.txt", Some(DocKind::Text), VerdictKind::Clean, first, &prov, 0).unwrap();
        sink.replace_source("gone.txt", Some(DocKind::Text), VerdictKind::Clean, &chunks[..2], &prov, 0).unwrap();
        sink.commit("{}").unwrap();
        sink.replace_source("b.txt", Some(DocKind::Text), VerdictKind::Clean, rest, &prov, 0).unwrap();
        sink.replace_source("gone.txt", None, VerdictKind::Clean, &[], &prov, 0).unwrap();
        sink.commit("{}").unwrap();
        sink.finish().unwrap();

        let r = IndexReaderHandle::open(dir.path()).unwrap();
        let seen = std::sync::atomic::AtomicUsize::new(0);
        let (mut kept, paths) = r
            .scan_chunks(|c| {
                seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                c.text.ends_with('7').then(|| (c.source_path.clone(), c.text.clone()))
            })
            .unwrap();
        assert_eq!(seen.into_inner(), n);
        kept.sort();
        let mut want: Vec<(String, String)> = texts
            .iter()
            .enumerate()
            .filter(|(_, t)| t.ends_with('7'))
            .map(|(i, t)| (if i < SCAN_RANGE as usize + 3 { "a.txt" } else { "b.txt" }.to_string(), t.clone()))
            .collect();
        want.sort();
        assert_eq!(kept, want);
        assert_eq!(paths.iter().collect::<Vec<_>>(), ["a.txt", "b.txt"]);
        // The term dictionary still holds gone.txt (deleted, not merged away); it has no live chunk.
        assert_eq!(r.source_paths().unwrap(), paths);
        // The byte filter sees each live document's stored form, holding its text; only those
        // it passes are decoded and reach `f`.
        let passed = std::sync::atomic::AtomicUsize::new(0);
        let mut ones = r
            .scan_chunks_where(
                |b| b.windows(7).any(|w| w == b"chunk 1"),
                |c| {
                    passed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    c.text.ends_with('7').then(|| (c.source_path.clone(), c.text.clone()))
                },
            )
            .unwrap();
        ones.sort();
        want.retain(|(_, t)| t.starts_with("chunk 1"));
        assert_eq!(ones, want);
        assert_eq!(passed.into_inner(), texts.iter().filter(|t| t.starts_with("chunk 1")).count());
    }

    /// A writer killed after writing a delete bitset but before its commit: the next writer
    /// reaches the same opstamp and must not trip over the leftover file.
    #[test]
    fn a_commit_after_a_killed_commit_does_not_collide_with_its_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let prov = prov();
        let sink = sink_with_a_and_b(dir.path(), &prov);
        sink.finish().unwrap();
        let meta = std::fs::read(dir.path().join("meta.json")).unwrap();
        let del_files = |d: &Path| -> Vec<std::path::PathBuf> {
            std::fs::read_dir(d)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "del"))
                .collect()
        };
        assert!(del_files(dir.path()).is_empty());

        // The deletion is written, then the commit is undone as a kill before meta.json would.
        let mut sink = IndexSink::open(dir.path()).unwrap();
        sink.replace_source("b.txt", Some(DocKind::Text), VerdictKind::Clean, &[], &prov, 0).unwrap();
        sink.commit("{}").unwrap();
        sink.finish().unwrap();
        assert_eq!(del_files(dir.path()).len(), 1, "the delete left a bitset file");
        std::fs::write(dir.path().join("meta.json"), &meta).unwrap();

        let mut sink = IndexSink::open(dir.path()).unwrap();
        sink.replace_source("b.txt", Some(DocKind::Text), VerdictKind::Clean, &[], &prov, 0).unwrap();
        sink.commit("{}").unwrap();
        sink.finish().unwrap();
        let r = IndexReaderHandle::open(dir.path()).unwrap();
        let mut left: Vec<String> = r.chunk_texts().unwrap().into_iter().map(|c| c.source_path).collect();
        left.sort();
        assert_eq!(left, ["a.txt", "a.txt"]);
    }
}
