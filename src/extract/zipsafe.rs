//! A ZIP reader for hostile input, written on the raw bytes.
//!
//! Office packages are ZIP archives, and ZIP is a rich source of parser differentials and
//! resource attacks. This reader trusts nothing it is told: the central directory is read once
//! and every entry is cross-checked against its local header; overlapping entries, duplicate or
//! case-variant names, path-traversal names, encrypted entries and archives with too many entries
//! are rejected before anything is inflated. Inflation is incremental and stops at hard caps on
//! the bytes actually produced (never the declared sizes): per entry (`max_stream_bytes`), per
//! document (`Budget::charge_decompressed`) and by compression ratio once an entry passes 1 MiB.
//! Only entries a caller asks for are ever inflated. ZIP64 records are understood (some Office
//! writers always emit them), but their 64-bit values go through the same checks.

use crate::error::{ExtractError, Limit};
use crate::limits::Budget;
use flate2::{Decompress, FlushDecompress, Status};
use std::cell::RefCell;
use std::collections::HashMap;

const FORMAT: &str = "zip";
const EOCD_SIG: [u8; 4] = *b"PK\x05\x06";
const CDH_SIG: [u8; 4] = *b"PK\x01\x02";
const LFH_SIG: [u8; 4] = *b"PK\x03\x04";
const ZIP64_LOCATOR_SIG: [u8; 4] = *b"PK\x06\x07";
const ZIP64_EOCD_SIG: [u8; 4] = *b"PK\x06\x06";
const EOCD_LEN: usize = 22;
const CDH_LEN: usize = 46;
const LFH_LEN: usize = 30;
/// Ratio checks start once an entry has produced this much, so small well-compressed parts pass.
const RATIO_GRACE: u64 = 1 << 20;
const CHUNK: usize = 64 * 1024;

/// How an entry's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
    Other(u16),
}

/// One archive member, validated against its local header.
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub method: Method,
    pub crc32: u32,
    pub compressed_size: u64,
    /// What the archive claims; informational only, never used to size buffers.
    pub declared_size: u64,
    data_start: usize,
    data_end: usize,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.name.ends_with('/')
    }
}

/// A parsed, validated archive borrowing the input bytes.
#[derive(Debug)]
pub struct Archive<'a> {
    data: &'a [u8],
    entries: Vec<Entry>,
    /// Lower-cased name → index; OPC part names compare case-insensitively.
    by_name: HashMap<String, usize>,
    /// Inflater state and output window reused across entries: a DOCX reads dozens of small
    /// parts, and allocating and zeroing ~100 KiB of state per part cost more than inflating.
    scratch: RefCell<Option<(Decompress, Vec<u8>)>>,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

/// Replaces 0xFFFFFFFF sentinels with the values of the ZIP64 extended-information extra field
/// (id 1), which lists only the sentinel fields, in this order.
fn apply_zip64_extra(
    mut extra: &[u8],
    usize_: &mut u64,
    csize: &mut u64,
    lh_off: &mut u64,
) -> Result<(), ExtractError> {
    while extra.len() >= 4 {
        let id = u16_at(extra, 0).unwrap_or(0);
        let len = usize::from(u16_at(extra, 2).unwrap_or(0));
        let body = extra.get(4..4 + len).ok_or_else(|| truncated("zip64 extra field"))?;
        if id == 1 {
            let mut at = 0;
            for v in [usize_, csize, lh_off] {
                if *v == 0xFFFF_FFFF {
                    *v = u64_at(body, at).ok_or_else(|| truncated("zip64 extra field"))?;
                    at += 8;
                }
            }
            return Ok(());
        }
        extra = extra.get(4 + len..).unwrap_or(&[]);
    }
    Err(ExtractError::malformed(FORMAT, "ZIP64 sizes without a ZIP64 extra field"))
}

fn truncated(what: &str) -> ExtractError {
    ExtractError::malformed(FORMAT, format!("truncated archive ({what})"))
}

/// Rejects names that could escape an extraction directory or mean different things to
/// different readers.
fn check_name(name: &str) -> Result<(), ExtractError> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.contains('\\')
        || name.contains('\0')
        || name.as_bytes().get(1) == Some(&b':')
        || name.contains(':')
        || name.split('/').any(|seg| seg == ".." || seg == ".");
    if bad {
        return Err(ExtractError::Hostile(
            "unsafe entry name (path traversal, absolute path, backslash or drive letter)".into(),
        ));
    }
    Ok(())
}

