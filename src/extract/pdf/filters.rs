//! Stream decoding with a hard output cap on every filter stage.
//!
//! lopdf is never asked to inflate page data: a few kilobytes of Flate can expand to gigabytes,
//! and a filter chain (`[/FlateDecode /FlateDecode]`) multiplies that. Every stage here writes
//! into a buffer that stops at `max_stream_bytes`, and every stage's output is charged to the
//! document's decompression budget, so a bomb ends in `Limit::DecompressedBytes` after at most
//! one cap's worth of work. Corrupt compressed data keeps what decoded before the damage, as
//! viewers do.

use crate::error::{ExtractError, Limit};
use crate::limits::Budget;
use lopdf::{Dictionary, Document, Object, Stream};
use std::io::Read;

/// Filters that carry image data only: their output is never text, so they are not decoded.
fn is_image_filter(name: &[u8]) -> bool {
    matches!(name, b"DCTDecode" | b"DCT" | b"JPXDecode" | b"CCITTFaxDecode" | b"CCF" | b"JBIG2Decode")
}

fn deref<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    match obj {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(&Object::Null),
        o => o,
    }
}

/// Decodes a stream's data through its filter chain. Returns `Ok(None)` for image codecs.
pub(crate) fn decode_stream(doc: &Document, stream: &Stream, budget: &Budget) -> Result<Option<Vec<u8>>, ExtractError> {
    let cap = budget.limits.max_stream_bytes.min(usize::MAX as u64) as usize;
    let dict = &stream.dict;
    let filters: Vec<Vec<u8>> = match dict.get(b"Filter").map(|o| deref(doc, o)) {
        Ok(Object::Name(n)) => vec![n.clone()],
        Ok(Object::Array(a)) => a.iter().filter_map(|o| deref(doc, o).as_name().ok().map(<[u8]>::to_vec)).collect(),
        _ => Vec::new(),
    };
    if filters.len() > 8 {
        return Err(ExtractError::malformed("pdf", "filter chain longer than 8"));
    }
    let parms: Vec<Option<&Dictionary>> = match dict.get(b"DecodeParms").map(|o| deref(doc, o)) {
        Ok(Object::Dictionary(d)) => vec![Some(d)],
        Ok(Object::Array(a)) => a.iter().map(|o| deref(doc, o).as_dict().ok()).collect(),
        _ => Vec::new(),
    };
    let mut data: Vec<u8> = stream.content.clone();
    for (i, f) in filters.iter().enumerate() {
        if is_image_filter(f) {
            return Ok(None);
        }
        let p = parms.get(i).copied().flatten();
        data = match f.as_slice() {
            b"FlateDecode" | b"Fl" => {
                let raw = inflate(&data, cap)?;
                predict(raw, p, cap)?
            }
            b"LZWDecode" | b"LZW" => {
                let early = p.and_then(|d| d.get(b"EarlyChange").ok()).and_then(|o| o.as_i64().ok()).unwrap_or(1);
                let raw = lzw(&data, early != 0, cap)?;
                predict(raw, p, cap)?
            }
            b"ASCIIHexDecode" | b"AHx" => ascii_hex(&data),
            b"ASCII85Decode" | b"A85" => ascii85(&data),
            b"RunLengthDecode" | b"RL" => run_length(&data, cap)?,
            b"Crypt" => data,
            other => {
                return Err(ExtractError::Unsupported(format!("pdf stream filter {}", String::from_utf8_lossy(other))))
            }
        };
        budget.charge_decompressed(data.len() as u64)?;
    }
    Ok(Some(data))
}

fn too_big(cap: usize) -> ExtractError {
    ExtractError::limit(Limit::DecompressedBytes, format!("a pdf stream decodes to more than {cap} bytes"))
}

/// Reads `r` into a buffer of at most `cap` bytes; a read error keeps the prefix.
fn read_capped<R: Read>(mut r: R, cap: usize) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if out.len() + n > cap {
                    return Err(too_big(cap));
                }
                out.extend_from_slice(buf.get(..n).unwrap_or(&[]));
            }
            Err(_) => break,
        }
    }
    Ok(out)
}

