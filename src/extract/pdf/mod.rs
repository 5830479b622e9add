//! PDF extraction: page text with visibility, plus everything a reader does not see.
//!
//! The document is parsed with lopdf's object model only after a raw pre-scan has rejected
//! nesting deep enough to overflow lopdf's recursive parser. Encryption is checked from the
//! trailer ourselves: empty-user-password files are decrypted by lopdf while loading, anything
//! else is [`ExtractError::Encrypted`], never an empty "clean" document. The page tree is walked
//! with an explicit stack, a visited set and the page cap; each page's content is run through our
//! own interpreter ([`content`]) and laid out into words and lines ([`layout`]).
//!
//! Beyond page text, annotations and form values (`Hidden::Annotation`), document info, XMP and
//! outlines (`Hidden::Metadata`) and embedded files (`Hidden::Attachment`, extracted recursively
//! under the nesting cap) are appended after the pages; JavaScript, launch actions, embedded
//! files and fonts without a Unicode mapping become signals.
//!
//! Policy decisions: permission bits (no-extract, no-accessibility) are ignored, because a
//! sanitizer that cannot read a file cannot vouch for it; a page tree that reaches an object
//! twice is rejected as hostile (real writers never share page nodes), while a Form XObject
//! cycle is drawn once, as viewers do.

mod cff;
mod content;
mod filters;
mod fonts;
mod glyphlist;
mod layout;
mod tables;

use crate::error::{ExtractError, Limit};
use crate::limits::Budget;
use crate::model::{Extracted, Hidden, Origin, SignalKind, Visibility};
use content::{text_string, Page, Rect};
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId};
use std::collections::{HashMap, HashSet};

/// Deepest array/dictionary nesting accepted in the raw file (lopdf's parser recurses).
const MAX_RAW_NESTING: usize = 64;
/// Most nodes visited in any auxiliary tree walk (outlines, name trees, fields).
const MAX_TREE_NODES: usize = 100_000;
/// Longest metadata or annotation string kept.
const MAX_FIELD_CHARS: usize = 64 * 1024;

fn deref<'a>(doc: &'a Document, obj: &'a Object) -> &'a Object {
    match obj {
        Object::Reference(id) => doc.get_object(*id).unwrap_or(&Object::Null),
        o => o,
    }
}

fn dict_get<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    d.get(key).ok().map(|o| deref(doc, o))
}

fn str_of(doc: &Document, d: &Dictionary, key: &[u8]) -> Option<String> {
    match dict_get(doc, d, key) {
        Some(Object::String(s, _)) => {
            let t = text_string(s);
            let t: String = t.chars().take(MAX_FIELD_CHARS).collect();
            Some(t)
        }
        _ => None,
    }
}

/// Rejects files whose arrays/dictionaries nest deeper than `cap`, scanning the raw bytes
/// outside strings, comments and stream data.
fn prescan_nesting(bytes: &[u8], cap: usize) -> Result<(), ExtractError> {
    let mut depth = 0usize;
    let mut i = 0usize;
    let n = bytes.len();
    while i < n {
        let Some(&c) = bytes.get(i) else { break };
        match c {
            b'%' => {
                while bytes.get(i).is_some_and(|&c| c != b'\n' && c != b'\r') {
                    i += 1;
                }
                continue;
            }
            b'(' => {
                let mut d = 0usize;
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    match c {
                        b'\\' => i += 1,
                        b'(' => d += 1,
                        b')' if d == 0 => break,
                        b')' => d -= 1,
                        _ => {}
                    }
                }
                continue;
            }
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 2;
            }
            b'<' => {
                while bytes.get(i).is_some_and(|&c| c != b'>') {
                    i += 1;
                }
                i += 1;
                continue;
            }
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 2;
            }
            b'[' => {
                depth += 1;
                i += 1;
            }
            b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b's' if bytes.get(i..i + 6) == Some(b"stream") => {
                let after = bytes.get(i + 6).copied();
                if matches!(after, Some(b'\r') | Some(b'\n')) {
                    // Skip stream data up to its `endstream`.
                    let rest = bytes.get(i + 6..).unwrap_or(&[]);
                    match memchr::memmem::find(rest, b"endstream") {
                        Some(p) => i += 6 + p + 9,
                        None => break,
                    }
                    depth = 0;
                    continue;
                }
                i += 6;
            }
            b'e' if bytes.get(i..i + 6) == Some(b"endobj") => {
                depth = 0;
                i += 6;
            }
            _ => i += 1,
        }
        if depth > cap {
            return Err(ExtractError::limit(Limit::NestingDepth, format!("pdf objects nested deeper than {cap}")));
        }
    }
    Ok(())
}