/// Finds the end-of-central-directory record: the last signature whose comment fits the file.
fn find_eocd(data: &[u8]) -> Result<usize, ExtractError> {
    if data.len() < EOCD_LEN {
        return Err(truncated("no end of central directory"));
    }
    let lowest = data.len().saturating_sub(EOCD_LEN + 0xFFFF);
    let mut pos = data.len() - EOCD_LEN;
    loop {
        if data.get(pos..pos + 4) == Some(&EOCD_SIG[..]) {
            let comment = u16_at(data, pos + 20).unwrap_or(0) as usize;
            if pos + EOCD_LEN + comment <= data.len() {
                return Ok(pos);
            }
        }
        if pos == lowest {
            return Err(truncated("no end of central directory"));
        }
        pos -= 1;
    }
}

impl<'a> Archive<'a> {
    /// Reads and validates the whole directory. Nothing is inflated here.
    pub fn parse(data: &'a [u8], budget: &Budget) -> Result<Self, ExtractError> {
        let limits = budget.limits;
        let eocd = find_eocd(data)?;
        let field16 = |off: usize| u16_at(data, eocd + off).ok_or_else(|| truncated("eocd"));
        let disk = field16(4)?;
        let cd_disk = field16(6)?;
        let n_disk = field16(8)?;
        let mut n_total = u64::from(field16(10)?);
        let mut cd_size = u64::from(u32_at(data, eocd + 12).ok_or_else(|| truncated("eocd"))?);
        let mut cd_off = u64::from(u32_at(data, eocd + 16).ok_or_else(|| truncated("eocd"))?);
        let real_disk = |d: u16| d != 0 && d != 0xFFFF;
        if real_disk(disk) || real_disk(cd_disk) || n_disk != field16(10)? {
            return Err(ExtractError::Unsupported("multi-volume archive".into()));
        }
        // ZIP64: some writers (e.g. System.IO.Packaging) emit it even for small packages.
        if eocd >= 20 && data.get(eocd - 20..eocd - 16) == Some(&ZIP64_LOCATOR_SIG[..]) {
            let rec = u64_at(data, eocd - 12).ok_or_else(|| truncated("zip64 locator"))?;
            let rec = usize::try_from(rec).map_err(|_| truncated("zip64 locator"))?;
            if rec >= eocd - 20 || data.get(rec..rec + 4) != Some(&ZIP64_EOCD_SIG[..]) {
                return Err(ExtractError::malformed(FORMAT, "bad ZIP64 end record"));
            }
            let f64_ = |o: usize| u64_at(data, rec + o).ok_or_else(|| truncated("zip64 end"));
            if n_total == 0xFFFF {
                n_total = f64_(32)?;
            }
            if cd_size == 0xFFFF_FFFF {
                cd_size = f64_(40)?;
            }
            if cd_off == 0xFFFF_FFFF {
                cd_off = f64_(48)?;
            }
        } else if n_total == 0xFFFF && cd_off == 0xFFFF_FFFF {
            return Err(ExtractError::malformed(FORMAT, "ZIP64 values without a ZIP64 record"));
        }
        if n_total > limits.max_archive_entries {
            return Err(ExtractError::limit(
                Limit::ArchiveEntries,
                format!("archive declares {n_total} entries (limit {})", limits.max_archive_entries),
            ));
        }
        let n_total = n_total as usize;
        let cd_start = usize::try_from(cd_off).map_err(|_| truncated("central directory"))?;
        let cd_end = usize::try_from(cd_size)
            .ok()
            .and_then(|sz| cd_start.checked_add(sz))
            .ok_or_else(|| truncated("central directory"))?;
        if cd_end > eocd {
            return Err(truncated("central directory past its end record"));
        }

        let mut entries: Vec<Entry> = Vec::with_capacity(n_total);
        let mut by_name = HashMap::with_capacity(n_total);
        // (start, end) of every local header + data, for the overlap check.
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(n_total);
        let mut name_mismatch: Option<ExtractError> = None;
        let mut local_offsets = std::collections::HashSet::with_capacity(n_total);
        let mut pos = cd_start;
        while pos < cd_end {
            if entries.len() as u64 >= limits.max_archive_entries {
                return Err(ExtractError::limit(
                    Limit::ArchiveEntries,
                    format!("more than {} entries", limits.max_archive_entries),
                ));
            }
            if data.get(pos..pos + 4) != Some(&CDH_SIG[..]) {
                return Err(ExtractError::malformed(FORMAT, "bad central directory header signature"));
            }
            let f16 = |o: usize| u16_at(data, pos + o).ok_or_else(|| truncated("central header"));
            let f32 = |o: usize| u32_at(data, pos + o).ok_or_else(|| truncated("central header"));
            let flags = f16(8)?;
            let method = f16(10)?;
            let crc32 = f32(16)?;
            let mut csize = u64::from(f32(20)?);
            let mut usize_ = u64::from(f32(24)?);
            let name_len = usize::from(f16(28)?);
            let extra_len = usize::from(f16(30)?);
            let comment_len = usize::from(f16(32)?);
            let mut lh_off = u64::from(f32(42)?);
            let name_start = pos + CDH_LEN;
            let raw_name = data.get(name_start..name_start + name_len).ok_or_else(|| truncated("entry name"))?;
            let name = String::from_utf8_lossy(raw_name).into_owned();
            let extra = data
                .get(name_start + name_len..name_start + name_len + extra_len)
                .ok_or_else(|| truncated("entry extra field"))?;
            if csize == 0xFFFF_FFFF || usize_ == 0xFFFF_FFFF || lh_off == 0xFFFF_FFFF {
                apply_zip64_extra(extra, &mut usize_, &mut csize, &mut lh_off)?;
            }
            pos = name_start + name_len + extra_len + comment_len;
            if pos > cd_end {
                return Err(truncated("central directory"));
            }
            check_name(&name)?;
            if flags & 1 != 0 {
                return Err(ExtractError::Encrypted("encrypted archive entry".into()));
            }
            let key = name.to_lowercase();
            if by_name.contains_key(&key) {
                return Err(ExtractError::Hostile("duplicate or case-variant part names".into()));
            }

            // Cross-check the local header. Two directory entries sharing one local header is
            // the classic overlapping-entry bomb; say so rather than report a name mismatch.
            let lh = usize::try_from(lh_off).map_err(|_| truncated("local header"))?;
            if !local_offsets.insert(lh) {
                return Err(ExtractError::Hostile("overlapping archive entries".into()));
            }
            if data.get(lh..lh + 4) != Some(&LFH_SIG[..]) {
                return Err(ExtractError::malformed(FORMAT, "central directory points at no local header"));
            }
            let l16 = |o: usize| u16_at(data, lh + o).ok_or_else(|| truncated("local header"));
            let lflags = l16(6)?;
            if lflags & 1 != 0 {
                return Err(ExtractError::Encrypted("encrypted archive entry".into()));
            }
            let lname_len = usize::from(l16(26)?);
            let lextra_len = usize::from(l16(28)?);
            let lname_start = lh + LFH_LEN;
            let lname = data.get(lname_start..lname_start + lname_len).ok_or_else(|| truncated("local name"))?;
            if lname != raw_name && name_mismatch.is_none() {
                // Reported after the overlap check, which explains most mismatches.
                name_mismatch = Some(ExtractError::Hostile("local header name differs from central directory".into()));
            }
            if lflags & 8 == 0 {
                let lc = u32_at(data, lh + 18).ok_or_else(|| truncated("local header"))?;
                if u64::from(lc) != csize && lc != 0 && lc != 0xFFFF_FFFF {
                    return Err(ExtractError::Hostile("local header size differs from central directory".into()));
                }
            }
            let data_start = lname_start + lname_len + lextra_len;
            let data_end = usize::try_from(csize)
                .ok()
                .and_then(|c| data_start.checked_add(c))
                .ok_or_else(|| truncated("entry data"))?;
            if data_end > cd_start {
                return Err(truncated("entry data runs into the central directory"));
            }
            ranges.push((lh, data_end));
            by_name.insert(key, entries.len());
            entries.push(Entry {
                name,
                method: match method {
                    0 => Method::Stored,
                    8 => Method::Deflated,
                    m => Method::Other(m),
                },
                crc32,
                compressed_size: csize,
                declared_size: usize_,
                data_start,
                data_end,
            });
        }
        if entries.len() != n_total {
            return Err(ExtractError::malformed(FORMAT, "entry count differs from the end record"));
        }
        ranges.sort_unstable();
        if ranges.windows(2).any(|w| w[1].0 < w[0].1) {
            return Err(ExtractError::Hostile("overlapping archive entries".into()));
        }
        if let Some(e) = name_mismatch {
            return Err(e);
        }
        budget.check_time()?;
        Ok(Archive { data, entries, by_name, scratch: RefCell::new(None) })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Looks a part up case-insensitively (a leading `/` is ignored).
    pub fn find(&self, name: &str) -> Option<&Entry> {
        let key = name.trim_start_matches('/').to_lowercase();
        self.by_name.get(&key).and_then(|&i| self.entries.get(i))
    }

    /// Inflates `entry` under the per-entry, per-document and ratio caps, and checks its CRC.
    pub fn read(&self, entry: &Entry, budget: &Budget) -> Result<Vec<u8>, ExtractError> {
        self.inflate(entry, budget, None)
    }

    /// Up to the first `n` bytes of an entry (at least one output chunk is inflated), to sniff
    /// an entry's type without paying for all of it. No CRC check: the entry is not complete.
    pub fn read_prefix(&self, entry: &Entry, budget: &Budget, n: usize) -> Result<Vec<u8>, ExtractError> {
        let mut v = self.inflate(entry, budget, Some(n))?;
        v.truncate(n);
        Ok(v)
    }

    fn inflate(&self, entry: &Entry, budget: &Budget, stop_after: Option<usize>) -> Result<Vec<u8>, ExtractError> {
        let limits = budget.limits;
        let raw = self.data.get(entry.data_start..entry.data_end).ok_or_else(|| truncated("entry data"))?;
        let cap = limits.max_stream_bytes;
        let over_cap =
            || ExtractError::limit(Limit::DecompressedBytes, format!("archive entry larger than {cap} bytes"));
        let mut out: Vec<u8> = Vec::new();
        match entry.method {
            Method::Stored => {
                if let Some(n) = stop_after {
                    return Ok(raw.get(..n.min(raw.len())).unwrap_or(&[]).to_vec());
                }
                if raw.len() as u64 > cap {
                    return Err(over_cap());
                }
                budget.charge_decompressed(raw.len() as u64)?;
                out.extend_from_slice(raw);
            }
            Method::Deflated => {
                // Taken out of the cell for the duration, so a nested call can never alias it;
                // it is put back only after a clean run (an error drops it).
                let (mut z, mut buf) = match self.scratch.borrow_mut().take() {
                    Some((mut z, buf)) => {
                        z.reset(false);
                        (z, buf)
                    }
                    None => (Decompress::new(false), vec![0u8; CHUNK]),
                };
                loop {
                    budget.check_time()?;
                    let before_in = z.total_in();
                    let before_out = z.total_out();
                    let consumed = usize::try_from(before_in).unwrap_or(usize::MAX);
                    let input = raw.get(consumed..).unwrap_or(&[]);
                    let status = z
                        .decompress(input, &mut buf, FlushDecompress::None)
                        .map_err(|_| ExtractError::malformed(FORMAT, "corrupt deflate data"))?;
                    let produced = (z.total_out() - before_out) as usize;
                    if produced > 0 {
                        let total = z.total_out();
                        if total > cap {
                            return Err(over_cap());
                        }
                        if total > RATIO_GRACE && total / z.total_in().max(1) > limits.max_compression_ratio {
                            return Err(ExtractError::limit(
                                Limit::CompressionRatio,
                                format!("archive entry inflates more than {}:1", limits.max_compression_ratio),
                            ));
                        }
                        budget.charge_decompressed(produced as u64)?;
                        out.extend_from_slice(buf.get(..produced).unwrap_or(&[]));
                    }
                    if stop_after.is_some_and(|n| out.len() >= n) {
                        *self.scratch.borrow_mut() = Some((z, buf));
                        return Ok(out);
                    }
                    match status {
                        Status::StreamEnd => break,
                        _ if produced == 0 && z.total_in() == before_in => {
                            return Err(truncated("deflate stream ends early"));
                        }
                        _ => {}
                    }
                }
                *self.scratch.borrow_mut() = Some((z, buf));
            }
            Method::Other(m) => return Err(ExtractError::Unsupported(format!("archive compression method {m}"))),
        }
        let mut crc = flate2::Crc::new();
        crc.update(&out);
        if crc.sum() != entry.crc32 {
            return Err(ExtractError::malformed(FORMAT, "entry CRC mismatch"));
        }
        Ok(out)
    }

    /// Finds and inflates a part by name; `Ok(None)` when absent.
    pub fn read_part(&self, name: &str, budget: &Budget) -> Result<Option<Vec<u8>>, ExtractError> {
        match self.find(name) {
            Some(e) => self.read(e, budget).map(Some),
            None => Ok(None),
        }
    }
}

/// Builds archives in tests (stored or deflated entries, optional tampering).
#[cfg(test)]
pub(crate) mod testzip {
    use flate2::write::DeflateEncoder;
    use flate2::Compression;
    use std::io::Write;

