//! The built-in encoding of an embedded CFF (`/FontFile3 /Subtype /Type1C`) font program.
//!
//! A simple font whose dictionary names no base encoding uses the encoding inside its font
//! program. TeX math fonts and many subset fonts rely on it: without it their codes fall back to
//! StandardEncoding and come out as the wrong characters (`2` for `∈`, `!` for `→`). Only the
//! parts needed to name each code's glyph are read (header, the first Top DICT, the String
//! INDEX, the charset and the encoding; Adobe TN 5176). Every offset is bounds-checked and every
//! count is bounded by the data actually present, so a hostile program yields an empty encoding,
//! never a panic.

/// Top DICT operators we read.
const OP_CHARSET: u16 = 15;
const OP_ENCODING: u16 = 16;
const OP_CHARSTRINGS: u16 = 17;
/// `12 30`: a CID-keyed font, which has no encoding.
const OP_ROS: u16 = 0x0c00 | 30;
/// Most operands kept before an operator (the spec's limit is 48).
const MAX_OPERANDS: usize = 48;

/// The CFF standard strings (TN 5176, Appendix A): SIDs 0..=390.
const STANDARD_STRINGS: [&str; 391] = [
    ".notdef",
    "space",
    "exclam",
    "quotedbl",
    "numbersign",
    "dollar",
    "percent",
    "ampersand",
    "quoteright",
    "parenleft",
    "parenright",
    "asterisk",
    "plus",
    "comma",
    "hyphen",
    "period",
    "slash",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "colon",
    "semicolon",
    "less",
    "equal",
    "greater",
    "question",
    "at",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "G",
    "H",
    "I",
    "J",
    "K",
    "L",
    "M",
    "N",
    "O",
    "P",
    "Q",
    "R",
    "S",
    "T",
    "U",
    "V",
    "W",
    "X",
    "Y",
    "Z",
    "bracketleft",
    "backslash",
    "bracketright",
    "asciicircum",
    "underscore",
    "quoteleft",
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "g",
    "h",
    "i",
    "j",
    "k",
    "l",
    "m",
    "n",
    "o",
    "p",
    "q",
    "r",
    "s",
    "t",
    "u",
    "v",
    "w",
    "x",
    "y",
    "z",
    "braceleft",
    "bar",
    "braceright",
    "asciitilde",
    "exclamdown",
    "cent",
    "sterling",
    "fraction",
    "yen",
    "florin",
    "section",
    "currency",
    "quotesingle",
    "quotedblleft",
    "guillemotleft",
    "guilsinglleft",
    "guilsinglright",
    "fi",
    "fl",
    "endash",
    "dagger",
    "daggerdbl",
    "periodcentered",
    "paragraph",
    "bullet",
    "quotesinglbase",
    "quotedblbase",
    "quotedblright",
    "guillemotright",
    "ellipsis",
    "perthousand",
    "questiondown",
    "grave",
    "acute",
    "circumflex",
    "tilde",
    "macron",
    "breve",
    "dotaccent",
    "dieresis",
    "ring",
    "cedilla",
    "hungarumlaut",
    "ogonek",
    "caron",
    "emdash",
    "AE",
    "ordfeminine",
    "Lslash",
    "Oslash",
    "OE",
    "ordmasculine",
    "ae",
    "dotlessi",
    "lslash",
    "oslash",
    "oe",
    "germandbls",
    "onesuperior",
    "logicalnot",
    "mu",
    "trademark",
    "Eth",
    "onehalf",
    "plusminus",
    "Thorn",
    "onequarter",
    "divide",
    "brokenbar",
    "degree",
    "thorn",
    "threequarters",
    "twosuperior",
    "registered",
    "minus",
    "eth",
    "multiply",
    "threesuperior",
    "copyright",
    "Aacute",
    "Acircumflex",
    "Adieresis",
    "Agrave",
    "Aring",
    "Atilde",
    "Ccedilla",
    "Eacute",
    "Ecircumflex",
    "Edieresis",
    "Egrave",
    "Iacute",
    "Icircumflex",
    "Idieresis",
    "Igrave",
    "Ntilde",
    "Oacute",
    "Ocircumflex",
    "Odieresis",
    "Ograve",
    "Otilde",
    "Scaron",
    "Uacute",
    "Ucircumflex",
    "Udieresis",
    "Ugrave",
    "Yacute",
    "Ydieresis",
    "Zcaron",
    "aacute",
    "acircumflex",
    "adieresis",
    "agrave",
    "aring",
    "atilde",
    "ccedilla",
    "eacute",
    "ecircumflex",
    "edieresis",
    "egrave",
    "iacute",
    "icircumflex",
    "idieresis",
    "igrave",
    "ntilde",
    "oacute",
    "ocircumflex",
    "odieresis",
    "ograve",
    "otilde",
    "scaron",
    "uacute",
    "ucircumflex",
    "udieresis",
    "ugrave",
    "yacute",
    "ydieresis",
    "zcaron",
    "exclamsmall",
    "Hungarumlautsmall",
    "dollaroldstyle",
    "dollarsuperior",
    "ampersandsmall",
    "Acutesmall",
    "parenleftsuperior",
    "parenrightsuperior",
    "twodotenleader",
    "onedotenleader",
    "zerooldstyle",
    "oneoldstyle",
    "twooldstyle",
    "threeoldstyle",
    "fouroldstyle",
    "fiveoldstyle",
    "sixoldstyle",
    "sevenoldstyle",
    "eightoldstyle",
    "nineoldstyle",
    "commasuperior",
    "threequartersemdash",
    "periodsuperior",
    "questionsmall",
    "asuperior",
    "bsuperior",
    "centsuperior",
    "dsuperior",
    "esuperior",
    "isuperior",
    "lsuperior",
    "msuperior",
    "nsuperior",
    "osuperior",
    "rsuperior",
    "ssuperior",
    "tsuperior",
    "ff",
    "ffi",
    "ffl",
    "parenleftinferior",
    "parenrightinferior",
    "Circumflexsmall",
    "hyphensuperior",
    "Gravesmall",
    "Asmall",
    "Bsmall",
    "Csmall",
    "Dsmall",
    "Esmall",
    "Fsmall",
    "Gsmall",
    "Hsmall",
    "Ismall",
    "Jsmall",
    "Ksmall",
    "Lsmall",
    "Msmall",
    "Nsmall",
    "Osmall",
    "Psmall",
    "Qsmall",
    "Rsmall",
    "Ssmall",
    "Tsmall",
    "Usmall",
    "Vsmall",
    "Wsmall",
    "Xsmall",
    "Ysmall",
    "Zsmall",
    "colonmonetary",
    "onefitted",
    "rupiah",
    "Tildesmall",
    "exclamdownsmall",
    "centoldstyle",
    "Lslashsmall",
    "Scaronsmall",
    "Zcaronsmall",
    "Dieresissmall",
    "Brevesmall",
    "Caronsmall",
    "Dotaccentsmall",
    "Macronsmall",
    "figuredash",
    "hypheninferior",
    "Ogoneksmall",
    "Ringsmall",
    "Cedillasmall",
    "questiondownsmall",
    "oneeighth",
    "threeeighths",
    "fiveeighths",
    "seveneighths",
    "onethird",
    "twothirds",
    "zerosuperior",
    "foursuperior",
    "fivesuperior",
    "sixsuperior",
    "sevensuperior",
    "eightsuperior",
    "ninesuperior",
    "zeroinferior",
    "oneinferior",
    "twoinferior",
    "threeinferior",
    "fourinferior",
    "fiveinferior",
    "sixinferior",
    "seveninferior",
    "eightinferior",
    "nineinferior",
    "centinferior",
    "dollarinferior",
    "periodinferior",
    "commainferior",
    "Agravesmall",
    "Aacutesmall",
    "Acircumflexsmall",
    "Atildesmall",
    "Adieresissmall",
    "Aringsmall",
    "AEsmall",
    "Ccedillasmall",
    "Egravesmall",
    "Eacutesmall",
    "Ecircumflexsmall",
    "Edieresissmall",
    "Igravesmall",
    "Iacutesmall",
    "Icircumflexsmall",
    "Idieresissmall",
    "Ethsmall",
    "Ntildesmall",
    "Ogravesmall",
    "Oacutesmall",
    "Ocircumflexsmall",
    "Otildesmall",
    "Odieresissmall",
    "OEsmall",
    "Oslashsmall",
    "Ugravesmall",
    "Uacutesmall",
    "Ucircumflexsmall",
    "Udieresissmall",
    "Yacutesmall",
    "Thornsmall",
    "Ydieresissmall",
    "001.000",
    "001.001",
    "001.002",
    "001.003",
    "Black",
    "Bold",
    "Book",
    "Light",
    "Medium",
    "Regular",
    "Roman",
    "Semibold",
];