fn load(bytes: &[u8], budget: &Budget) -> Result<Document, ExtractError> {
    prescan_nesting(bytes, MAX_RAW_NESTING)?;
    let opts = LoadOptions {
        max_decompressed_size: Some(budget.limits.max_stream_bytes.min(usize::MAX as u64) as usize),
        ..LoadOptions::default()
    };
    let doc = Document::load_mem_with_options(bytes, opts).map_err(|e| match e {
        lopdf::Error::Decompress(_) => {
            ExtractError::limit(Limit::DecompressedBytes, "a pdf object stream decodes past the stream cap")
        }
        other => {
            let msg = other.to_string();
            if msg.to_ascii_lowercase().contains("password") || msg.contains("ncrypt") {
                ExtractError::Encrypted("pdf needs a password".into())
            } else {
                ExtractError::malformed("pdf", msg.chars().take(200).collect::<String>())
            }
        }
    })?;
    if doc.objects.len() as u64 > budget.limits.max_objects {
        return Err(ExtractError::limit(
            Limit::Objects,
            format!("more than {} pdf objects", budget.limits.max_objects),
        ));
    }
    if doc.trailer.has(b"Encrypt") && doc.encryption_state.is_none() {
        return Err(ExtractError::Encrypted("pdf is encrypted and the empty user password does not open it".into()));
    }
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        // lopdf decrypted with the empty password; make sure something came out.
        if doc.catalog().is_err() {
            return Err(ExtractError::Encrypted("pdf could not be decrypted".into()));
        }
    }
    Ok(doc)
}

/// A page found by the page-tree walk with its inherited attributes.
struct PageInfo<'a> {
    dict: &'a Dictionary,
    resources: Option<&'a Dictionary>,
    page_box: Rect,
}

fn rect_of(doc: &Document, o: Option<&Object>) -> Option<Rect> {
    let Some(Object::Array(a)) = o else {
        return None;
    };
    let v: Vec<f64> = a.iter().filter_map(|o| fonts::num(deref(doc, o))).collect();
    match v.as_slice() {
        [x0, y0, x1, y1] => Some(Rect::new(*x0, *y0, *x1, *y1)),
        _ => None,
    }
}

fn walk_pages<'a>(doc: &'a Document, budget: &Budget) -> Result<Vec<PageInfo<'a>>, ExtractError> {
    let catalog = doc.catalog().map_err(|_| ExtractError::malformed("pdf", "no document catalog"))?;
    let Some(Object::Reference(root)) = catalog.get(b"Pages").ok() else {
        return Err(ExtractError::malformed("pdf", "no page tree"));
    };
    let default_box = Rect::new(0.0, 0.0, 612.0, 792.0);
    let mut out = Vec::new();
    let mut visited: HashSet<ObjectId> = HashSet::new();
    // (node, inherited resources, media box, crop box)
    type Frame<'b> = (ObjectId, Option<&'b Dictionary>, Option<Rect>, Option<Rect>);
    let mut stack: Vec<Frame<'a>> = vec![(*root, None, None, None)];
    while let Some((id, res, media, crop)) = stack.pop() {
        if !visited.insert(id) {
            return Err(ExtractError::Hostile("pdf page tree visits an object twice (cycle or shared page)".into()));
        }
        if visited.len() as u64 > budget.limits.max_pages as u64 * 2 + 1000 {
            return Err(ExtractError::limit(
                Limit::Pages,
                format!("pdf page tree larger than {} pages", budget.limits.max_pages),
            ));
        }
        let Ok(node) = doc.get_dictionary(id) else {
            continue;
        };
        let res = dict_get(doc, node, b"Resources").and_then(|o| o.as_dict().ok()).or(res);
        let media = rect_of(doc, dict_get(doc, node, b"MediaBox")).or(media);
        let crop = rect_of(doc, dict_get(doc, node, b"CropBox")).or(crop);
        let kids = dict_get(doc, node, b"Kids").and_then(|o| o.as_array().ok());
        let is_pages = node.has_type(b"Pages") || (kids.is_some() && !node.has_type(b"Page"));
        if is_pages {
            if let Some(kids) = kids {
                for k in kids.iter().rev() {
                    if let Object::Reference(kid) = k {
                        stack.push((*kid, res, media, crop));
                    }
                }
            }
            continue;
        }
        if out.len() >= budget.limits.max_pages as usize {
            return Err(ExtractError::limit(Limit::Pages, format!("more than {} pdf pages", budget.limits.max_pages)));
        }
        let mbox = media.unwrap_or(default_box);
        let page_box = match crop {
            Some(c) => {
                let i = Rect::new(c.x0.max(mbox.x0), c.y0.max(mbox.y0), c.x1.min(mbox.x1), c.y1.min(mbox.y1));
                if i.x1 > i.x0 && i.y1 > i.y0 {
                    i
                } else {
                    mbox
                }
            }
            None => mbox,
        };
        out.push(PageInfo { dict: node, resources: res, page_box });
    }
    Ok(out)
}