    pub struct Member {
        pub name: String,
        pub data: Vec<u8>,
        pub deflate: bool,
        pub flags: u16,
    }

    pub fn member(name: &str, data: &[u8]) -> Member {
        Member { name: name.into(), data: data.to_vec(), deflate: true, flags: 0 }
    }

    /// Writes a well-formed archive.
    pub fn build(members: &[Member]) -> Vec<u8> {
        build_opts(members, false)
    }

    /// Writes an archive; with `zip64`, every size/offset goes through ZIP64 records.
    pub fn build_opts(members: &[Member], zip64: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cd = Vec::new();
        for m in members {
            let body = if m.deflate {
                let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
                e.write_all(&m.data).unwrap();
                e.finish().unwrap()
            } else {
                m.data.clone()
            };
            let mut crc = flate2::Crc::new();
            crc.update(&m.data);
            let method: u16 = if m.deflate { 8 } else { 0 };
            let off = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&20u16.to_le_bytes());
            out.extend_from_slice(&m.flags.to_le_bytes());
            out.extend_from_slice(&method.to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&crc.sum().to_le_bytes());
            out.extend_from_slice(&(body.len() as u32).to_le_bytes());
            out.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            out.extend_from_slice(m.name.as_bytes());
            out.extend_from_slice(&body);

            cd.extend_from_slice(b"PK\x01\x02");
            cd.extend_from_slice(&20u16.to_le_bytes());
            cd.extend_from_slice(&20u16.to_le_bytes());
            cd.extend_from_slice(&m.flags.to_le_bytes());
            cd.extend_from_slice(&method.to_le_bytes());
            cd.extend_from_slice(&[0; 4]);
            cd.extend_from_slice(&crc.sum().to_le_bytes());
            if zip64 {
                cd.extend_from_slice(&u32::MAX.to_le_bytes());
                cd.extend_from_slice(&u32::MAX.to_le_bytes());
                cd.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
                cd.extend_from_slice(&28u16.to_le_bytes());
                cd.extend_from_slice(&[0; 10]);
                cd.extend_from_slice(&u32::MAX.to_le_bytes());
                cd.extend_from_slice(m.name.as_bytes());
                cd.extend_from_slice(&1u16.to_le_bytes());
                cd.extend_from_slice(&24u16.to_le_bytes());
                cd.extend_from_slice(&(m.data.len() as u64).to_le_bytes());
                cd.extend_from_slice(&(body.len() as u64).to_le_bytes());
                cd.extend_from_slice(&u64::from(off).to_le_bytes());
            } else {
                cd.extend_from_slice(&(body.len() as u32).to_le_bytes());
                cd.extend_from_slice(&(m.data.len() as u32).to_le_bytes());
                cd.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
                cd.extend_from_slice(&[0; 12]);
                cd.extend_from_slice(&off.to_le_bytes());
                cd.extend_from_slice(m.name.as_bytes());
            }
        }
        let cd_off = out.len() as u32;
        out.extend_from_slice(&cd);
        if zip64 {
            let rec = out.len() as u64;
            out.extend_from_slice(b"PK\x06\x06");
            out.extend_from_slice(&44u64.to_le_bytes());
            out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&(members.len() as u64).to_le_bytes());
            out.extend_from_slice(&(members.len() as u64).to_le_bytes());
            out.extend_from_slice(&(cd.len() as u64).to_le_bytes());
            out.extend_from_slice(&u64::from(cd_off).to_le_bytes());
            out.extend_from_slice(b"PK\x06\x07\0\0\0\0");
            out.extend_from_slice(&rec.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(b"PK\x05\x06\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF");
            out.extend_from_slice(&u32::MAX.to_le_bytes());
            out.extend_from_slice(&u32::MAX.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
            return out;
        }
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(members.len() as u16).to_le_bytes());
        out.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_off.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::testzip::*;
    use super::*;
    use crate::limits::Limits;