fn u8_at(d: &[u8], p: usize) -> Option<usize> {
    d.get(p).map(|b| *b as usize)
}

fn u16_at(d: &[u8], p: usize) -> Option<usize> {
    Some((u8_at(d, p)? << 8) | u8_at(d, p.checked_add(1)?)?)
}

fn offset_at(d: &[u8], p: usize, size: usize) -> Option<usize> {
    let mut v = 0usize;
    for k in 0..size {
        v = (v << 8) | u8_at(d, p.checked_add(k)?)?;
    }
    Some(v)
}

/// A parsed INDEX: the byte range of each item, and where the next structure starts.
struct Index {
    items: Vec<(usize, usize)>,
    end: usize,
}

fn read_index(d: &[u8], p: usize) -> Option<Index> {
    let count = u16_at(d, p)?;
    if count == 0 {
        return Some(Index { items: Vec::new(), end: p + 2 });
    }
    let off_size = u8_at(d, p + 2)?;
    if !(1..=4).contains(&off_size) {
        return None;
    }
    let offsets_at = p + 3;
    // Offsets are 1-based from the byte before the data.
    let base = offsets_at.checked_add((count + 1).checked_mul(off_size)?)?.checked_sub(1)?;
    if base > d.len() {
        return None;
    }
    let mut items = Vec::with_capacity(count.min(d.len()));
    let mut prev = offset_at(d, offsets_at, off_size)?;
    for i in 1..=count {
        let next = offset_at(d, offsets_at + i * off_size, off_size)?;
        let (s, e) = (base.checked_add(prev)?, base.checked_add(next)?);
        if s > e || e > d.len() {
            return None;
        }
        items.push((s, e));
        prev = next;
    }
    let end = items.last().map_or(base, |(_, e)| *e);
    Some(Index { items, end })
}