/// Optional content groups off in the default configuration.
fn ocgs_off(doc: &Document) -> HashSet<ObjectId> {
    let mut off = HashSet::new();
    let Some(d) = doc
        .catalog()
        .ok()
        .and_then(|c| dict_get(doc, c, b"OCProperties"))
        .and_then(|o| o.as_dict().ok())
        .and_then(|p| dict_get(doc, p, b"D"))
        .and_then(|o| o.as_dict().ok())
    else {
        return off;
    };
    if let Some(Object::Array(a)) = dict_get(doc, d, b"OFF") {
        off.extend(a.iter().filter_map(|o| o.as_reference().ok()));
    }
    let base_off = dict_get(doc, d, b"BaseState").and_then(|o| o.as_name().ok()).is_some_and(|n| n == b"OFF");
    if base_off {
        let on: HashSet<ObjectId> = match dict_get(doc, d, b"ON") {
            Some(Object::Array(a)) => a.iter().filter_map(|o| o.as_reference().ok()).collect(),
            _ => HashSet::new(),
        };
        let all = doc
            .catalog()
            .ok()
            .and_then(|c| dict_get(doc, c, b"OCProperties"))
            .and_then(|o| o.as_dict().ok())
            .and_then(|p| dict_get(doc, p, b"OCGs"))
            .and_then(|o| o.as_array().ok());
        if let Some(all) = all {
            for id in all.iter().filter_map(|o| o.as_reference().ok()) {
                if !on.contains(&id) {
                    off.insert(id);
                }
            }
        }
    }
    off
}

/// The concatenated, decoded content streams of a page.
fn page_content(doc: &Document, page: &Dictionary, budget: &Budget) -> Result<Vec<u8>, ExtractError> {
    let mut out = Vec::new();
    let streams: Vec<&Object> = match page.get(b"Contents") {
        Ok(Object::Array(a)) => a.iter().collect(),
        Ok(o) => match deref(doc, o) {
            Object::Array(a) => a.iter().collect(),
            _ => vec![o],
        },
        Err(_) => Vec::new(),
    };
    for s in streams {
        if let Ok(st) = deref(doc, s).as_stream() {
            if let Some(data) = filters::decode_stream(doc, st, budget)? {
                if (out.len() + data.len()) as u64 > budget.limits.max_stream_bytes {
                    return Err(ExtractError::limit(
                        Limit::DecompressedBytes,
                        "page content larger than the stream cap",
                    ));
                }
                out.extend_from_slice(&data);
                out.push(b'\n');
            }
        }
    }
    Ok(out)
}