    fn parse_err(bytes: &[u8], limits: &Limits) -> ExtractError {
        let b = Budget::new(limits);
        Archive::parse(bytes, &b).unwrap_err()
    }

    #[test]
    fn reused_inflater_reads_every_entry_in_any_order() {
        // Entries larger than one output window, read partly, fully, and again: the reused
        // state must be reset each time (a stale window would fail the CRC check).
        let big: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let other: Vec<u8> = (0..90_000u32).map(|i| (i * 7 % 13) as u8).collect();
        let z = build(&[member("a.bin", &big), member("b.bin", &other)]);
        let l = Limits::default();
        let b = Budget::new(&l);
        let a = Archive::parse(&z, &b).unwrap();
        let (ea, eb) = (a.find("a.bin").unwrap(), a.find("b.bin").unwrap());
        assert_eq!(a.read_prefix(ea, &b, 4).unwrap(), big[..4]);
        assert_eq!(a.read(eb, &b).unwrap(), other);
        assert_eq!(a.read(ea, &b).unwrap(), big);
        assert_eq!(a.read_prefix(eb, &b, 10).unwrap(), other[..10]);
        assert_eq!(a.read(ea, &b).unwrap(), big);
    }

    #[test]
    fn reads_stored_and_deflated() {
        let mut s = member("a.txt", b"stored body");
        s.deflate = false;
        let z = build(&[s, member("Dir/B.xml", b"<x>deflated</x>")]);
        let l = Limits::default();
        let b = Budget::new(&l);
        let a = Archive::parse(&z, &b).unwrap();
        assert_eq!(a.entries().len(), 2);
        assert_eq!(a.read_part("a.txt", &b).unwrap().unwrap(), b"stored body");
        assert_eq!(a.read_part("/dir/b.XML", &b).unwrap().unwrap(), b"<x>deflated</x>");
        assert!(a.read_part("missing", &b).unwrap().is_none());
        let dir_b = a.find("dir/b.xml").unwrap();
        assert_eq!(a.read_prefix(dir_b, &b, 3).unwrap(), b"<x>");
        assert_eq!(a.read_prefix(&a.entries()[0], &b, 6).unwrap(), b"stored");
    }