pub(crate) fn inflate(data: &[u8], cap: usize) -> Result<Vec<u8>, ExtractError> {
    let z = read_capped(flate2::read::ZlibDecoder::new(data), cap)?;
    if !z.is_empty() || data.is_empty() {
        return Ok(z);
    }
    // Some writers omit the zlib header; try raw deflate, then raw deflate past a bad header.
    let raw = read_capped(flate2::read::DeflateDecoder::new(data), cap)?;
    if !raw.is_empty() {
        return Ok(raw);
    }
    read_capped(flate2::read::DeflateDecoder::new(data.get(2..).unwrap_or(&[])), cap)
}

fn int_param(p: Option<&Dictionary>, key: &[u8], default: i64) -> i64 {
    p.and_then(|d| d.get(key).ok()).and_then(|o| o.as_i64().ok()).unwrap_or(default)
}

/// PNG and TIFF predictors (ISO 32000-1 §7.4.4.4).
fn predict(data: Vec<u8>, p: Option<&Dictionary>, cap: usize) -> Result<Vec<u8>, ExtractError> {
    let predictor = int_param(p, b"Predictor", 1);
    if predictor <= 1 {
        return Ok(data);
    }
    let colors = int_param(p, b"Colors", 1).clamp(1, 32) as usize;
    let bpc = int_param(p, b"BitsPerComponent", 8).clamp(1, 16) as usize;
    let columns = int_param(p, b"Columns", 1).clamp(1, 1 << 20) as usize;
    let bpp = (colors * bpc).div_ceil(8).max(1);
    let row = (colors * bpc * columns).div_ceil(8);
    if predictor == 2 {
        if bpc != 8 {
            return Ok(data);
        }
        let mut out = data;
        for line in out.chunks_mut(row.max(1)) {
            for i in bpp..line.len() {
                let left = line.get(i - bpp).copied().unwrap_or(0);
                if let Some(b) = line.get_mut(i) {
                    *b = b.wrapping_add(left);
                }
            }
        }
        return Ok(out);
    }
    let mut out: Vec<u8> = Vec::with_capacity(data.len().min(cap));
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        let Some((&ty, line)) = chunk.split_first() else {
            break;
        };
        let mut cur = vec![0u8; row];
        for i in 0..line.len().min(row) {
            let x = line.get(i).copied().unwrap_or(0);
            let a = if i >= bpp { cur.get(i - bpp).copied().unwrap_or(0) } else { 0 };
            let b = prev.get(i).copied().unwrap_or(0);
            let c = if i >= bpp { prev.get(i - bpp).copied().unwrap_or(0) } else { 0 };
            let v = match ty {
                1 => x.wrapping_add(a),
                2 => x.wrapping_add(b),
                3 => x.wrapping_add(((a as u16 + b as u16) / 2) as u8),
                4 => {
                    let pa = (b as i16 - c as i16).abs();
                    let pb = (a as i16 - c as i16).abs();
                    let pc = (a as i16 + b as i16 - 2 * c as i16).abs();
                    let pr = if pa <= pb && pa <= pc {
                        a
                    } else if pb <= pc {
                        b
                    } else {
                        c
                    };
                    x.wrapping_add(pr)
                }
                _ => x,
            };
            if let Some(slot) = cur.get_mut(i) {
                *slot = v;
            }
        }
        let n = line.len().min(row);
        if out.len() + n > cap {
            return Err(too_big(cap));
        }
        out.extend_from_slice(cur.get(..n).unwrap_or(&[]));
        prev = cur;
    }
    Ok(out)
}

fn ascii_hex(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 2);
    let mut hi: Option<u8> = None;
    for &b in data {
        if b == b'>' {
            break;
        }
        let v = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => continue,
        };
        match hi.take() {
            Some(h) => out.push(h << 4 | v),
            None => hi = Some(v),
        }
    }
    if let Some(h) = hi {
        out.push(h << 4);
    }
    out
}

fn ascii85(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut group = [0u32; 5];
    let mut n = 0usize;
    let body = data.strip_prefix(b"<~").unwrap_or(data);
    for &b in body {
        match b {
            b'~' => break,
            b'z' if n == 0 => out.extend_from_slice(&[0, 0, 0, 0]),
            b'!'..=b'u' => {
                if let Some(slot) = group.get_mut(n) {
                    *slot = (b - b'!') as u32;
                }
                n += 1;
                if n == 5 {
                    let v = group.iter().fold(0u32, |acc, &d| acc.wrapping_mul(85).wrapping_add(d));
                    out.extend_from_slice(&v.to_be_bytes());
                    n = 0;
                }
            }
            _ => {}
        }
    }
    if n > 1 {
        for slot in group.iter_mut().skip(n) {
            *slot = 84;
        }
        let v = group.iter().fold(0u32, |acc, &d| acc.wrapping_mul(85).wrapping_add(d));
        out.extend_from_slice(v.to_be_bytes().get(..n - 1).unwrap_or(&[]));
    }
    out
}