/// Extracts a PDF.
pub fn extract(bytes: &[u8], budget: &Budget) -> Result<Extracted, ExtractError> {
    let doc = load(bytes, budget)?;
    let pages = walk_pages(&doc, budget)?;
    let off = ocgs_off(&doc);
    let mut out = Extracted::new();
    let mut font_cache = HashMap::new();
    let mut unmapped: Vec<String> = Vec::new();
    for (i, p) in pages.iter().enumerate() {
        budget.check_time()?;
        let page_no = i as u32 + 1;
        let content = page_content(&doc, p.dict, budget)?;
        let mut page = Page::new(&doc, budget, &off, p.page_box, &mut font_cache);
        page.run(&content, p.resources)?;
        let drew = appearances(&doc, p.dict, &off, &mut page)?;
        for f in &page.unmapped_fonts {
            if !unmapped.contains(f) {
                unmapped.push(f.clone());
                out.signal(
                    SignalKind::UnmappedFont,
                    "a font has no Unicode mapping; its text may be wrong",
                    Origin::page(page_no),
                );
            }
        }
        if page.recursive_forms {
            out.signal(
                SignalKind::RecursiveStructure,
                "form XObjects reference each other in a cycle or nest past the depth cap; drawn once",
                Origin::page(page_no),
            );
        }
        let glyphs = std::mem::take(&mut page.glyphs);
        drop(page);
        layout::emit(&glyphs, &mut out, &Origin::page(page_no));
        out.paragraph_break();
        annotations(&doc, p.dict, page_no, &drew, budget, &mut out)?;
        budget.check_text(out.text.len())?;
    }
    metadata(&doc, budget, &mut out);
    outlines(&doc, &mut out);
    acroform(&doc, &mut out);
    embedded_files(&doc, budget, &mut out)?;
    active_content(&doc, &mut out);
    budget.check_text(out.text.len())?;
    // A file with neither cross-reference data nor an end marker was cut off or damaged. When
    // nothing could be recovered from it, calling it an empty clean document would hide that:
    // fail closed instead. (Damaged files that still yield text extract like pdftotext does.)
    if out.text.trim().is_empty() && is_truncated(bytes) {
        return Err(ExtractError::malformed(
            "pdf",
            "truncated or damaged: no cross-reference table or trailer, and no text could be recovered",
        ));
    }
    Ok(out)
}

/// No `startxref` and no `%%EOF` in the file.
fn is_truncated(bytes: &[u8]) -> bool {
    memchr::memmem::rfind(bytes, b"startxref").is_none() && memchr::memmem::rfind(bytes, b"%%EOF").is_none()
}

/// Annotation flags that keep an annotation from being shown.
const ANNOT_HIDDEN: i64 = 2;
const ANNOT_NOVIEW: i64 = 32;

/// Draws the normal appearance of each annotation (what a reader sees of form fields, stamps,
/// free text); hidden or no-view annotations are drawn with `Hidden::Annotation`.
fn appearances<'a>(
    doc: &'a Document,
    page: &'a Dictionary,
    off: &HashSet<ObjectId>,
    out: &mut Page<'a>,
) -> Result<HashSet<usize>, ExtractError> {
    let mut drew = HashSet::new();
    let Some(Object::Array(annots)) = dict_get(doc, page, b"Annots") else {
        return Ok(drew);
    };
    for (idx, a) in annots.iter().take(MAX_TREE_NODES).enumerate() {
        let Ok(d) = deref(doc, a).as_dict() else {
            continue;
        };
        let sub = dict_get(doc, d, b"Subtype").and_then(|o| o.as_name().ok());
        if matches!(sub, Some(b"Popup") | Some(b"Link")) {
            continue;
        }
        let Some(rect) = rect_of(doc, dict_get(doc, d, b"Rect")) else {
            continue;
        };
        let Some(n) = dict_get(doc, d, b"AP").and_then(|o| o.as_dict().ok()).and_then(|ap| dict_get(doc, ap, b"N"))
        else {
            continue;
        };
        let stream = match n {
            Object::Stream(s) => Some(s),
            Object::Dictionary(states) => dict_get(doc, d, b"AS")
                .and_then(|o| o.as_name().ok())
                .and_then(|st| dict_get(doc, states, st))
                .and_then(|o| o.as_stream().ok()),
            _ => None,
        };
        let Some(stream) = stream else { continue };
        let flags = dict_get(doc, d, b"F").and_then(|o| o.as_i64().ok()).unwrap_or(0);
        let mut extra = Visibility::VISIBLE;
        if flags & (ANNOT_HIDDEN | ANNOT_NOVIEW) != 0 {
            extra = extra.with(Hidden::Annotation);
        }
        if d.get(b"OC").ok().is_some_and(|oc| content::oc_is_off(doc, off, oc)) {
            extra = extra.with(Hidden::OptionalContentOff);
        }
        let before = out.glyphs.len();
        out.run_appearance(stream, rect, extra)?;
        if out.glyphs.get(before..).is_some_and(|g| g.iter().any(|g| !g.text.trim().is_empty())) {
            drew.insert(idx);
        }
    }
    Ok(drew)
}