/// Operands of the Top DICT operators we need; `None` for an operator that is absent.
#[derive(Default)]
struct TopDict {
    charset: Option<f64>,
    encoding: Option<f64>,
    charstrings: Option<f64>,
    cid_keyed: bool,
}

fn parse_top_dict(d: &[u8]) -> TopDict {
    let mut top = TopDict::default();
    let mut ops: Vec<f64> = Vec::new();
    let mut i = 0usize;
    while let Some(&b0) = d.get(i) {
        let b1 = d.get(i + 1).map(|b| *b as i32);
        match b0 {
            0..=21 => {
                let op = if b0 == 12 {
                    i += 1;
                    0x0c00 | d.get(i).map_or(0xff, |b| *b as u16)
                } else {
                    b0 as u16
                };
                let first = ops.first().copied();
                match op {
                    OP_CHARSET => top.charset = first,
                    OP_ENCODING => top.encoding = first,
                    OP_CHARSTRINGS => top.charstrings = first,
                    OP_ROS => top.cid_keyed = true,
                    _ => {}
                }
                ops.clear();
                i += 1;
                continue;
            }
            28 => {
                let v = i16::from_be_bytes([*d.get(i + 1).unwrap_or(&0), *d.get(i + 2).unwrap_or(&0)]);
                ops.push(v as f64);
                i += 3;
            }
            29 => {
                let mut b = [0u8; 4];
                for (k, slot) in b.iter_mut().enumerate() {
                    *slot = *d.get(i + 1 + k).unwrap_or(&0);
                }
                ops.push(i32::from_be_bytes(b) as f64);
                i += 5;
            }
            30 => {
                // A real number: nibbles up to an 0xf terminator. Its value is never an offset,
                // so it is skipped and recorded as zero.
                i += 1;
                while let Some(&b) = d.get(i) {
                    i += 1;
                    if b & 0x0f == 0x0f || b >> 4 == 0x0f {
                        break;
                    }
                }
                ops.push(0.0);
            }
            32..=246 => {
                ops.push(b0 as f64 - 139.0);
                i += 1;
            }
            247..=250 => {
                ops.push(((b0 as i32 - 247) * 256 + b1.unwrap_or(0) + 108) as f64);
                i += 2;
            }
            251..=254 => {
                ops.push((-(b0 as i32 - 251) * 256 - b1.unwrap_or(0) - 108) as f64);
                i += 2;
            }
            _ => i += 1,
        }
        if ops.len() > MAX_OPERANDS {
            ops.clear();
        }
    }
    top
}