fn run_length(data: &[u8], cap: usize) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&len) = data.get(i) {
        i += 1;
        match len {
            128 => break,
            0..=127 => {
                let n = len as usize + 1;
                let end = (i + n).min(data.len());
                out.extend_from_slice(data.get(i..end).unwrap_or(&[]));
                i = end;
            }
            _ => {
                let n = 257 - len as usize;
                if let Some(&b) = data.get(i) {
                    out.extend(std::iter::repeat_n(b, n));
                }
                i += 1;
            }
        }
        if out.len() > cap {
            return Err(too_big(cap));
        }
    }
    Ok(out)
}

fn lzw(data: &[u8], early: bool, cap: usize) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let mut table: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    table.push(Vec::new());
    table.push(Vec::new());
    let mut width = 9u32;
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut prev: Option<Vec<u8>> = None;
    for &b in data {
        acc = (acc << 8) | b as u32;
        bits += 8;
        while bits >= width {
            let code = ((acc >> (bits - width)) & ((1 << width) - 1)) as usize;
            bits -= width;
            acc &= (1u32 << bits).wrapping_sub(1);
            if code == 256 {
                table.truncate(258);
                width = 9;
                prev = None;
                continue;
            }
            if code == 257 {
                return Ok(out);
            }
            let entry = if let Some(e) = table.get(code) {
                e.clone()
            } else if let Some(p) = &prev {
                let mut e = p.clone();
                e.push(p.first().copied().unwrap_or(0));
                e
            } else {
                return Ok(out);
            };
            if out.len() + entry.len() > cap {
                return Err(too_big(cap));
            }
            out.extend_from_slice(&entry);
            if let Some(mut p) = prev.take() {
                if table.len() < 4096 {
                    p.push(entry.first().copied().unwrap_or(0));
                    table.push(p);
                }
            }
            prev = Some(entry);
            let next = table.len() + usize::from(early);
            width = if next >= 2048 {
                12
            } else if next >= 1024 {
                11
            } else if next >= 512 {
                10
            } else {
                9
            };
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;
    use flate2::write::ZlibEncoder;
    use std::io::Write;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflate_respects_cap() {
        let z = zlib(&vec![b' '; 100_000]);
        assert_eq!(inflate(&z, 200_000).unwrap().len(), 100_000);
        assert!(matches!(inflate(&z, 1000), Err(ExtractError::Limit { limit: Limit::DecompressedBytes, .. })));
    }

    #[test]
    fn double_flate_chain_is_capped_per_stage() {
        let inner = zlib(&vec![0u8; 50_000]);
        let outer = zlib(&inner);
        let mut dict = Dictionary::new();
        dict.set(
            "Filter",
            Object::Array(vec![Object::Name(b"FlateDecode".to_vec()), Object::Name(b"FlateDecode".to_vec())]),
        );
        let s = Stream::new(dict, outer);
        let doc = Document::new();
        let limits = Limits { max_stream_bytes: 10_000, ..Limits::default() };
        let b = Budget::new(&limits);
        assert!(decode_stream(&doc, &s, &b).is_err());
        let limits = Limits::default();
        let b = Budget::new(&limits);
        assert_eq!(decode_stream(&doc, &s, &b).unwrap().unwrap().len(), 50_000);
    }

    #[test]
    fn ascii_codecs() {
        assert_eq!(ascii_hex(b"48 65 6c6C6f>"), b"Hello");
        assert_eq!(ascii85(b"<~87cURD]i,\"Ebo80~>"), b"Hello World!");
        assert_eq!(run_length(&[2, b'a', b'b', b'c', 254, b'x', 128], 100).unwrap(), b"abcxxx");
    }

    #[test]
    fn png_up_predictor() {
        let data = vec![2, 1, 2, 2, 1, 1];
        let mut p = Dictionary::new();
        p.set("Predictor", 12);
        p.set("Columns", 2);
        assert_eq!(predict(data, Some(&p), 100).unwrap(), vec![1, 2, 2, 3]);
    }
}