fn push_hidden(out: &mut Extracted, text: &str, reason: Hidden, origin: &Origin) {
    let t = text.trim();
    if t.is_empty() {
        return;
    }
    out.paragraph_break();
    out.push(t, Visibility::hidden(reason), origin);
    out.paragraph_break();
}

fn annotations(
    doc: &Document,
    page: &Dictionary,
    page_no: u32,
    drew: &HashSet<usize>,
    budget: &Budget,
    out: &mut Extracted,
) -> Result<(), ExtractError> {
    let Some(Object::Array(annots)) = dict_get(doc, page, b"Annots") else {
        return Ok(());
    };
    for (idx, a) in annots.iter().take(MAX_TREE_NODES).enumerate() {
        let Ok(d) = deref(doc, a).as_dict() else {
            continue;
        };
        let sub = dict_get(doc, d, b"Subtype").and_then(|o| o.as_name().ok()).unwrap_or(b"");
        if sub == b"Popup" {
            continue;
        }
        let sub_s = String::from_utf8_lossy(sub).into_owned();
        let origin = Origin::page(page_no).with_element(format!("annotation:{sub_s}"));
        let flags = dict_get(doc, d, b"F").and_then(|o| o.as_i64().ok()).unwrap_or(0);
        let shown = flags & (ANNOT_HIDDEN | ANNOT_NOVIEW) == 0;
        for key in [b"Contents".as_slice(), b"RC"] {
            if key == b"RC" && d.has(b"Contents") {
                continue;
            }
            if let Some(t) = str_of(doc, d, key) {
                let t = if key == b"RC" { strip_tags(&t) } else { t };
                push_hidden(out, &t, Hidden::Annotation, &origin);
            }
        }
        if sub == b"Widget" {
            if let Some(v) = field_value(doc, d) {
                let o = origin.clone().with_element("form_field");
                if shown && !drew.contains(&idx) && !v.trim().is_empty() {
                    // An empty appearance is regenerated from the value by viewers: visible.
                    out.paragraph_break();
                    out.push(v.trim(), Visibility::VISIBLE, &o);
                    out.paragraph_break();
                } else {
                    push_hidden(out, &v, Hidden::Annotation, &o);
                }
            }
        }
        if sub == b"FileAttachment" {
            if let Some(fs) = dict_get(doc, d, b"FS").and_then(|o| o.as_dict().ok()) {
                attachment(doc, fs, None, budget, out)?;
            }
        }
    }
    Ok(())
}

/// A field's value, inherited through /Parent.
fn field_value(doc: &Document, d: &Dictionary) -> Option<String> {
    let mut cur = d;
    for _ in 0..32 {
        match dict_get(doc, cur, b"V") {
            Some(Object::String(s, _)) => return Some(text_string(s).chars().take(MAX_FIELD_CHARS).collect()),
            Some(Object::Name(_)) | Some(Object::Array(_)) => return None,
            _ => {}
        }
        cur = dict_get(doc, cur, b"Parent")?.as_dict().ok()?;
    }
    None
}