fn as_offset(v: Option<f64>) -> Option<usize> {
    v.filter(|v| *v >= 0.0 && v.fract() == 0.0).map(|v| v as usize)
}

/// SID of each glyph (index = GID), from the charset at `offset`.
fn read_charset(d: &[u8], offset: usize, n_glyphs: usize) -> Option<Vec<usize>> {
    let mut sids = Vec::with_capacity(n_glyphs.min(d.len()));
    sids.push(0);
    match offset {
        // ISOAdobe: GID i is SID i.
        0 => sids.extend(1..n_glyphs.min(229)),
        // Expert charsets: names that never map to ordinary text; not worth a table.
        1 | 2 => return None,
        _ => {
            let format = u8_at(d, offset)?;
            let mut p = offset + 1;
            while sids.len() < n_glyphs {
                match format {
                    0 => {
                        sids.push(u16_at(d, p)?);
                        p += 2;
                    }
                    1 | 2 => {
                        let first = u16_at(d, p)?;
                        let n_left = if format == 1 { u8_at(d, p + 2)? } else { u16_at(d, p + 2)? };
                        p += if format == 1 { 3 } else { 4 };
                        for k in 0..=n_left {
                            if sids.len() >= n_glyphs {
                                break;
                            }
                            sids.push(first + k);
                        }
                    }
                    _ => return None,
                }
            }
        }
    }
    Some(sids)
}

fn sid_name(d: &[u8], strings: &Index, sid: usize) -> Option<Vec<u8>> {
    if let Some(s) = STANDARD_STRINGS.get(sid) {
        return Some(s.as_bytes().to_vec());
    }
    let (s, e) = *strings.items.get(sid - STANDARD_STRINGS.len())?;
    d.get(s..e).map(<[u8]>::to_vec)
}

/// `(code, glyph name)` for each code of the program's custom built-in encoding. Empty when the
/// program is not CFF, is CID-keyed, uses the predefined Standard/Expert encodings (the caller's
/// StandardEncoding fallback already covers Standard) or is malformed.
pub(crate) fn builtin_encoding(d: &[u8]) -> Vec<(usize, Vec<u8>)> {
    builtin_encoding_opt(d).unwrap_or_default()
}