    #[test]
    fn reads_zip64_records() {
        let z = build_opts(&[member("a.xml", b"<a/>"), member("b.xml", b"bee")], true);
        let l = Limits::default();
        let b = Budget::new(&l);
        let a = Archive::parse(&z, &b).unwrap();
        assert_eq!(a.entries().len(), 2);
        assert_eq!(a.read_part("b.xml", &b).unwrap().unwrap(), b"bee");
        // A ZIP64 end record claiming a huge directory is a clean error, not an allocation.
        let mut bad = z.clone();
        let rec = bad.len() - 22 - 20 - 56;
        bad[rec + 32..rec + 40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(Archive::parse(&bad, &b), Err(ExtractError::Limit { limit: Limit::ArchiveEntries, .. })));
        bad = z.clone();
        bad[rec + 48..rec + 56].copy_from_slice(&(u64::MAX - 3).to_le_bytes());
        assert!(matches!(Archive::parse(&bad, &b), Err(ExtractError::Malformed { .. })));
    }

    #[test]
    fn rejects_case_variant_duplicates() {
        let z = build(&[member("word/document.xml", b"a"), member("Word/Document.xml", b"b")]);
        assert!(matches!(parse_err(&z, &Limits::default()), ExtractError::Hostile(_)));
    }

    #[test]
    fn rejects_traversal_names() {
        for n in ["../evil", "/abs", "a\\b", "C:/x", "a/../../b"] {
            let z = build(&[member(n, b"x")]);
            assert!(matches!(parse_err(&z, &Limits::default()), ExtractError::Hostile(_)), "{n}");
        }
    }