/// Field values not reachable from any page's widgets (fields without a widget).
fn acroform(doc: &Document, out: &mut Extracted) {
    let Some(fields) = doc
        .catalog()
        .ok()
        .and_then(|c| dict_get(doc, c, b"AcroForm"))
        .and_then(|o| o.as_dict().ok())
        .and_then(|f| dict_get(doc, f, b"Fields"))
        .and_then(|o| o.as_array().ok())
    else {
        return;
    };
    for d in tree_nodes(doc, fields) {
        // Widgets on pages were already reported with their page.
        let is_widget = dict_get(doc, d, b"Subtype").and_then(|o| o.as_name().ok()).is_some_and(|s| s == b"Widget");
        let has_widget_kids = dict_get(doc, d, b"Kids").is_some();
        if is_widget || has_widget_kids {
            continue;
        }
        if let Some(Object::String(s, _)) = dict_get(doc, d, b"V") {
            let v: String = text_string(s).chars().take(MAX_FIELD_CHARS).collect();
            push_hidden(out, &v, Hidden::Annotation, &Origin::part("acroform").with_element("form_field"));
        }
    }
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let folded: Vec<&str> = out.split_whitespace().collect();
    folded
        .join(" ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
}

fn metadata(doc: &Document, budget: &Budget, out: &mut Extracted) {
    if let Some(info) = doc.trailer.get(b"Info").ok().map(|o| deref(doc, o)).and_then(|o| o.as_dict().ok()) {
        for (k, _) in info.iter().take(1000) {
            if k == b"CreationDate" || k == b"ModDate" || k == b"Trapped" {
                continue;
            }
            if let Some(t) = str_of(doc, info, k) {
                let key = String::from_utf8_lossy(k).into_owned();
                push_hidden(out, &t, Hidden::Metadata, &Origin::part("info").with_element(key));
            }
        }
    }
    let xmp = doc
        .catalog()
        .ok()
        .and_then(|c| dict_get(doc, c, b"Metadata"))
        .and_then(|o| o.as_stream().ok())
        .and_then(|s| filters::decode_stream(doc, s, budget).ok().flatten());
    if let Some(x) = xmp {
        let s = String::from_utf8_lossy(x.get(..x.len().min(4 << 20)).unwrap_or(&[])).into_owned();
        // Drop the XML packet header processing instructions, keep element text.
        let t = strip_tags(&s);
        push_hidden(out, &t, Hidden::Metadata, &Origin::part("xmp"));
    }
}

fn outlines(doc: &Document, out: &mut Extracted) {
    let Some(first) = doc
        .catalog()
        .ok()
        .and_then(|c| dict_get(doc, c, b"Outlines"))
        .and_then(|o| o.as_dict().ok())
        .and_then(|o| o.get(b"First").ok())
    else {
        return;
    };
    let mut stack: Vec<&Object> = vec![first];
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut titles = Vec::new();
    while let Some(o) = stack.pop() {
        if seen.len() > MAX_TREE_NODES {
            break;
        }
        if let Object::Reference(id) = o {
            if !seen.insert(*id) {
                continue;
            }
        }
        let Ok(d) = deref(doc, o).as_dict() else {
            continue;
        };
        if let Some(t) = str_of(doc, d, b"Title") {
            titles.push(t);
        }
        if let Ok(n) = d.get(b"Next") {
            stack.push(n);
        }
        if let Ok(c) = d.get(b"First") {
            stack.push(c);
        }
    }
    for t in titles {
        push_hidden(out, &t, Hidden::Metadata, &Origin::part("outline"));
    }
}

fn embedded_files(doc: &Document, budget: &Budget, out: &mut Extracted) -> Result<(), ExtractError> {
    let Some(tree) = doc
        .catalog()
        .ok()
        .and_then(|c| dict_get(doc, c, b"Names"))
        .and_then(|o| o.as_dict().ok())
        .and_then(|n| dict_get(doc, n, b"EmbeddedFiles"))
    else {
        return Ok(());
    };
    for (name, spec) in name_tree(doc, tree) {
        if let Ok(fs) = deref(doc, spec).as_dict() {
            attachment(doc, fs, Some(name), budget, out)?;
        }
    }
    Ok(())
}

/// Leaves of a name tree, walked with a visited set and a node cap.
fn name_tree<'a>(doc: &'a Document, root: &'a Object) -> Vec<(String, &'a Object)> {
    let mut out = Vec::new();
    for d in tree_nodes(doc, std::slice::from_ref(root)) {
        if let Some(Object::Array(names)) = dict_get(doc, d, b"Names") {
            for pair in names.chunks(2) {
                if let [k, v] = pair {
                    let key = match deref(doc, k) {
                        Object::String(s, _) => text_string(s),
                        _ => String::new(),
                    };
                    out.push((key, v));
                }
            }
        }
    }
    out
}