fn builtin_encoding_opt(d: &[u8]) -> Option<Vec<(usize, Vec<u8>)>> {
    if u8_at(d, 0)? != 1 {
        return None;
    }
    let hdr_size = u8_at(d, 2)?;
    let names = read_index(d, hdr_size)?;
    let tops = read_index(d, names.end)?;
    let strings = read_index(d, tops.end)?;
    let (ts, te) = *tops.items.first()?;
    let top = parse_top_dict(d.get(ts..te)?);
    if top.cid_keyed {
        return None;
    }
    let enc_off = as_offset(top.encoding.or(Some(0.0)))?;
    if enc_off <= 1 {
        return None;
    }
    let n_glyphs = read_index(d, as_offset(top.charstrings)?)?.items.len();
    let sids = read_charset(d, as_offset(top.charset.or(Some(0.0)))?, n_glyphs)?;
    let mut out = Vec::new();
    let format = u8_at(d, enc_off)?;
    let mut p = enc_off + 1;
    let mut gid = 1usize;
    match format & 0x7f {
        0 => {
            let n = u8_at(d, p)?;
            p += 1;
            for _ in 0..n {
                let code = u8_at(d, p)?;
                p += 1;
                if let Some(name) = sids.get(gid).and_then(|s| sid_name(d, &strings, *s)) {
                    out.push((code, name));
                }
                gid += 1;
            }
        }
        1 => {
            let n = u8_at(d, p)?;
            p += 1;
            for _ in 0..n {
                let first = u8_at(d, p)?;
                let n_left = u8_at(d, p + 1)?;
                p += 2;
                for code in first..=(first + n_left).min(255) {
                    if let Some(name) = sids.get(gid).and_then(|s| sid_name(d, &strings, *s)) {
                        out.push((code, name));
                    }
                    gid += 1;
                }
            }
        }
        _ => return None,
    }
    if format & 0x80 != 0 {
        let n = u8_at(d, p)?;
        p += 1;
        for _ in 0..n {
            let code = u8_at(d, p)?;
            let sid = u16_at(d, p + 1)?;
            p += 3;
            if let Some(name) = sid_name(d, &strings, sid) {
                out.push((code, name));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn index(items: &[&[u8]]) -> Vec<u8> {
        let mut v = (items.len() as u16).to_be_bytes().to_vec();
        if items.is_empty() {
            return v;
        }
        v.push(2);
        let mut off = 1u16;
        v.extend(off.to_be_bytes());
        for it in items {
            off += it.len() as u16;
            v.extend(off.to_be_bytes());
        }
        for it in items {
            v.extend(*it);
        }
        v
    }

    /// A minimal CFF program: three glyphs (.notdef, `element`, `A`), a format-0 charset
    /// naming them, and a format-0 encoding putting them at codes 0x32 and 0x41, with a
    /// supplement mapping code 0x21 to the standard string `B`.
    pub(crate) fn sample_cff() -> Vec<u8> {
        let header = [1u8, 0, 4, 2];
        let names = index(&[b"Test"]);
        let strings = index(&[b"element"]);
        let gsubrs = index(&[]);
        let charstrings = index(&[b"\x0e", b"\x0e", b"\x0e"]);
        // Fixed-size Top DICT so the offsets can be computed before it is laid out: each
        // operand is a 5-byte integer (operator 29).
        let top_len = 3 * 6;
        let top_index_len = 2 + 1 + 4 + top_len;
        let start = header.len() + names.len() + top_index_len + strings.len() + gsubrs.len();
        let charset_off = start;
        let charset = [0u8, 0x01, 0x87, 0, 34]; // SID 391 (`element`), SID 34 (`A`)
        let enc_off = charset_off + charset.len();
        let encoding = [0x80u8, 2, 0x32, 0x41, 1, 0x21, 0, 35];
        let cs_off = enc_off + encoding.len();
        let mut top = Vec::new();
        for (v, op) in [(charset_off, 15u8), (enc_off, 16), (cs_off, 17)] {
            top.push(29);
            top.extend((v as i32).to_be_bytes());
            top.push(op);
        }
        assert_eq!(top.len(), top_len);
        let mut out = header.to_vec();
        out.extend(names);
        out.extend(index(&[&top]));
        out.extend(strings);
        out.extend(gsubrs);
        assert_eq!(out.len(), charset_off);
        out.extend(charset);
        out.extend(encoding);
        out.extend(charstrings);
        out
    }

    #[test]
    fn standard_strings_are_complete() {
        assert_eq!(STANDARD_STRINGS[228], "zcaron");
        assert_eq!(STANDARD_STRINGS[229], "exclamsmall");
        assert_eq!(STANDARD_STRINGS[379], "001.000");
        assert_eq!(STANDARD_STRINGS[390], "Semibold");
    }

    #[test]
    fn custom_encoding_with_supplement() {
        let enc = builtin_encoding(&sample_cff());
        assert_eq!(enc, vec![(0x32, b"element".to_vec()), (0x41, b"A".to_vec()), (0x21, b"B".to_vec())]);
    }

    #[test]
    fn garbage_and_truncations_never_panic() {
        assert!(builtin_encoding(b"").is_empty());
        assert!(builtin_encoding(b"%!PS-AdobeFont-1.0").is_empty());
        let cff = sample_cff();
        // Every truncation of a valid program is handled without panicking.
        for n in 0..cff.len() {
            let _ = builtin_encoding(cff.get(..n).unwrap());
        }
        // Flipping each byte too.
        for i in 0..cff.len() {
            let mut c = cff.clone();
            c[i] ^= 0xff;
            let _ = builtin_encoding(&c);
        }
    }
}