    #[test]
    fn rejects_encrypted_entries() {
        let mut m = member("a", b"x");
        m.flags = 1;
        let z = build(&[m]);
        assert!(matches!(parse_err(&z, &Limits::default()), ExtractError::Encrypted(_)));
    }

    #[test]
    fn rejects_too_many_entries() {
        let ms: Vec<_> = (0..20).map(|i| member(&format!("f{i}"), b"x")).collect();
        let z = build(&ms);
        let l = Limits { max_archive_entries: 10, ..Limits::default() };
        assert!(matches!(parse_err(&z, &l), ExtractError::Limit { limit: Limit::ArchiveEntries, .. }));
    }

    #[test]
    fn rejects_truncation() {
        let z = build(&[member("word/document.xml", &[b'a'; 5000])]);
        for cut in [10, z.len() / 2, z.len() - 5] {
            let e = parse_err(&z[..cut], &Limits::default());
            assert!(matches!(e, ExtractError::Malformed { .. }), "{cut}: {e:?}");
        }
    }

    #[test]
    fn rejects_overlapping_entries() {
        // A genuine overlap: second local header starts inside the first entry's data.
        let mut s1 = member("a", &[b'x'; 64]);
        s1.deflate = false;
        let mut inner = b"PK\x03\x04".to_vec();
        inner.extend_from_slice(&[0; 22]);
        inner.extend_from_slice(&1u16.to_le_bytes());
        inner.extend_from_slice(&0u16.to_le_bytes());
        inner.push(b'b');
        s1.data[..inner.len()].copy_from_slice(&inner);
        let s1data = s1.data.clone();
        let mut z = build(&[s1]);
        // Append a CD entry "b" (stored, size 0, crc 0) pointing at offset of the inner header.
        let inner_off = 30 + 1; // local header + name "a"
        let eocd = z.len() - 22;
        let cd_off = u32::from_le_bytes(z[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
        let mut cd = z[cd_off..eocd].to_vec();
        let mut e2 = cd.clone();
        e2[20..28].copy_from_slice(&[0; 8]);
        e2[16..20].copy_from_slice(&[0; 4]);
        e2[42..46].copy_from_slice(&(inner_off as u32).to_le_bytes());
        e2[46] = b'b';
        cd.extend_from_slice(&e2);
        z.truncate(cd_off);
        z.extend_from_slice(&cd);
        z.extend_from_slice(b"PK\x05\x06\0\0\0\0\x02\0\x02\0");
        z.extend_from_slice(&(cd.len() as u32).to_le_bytes());
        z.extend_from_slice(&(cd_off as u32).to_le_bytes());
        z.extend_from_slice(&0u16.to_le_bytes());
        assert_eq!(s1data.len(), 64);
        let e = parse_err(&z, &Limits::default());
        assert!(matches!(&e, ExtractError::Hostile(m) if m.contains("overlapping")), "{e:?}");
    }

    #[test]
    fn caps_inflation_on_bytes_produced() {
        let big = vec![b' '; 8 << 20];
        let z = build(&[member("bomb.xml", &big)]);
        // Ratio cap.
        let l = Limits::default();
        let b = Budget::new(&l);
        let a = Archive::parse(&z, &b).unwrap();
        let e = a.read(&a.entries()[0], &b).unwrap_err();
        assert!(matches!(e, ExtractError::Limit { limit: Limit::CompressionRatio, .. }));
        // Per-entry cap when ratio is allowed.
        let l = Limits { max_compression_ratio: u64::MAX, max_stream_bytes: 2 << 20, ..Limits::default() };
        let b = Budget::new(&l);
        let a = Archive::parse(&z, &b).unwrap();
        assert!(matches!(
            a.read(&a.entries()[0], &b).unwrap_err(),
            ExtractError::Limit { limit: Limit::DecompressedBytes, .. }
        ));
        // Per-document cap.
        let l = Limits { max_compression_ratio: u64::MAX, max_decompressed_bytes: 1 << 20, ..Limits::default() };
        let b = Budget::new(&l);
        let a = Archive::parse(&z, &b).unwrap();
        assert!(matches!(
            a.read(&a.entries()[0], &b).unwrap_err(),
            ExtractError::Limit { limit: Limit::DecompressedBytes, .. }
        ));
    }

    #[test]
    fn detects_crc_mismatch() {
        let mut z = build(&[member("a", b"hello world")]);
        // Flip the CRC in both headers.
        z[14] ^= 0xFF;
        let eocd = z.len() - 22;
        let cd_off = u32::from_le_bytes(z[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
        z[cd_off + 16] ^= 0xFF;
        let l = Limits::default();
        let b = Budget::new(&l);
        let a = Archive::parse(&z, &b).unwrap();
        assert!(matches!(a.read(&a.entries()[0], &b), Err(ExtractError::Malformed { .. })));
    }
}