/// Every dictionary node of a `/Kids` tree (AcroForm fields, name trees), depth first, with a
/// visited set against cycles and a node cap against bombs.
fn tree_nodes<'a>(doc: &'a Document, roots: &'a [Object]) -> Vec<&'a Dictionary> {
    let mut out = Vec::new();
    let mut stack: Vec<&Object> = roots.iter().collect();
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut n = 0;
    while let Some(o) = stack.pop() {
        n += 1;
        if n > MAX_TREE_NODES {
            break;
        }
        if let Object::Reference(id) = o {
            if !seen.insert(*id) {
                continue;
            }
        }
        let Ok(d) = deref(doc, o).as_dict() else {
            continue;
        };
        if let Some(Object::Array(kids)) = dict_get(doc, d, b"Kids") {
            stack.extend(kids.iter());
        }
        out.push(d);
    }
    out
}

fn attachment(
    doc: &Document,
    fs: &Dictionary,
    tree_name: Option<String>,
    budget: &Budget,
    out: &mut Extracted,
) -> Result<(), ExtractError> {
    let name =
        str_of(doc, fs, b"UF").or_else(|| str_of(doc, fs, b"F")).or(tree_name).unwrap_or_else(|| "unnamed".into());
    let name: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    let ef = dict_get(doc, fs, b"EF").and_then(|o| o.as_dict().ok());
    let stream =
        ef.and_then(|e| dict_get(doc, e, b"F").or_else(|| dict_get(doc, e, b"UF"))).and_then(|o| o.as_stream().ok());
    out.signal(SignalKind::EmbeddedFile, "pdf carries an embedded file", Origin::part(format!("attachment:{name}")));
    let Some(stream) = stream else { return Ok(()) };
    let Some(data) = filters::decode_stream(doc, stream, budget)? else {
        return Ok(());
    };
    let ext = std::path::Path::new(&name).extension().and_then(|e| e.to_str()).map(str::to_owned);
    let kind = match crate::sniff::sniff(&data, ext.as_deref()) {
        crate::sniff::Sniffed::Accept(k) => k,
        crate::sniff::Sniffed::Reject { .. } => {
            // Unnamed or mislabeled: still read it if it is plain text by content.
            match crate::sniff::sniff(&data, Some("txt")) {
                crate::sniff::Sniffed::Accept(k) => k,
                crate::sniff::Sniffed::Reject { .. } => return Ok(()),
            }
        }
    };
    let nested = budget.nested()?;
    let inner = match crate::extract::extract(kind, &data, &nested) {
        Ok(x) => x,
        Err(e @ ExtractError::Limit { .. }) | Err(e @ ExtractError::TimedOut(_)) => return Err(e),
        Err(_) => return Ok(()),
    };
    let origin = Origin::part(format!("attachment:{name}"));
    out.paragraph_break();
    let mut pos = 0;
    for sp in &inner.spans {
        if sp.start > pos {
            if let Some(t) = inner.text.get(pos..sp.start) {
                out.push(t, Visibility::hidden(Hidden::Attachment), &origin);
            }
        }
        if let Some(t) = inner.text.get(sp.start..sp.end) {
            out.push_flagged(t, sp.visibility.with(Hidden::Attachment), &origin, sp.unmapped_font);
        }
        pos = sp.end;
    }
    if let Some(t) = inner.text.get(pos..) {
        out.push(t, Visibility::hidden(Hidden::Attachment), &origin);
    }
    out.paragraph_break();
    for s in inner.signals {
        out.signals.push(s);
    }
    Ok(())
}

/// JavaScript and launch actions anywhere in the object graph.
fn active_content(doc: &Document, out: &mut Extracted) {
    let mut js = 0usize;
    let mut launch = 0usize;
    for obj in doc.objects.values() {
        let d = match obj {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        let s = d.get(b"S").ok().and_then(|o| o.as_name().ok());
        if s == Some(b"JavaScript") || d.has(b"JS") {
            js += 1;
        }
        if s == Some(b"Launch") {
            launch += 1;
        }
    }
    let names_js = doc
        .catalog()
        .ok()
        .and_then(|c| dict_get(doc, c, b"Names"))
        .and_then(|o| o.as_dict().ok())
        .is_some_and(|n| n.has(b"JavaScript"));
    if js > 0 || names_js {
        out.signal(SignalKind::JavaScript, format!("pdf contains {js} JavaScript action(s)"), Origin::default());
    }
    if launch > 0 {
        out.signal(SignalKind::LaunchAction, format!("pdf contains {launch} launch action(s)"), Origin::default());
    }
}

#[cfg(test)]
mod tests;
