//! Checksum and structure validators named by rules (`validator = "luhn"`).
//!
//! A closed set: a rule naming an unknown validator fails to load. Validators see the matched
//! value only and return whether it is a plausible real value. They exist because a regex alone
//! cannot tell a real identifier from a same-shaped number: check digits (Luhn, mod-97, mod-11,
//! Verhoeff, CRC32, base58check, bech32) reject almost every random look-alike, which is what
//! lets PII rules run without context words. Every function here is total: it never panics,
//! allocates at most a small multiple of the (already regex-bounded) value, and does not recurse.

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Luhn mod-10 only (12–19 digits).
    Luhn,
    /// Payment card: Luhn plus a known issuer range and a length that issuer uses.
    PaymentCard,
    /// GitHub classic tokens (`ghp_` …): the last 6 base62 chars are the CRC32 of the rest.
    GithubCrc32,
    /// A `ghp_`-shaped token whose CRC32 does *not* verify (made-up, mistyped, or a format
    /// revision): reported by a separate lower-confidence rule so the two never double-report.
    GithubUnverified,
    /// JSON Web Token: the header decodes (base64url) to a JSON object with an `alg` member.
    Jwt,
    /// IBAN: per-country length and ISO 7064 mod-97 = 1.
    Iban,
    /// US Social Security number: area not 000/666/9xx, group not 00, serial not 0000.
    UsSsn,
    /// US ITIN: 9xx, group in the IRS ranges (50–65, 70–88, 90–92, 94–99).
    UsItin,
    /// ABA routing transit number: 3-7-1 weighted checksum and a Federal Reserve prefix.
    AbaRouting,
    /// UK NHS number: mod-11 check digit.
    UkNhs,
    /// UK National Insurance number: HMRC prefix rules and suffix A–D.
    UkNino,
    /// French NIR (numéro de sécurité sociale): 97 − (number mod 97) key, Corsica 2A/2B.
    FrNir,
    /// Spanish DNI/NIE: mod-23 control letter.
    EsDni,
    /// Italian codice fiscale: odd/even table check character.
    ItCodiceFiscale,
    /// Indian Aadhaar: 12 digits, not starting with 0/1, Verhoeff check digit.
    Aadhaar,
    /// Indian PAN: holder-type letter in the fifth position.
    InPan,
    /// Bitcoin legacy address (P2PKH/P2SH): base58check with version 0x00 or 0x05.
    BtcBase58,
    /// Bitcoin segwit address: bech32 (v0) or bech32m (v1+) checksum, hrp `bc`/`tb`.
    Bech32,
    /// Ethereum address: 40 hex digits, not degenerate (no keccak crate: no EIP-55 check).
    EthAddress,
    /// IPv4 dotted quad with valid octets and no leading-zero octet (`0.0.0.0` and the broadcast
    /// address are addresses too: the labelling policy counts every IP address).
    Ipv4,
    /// IPv6 in full or compressed form (parsed by the standard library).
    Ipv6,
    /// MAC-48 address with one separator style, not all zeros or all ones.
    Mac,
    /// German Steuer-ID: 11 digits, no leading zero, ISO 7064 MOD 11,10 check digit.
    DeSteuerId,
    /// German Steuer-ID as issued: the check digit *and* the digit pattern of the first ten
    /// (exactly one digit repeated, twice or three times, never three in a row): strong enough
    /// for a bare 11-digit run.
    DeSteuerIdStrict,
    /// HTTP Basic credentials (RFC 7617): standard base64 of `user:password`, both printable,
    /// the password not a placeholder.
    BasicAuthB64,
    /// Polish PESEL: weighted check digit and a valid birth date.
    PlPesel,
    /// Finnish henkilötunnus: valid date, century sign, mod-31 check character.
    FiHetu,
    /// Swedish personnummer: valid date and Luhn over the 10-digit form.
    SePersonnummer,
    /// Canadian SIN: 9 digits, Luhn, first digit not 0 or 8.
    CaSin,
    /// Australian TFN: 9 digits, weighted mod-11.
    AuTfn,
    /// Singapore NRIC/FIN: weighted check letter.
    SgNric,
    /// Phone number: 8 to 15 digits (E.164 maximum), not one repeated digit.
    Phone,
    /// North American (NANP) number: area code and exchange start with 2–9, not N11 service codes.
    Nanp,
    /// IPv6 address (any form, `::` and `::1` included) with an optional `/0..=128` prefix length.
    Ipv6Cidr,
    /// A generic secret value: not a reference to a variable, a call or a placeholder, and
    /// mixed enough to be a credential rather than a word.
    SecretValue,
    /// A value assigned to a password-named key: may be a single word (people choose
    /// passwords), but not a reference, a placeholder, a type name, a label or a field name.
    PasswordValue,
    /// `secret_value` for the generic assignment rules, which also defer to a vendor rule: when
    /// the key names a credential with a documented fixed format (`secret_access_key`: AWS or
    /// IBM COS HMAC) and the value does not have that format, the vendor rule has already
    /// decided it is not that credential, and a generic finding would only second-guess it.
    GenericSecret,
}

impl Validator {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "luhn" => Validator::Luhn,
            "payment_card" => Validator::PaymentCard,
            "github_crc32" => Validator::GithubCrc32,
            "github_unverified" => Validator::GithubUnverified,
            "jwt" => Validator::Jwt,
            "iban" => Validator::Iban,
            "us_ssn" => Validator::UsSsn,
            "us_itin" => Validator::UsItin,
            "aba_routing" => Validator::AbaRouting,
            "uk_nhs" => Validator::UkNhs,
            "uk_nino" => Validator::UkNino,
            "fr_nir" => Validator::FrNir,
            "es_dni" => Validator::EsDni,
            "it_codice_fiscale" => Validator::ItCodiceFiscale,
            "aadhaar" => Validator::Aadhaar,
            "in_pan" => Validator::InPan,
            "btc_base58" => Validator::BtcBase58,
            "bech32" => Validator::Bech32,
            "eth_address" => Validator::EthAddress,
            "ipv4" => Validator::Ipv4,
            "ipv6" => Validator::Ipv6,
            "mac" => Validator::Mac,
            "de_steuer_id" => Validator::DeSteuerId,
            "de_steuer_id_strict" => Validator::DeSteuerIdStrict,
            "basic_auth_b64" => Validator::BasicAuthB64,
            "pl_pesel" => Validator::PlPesel,
            "fi_hetu" => Validator::FiHetu,
            "se_personnummer" => Validator::SePersonnummer,
            "ca_sin" => Validator::CaSin,
            "au_tfn" => Validator::AuTfn,
            "sg_nric" => Validator::SgNric,
            "secret_value" => Validator::SecretValue,
            "password_value" => Validator::PasswordValue,
            "generic_secret" => Validator::GenericSecret,
            "phone" => Validator::Phone,
            "nanp" => Validator::Nanp,
            "ipv6_cidr" => Validator::Ipv6Cidr,
            _ => return None,
        })
    }

    pub fn validate(self, value: &str) -> bool {
        match self {
            Validator::Luhn => luhn(value),
            Validator::PaymentCard => payment_card(value),
            Validator::GithubCrc32 => github_crc32(value),
            Validator::GithubUnverified => !github_crc32(value),
            Validator::Jwt => jwt(value),
            Validator::Iban => iban(value),
            Validator::UsSsn => us_ssn(value),
            Validator::UsItin => us_itin(value),
            Validator::AbaRouting => aba_routing(value),
            Validator::UkNhs => uk_nhs(value),
            Validator::UkNino => uk_nino(value),
            Validator::FrNir => fr_nir(value),
            Validator::EsDni => es_dni(value),
            Validator::ItCodiceFiscale => it_codice_fiscale(value),
            Validator::Aadhaar => aadhaar(value),
            Validator::InPan => in_pan(value),
            Validator::BtcBase58 => btc_base58(value),
            Validator::Bech32 => bech32(value),
            Validator::EthAddress => eth_address(value),
            Validator::Ipv4 => ipv4(value),
            Validator::Ipv6 => ipv6(value),
            Validator::Mac => mac(value),
            Validator::DeSteuerId => de_steuer_id(value),
            Validator::DeSteuerIdStrict => de_steuer_id_strict(value),
            Validator::BasicAuthB64 => basic_auth_b64(value),
            Validator::PlPesel => pl_pesel(value),
            Validator::FiHetu => fi_hetu(value),
            Validator::SePersonnummer => se_personnummer(value),
            Validator::CaSin => ca_sin(value),
            Validator::AuTfn => au_tfn(value),
            Validator::SgNric => sg_nric(value),
            Validator::SecretValue => secret_value(value),
            Validator::PasswordValue => password_value(value),
            Validator::GenericSecret => secret_value(value),
            Validator::Phone => phone(value),
            Validator::Nanp => nanp(value),
            Validator::Ipv6Cidr => ipv6_cidr(value),
        }
    }
}

/// The decimal digits of `s`, separators dropped; `None` when more than `max` of them.
impl Validator {
    /// Like `validate`, for validators that also read the rest of the match (`whole`, which
    /// contains `value`): the key a generic value is assigned to.
    pub fn validate_match(self, value: &str, whole: &str) -> bool {
        match self {
            Validator::GenericSecret => secret_value(value) && !vendor_format_mismatch(value, whole),
            _ => self.validate(value),
        }
    }
}

/// Keys owned by a vendor rule with a fixed documented value format. Matched on the key with
/// separators removed and lower-cased (`AWS_SECRET_ACCESS_KEY`, `secretAccessKey`).
fn vendor_format_mismatch(value: &str, whole: &str) -> bool {
    let key_end = whole.rfind(value).unwrap_or(whole.len());
    let key: String =
        whole[..key_end].bytes().filter(u8::is_ascii_alphanumeric).map(|b| b.to_ascii_lowercase() as char).collect();
    let v = value.trim_matches(|c| c == '"' || c == '\'' || c == '`');
    let b = v.as_bytes();
    if key.contains("secretaccesskey") {
        // AWS: 40 base64 characters; IBM Cloud Object Storage HMAC: 48 hex digits.
        let aws = b.len() == 40 && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+');
        let ibm = b.len() == 48 && b.iter().all(u8::is_ascii_hexdigit);
        return !(aws || ibm);
    }
    if key.contains("ibm")
        && (key.ends_with("apikey") || key.ends_with("key") || key.ends_with("pwd") || key.ends_with("password"))
    {
        // IBM Cloud IAM API key: 44 URL-safe base64 characters.
        return !(b.len() == 44 && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-'));
    }
    false
}

fn digits(s: &str, max: usize) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for c in s.chars() {
        if let Some(d) = c.to_digit(10) {
            if out.len() == max {
                return None;
            }
            out.push(d);
        }
    }
    Some(out)
}

fn all_same(d: &[u32]) -> bool {
    d.windows(2).all(|w| w[0] == w[1])
}

fn luhn_digits(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Luhn mod-10 over the digits of `s` (separators ignored); needs 12 to 19 digits.
pub fn luhn(s: &str) -> bool {
    match digits(s, 19) {
        Some(d) if d.len() >= 12 => luhn_digits(&d),
        _ => false,
    }
}

fn prefix_num(d: &[u32], n: usize) -> u32 {
    d.iter().take(n).fold(0, |a, &x| a * 10 + x)
}

/// Luhn, issuer range and issuer length; degenerate numbers (one repeated digit) are rejected.
pub fn payment_card(s: &str) -> bool {
    let Some(d) = digits(s, 19) else { return false };
    let n = d.len();
    if !(12..=19).contains(&n) || all_same(&d) || !luhn_digits(&d) {
        return false;
    }
    // Grouping must be consistent: one separator kind at most.
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    if seps.windows(2).any(|w| w[0] != w[1]) {
        return false;
    }
    let p1 = prefix_num(&d, 1);
    let p2 = prefix_num(&d, 2);
    let p3 = prefix_num(&d, 3);
    let p4 = prefix_num(&d, 4);
    let p6 = prefix_num(&d, 6);
    let visa = p1 == 4 && matches!(n, 13 | 16 | 19);
    let mastercard = ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && n == 16;
    let amex = (p2 == 34 || p2 == 37) && n == 15;
    let discover = (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6))
        && (16..=19).contains(&n);
    let jcb = (3528..=3589).contains(&p4) && (16..=19).contains(&n);
    let diners = ((300..=305).contains(&p3) || p3 == 309 || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&n);
    let unionpay = p2 == 62 && (16..=19).contains(&n);
    let maestro = (p2 == 50 || (56..=69).contains(&p2)) && (12..=19).contains(&n);
    let uatp = p1 == 1 && n == 15;
    visa || mastercard || amex || discover || jcb || diners || unionpay || maestro || uatp
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62_6(mut n: u32) -> [u8; 6] {
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = flate2::Crc::new();
    c.update(data);
    c.sum()
}

/// `pfx_` + 30 random base62 + 6 base62 CRC32 of the random part. GitHub's documentation does
/// not say whether the prefix is hashed, so both readings are accepted (a 2 in 62^6 chance for
/// a random string).
pub fn github_crc32(s: &str) -> bool {
    let Some((prefix, body)) = s.split_once('_') else {
        return false;
    };
    if body.len() != 36 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, check) = body.split_at(30);
    let check = check.as_bytes();
    if base62_6(crc32(random.as_bytes())) == check {
        return true;
    }
    let mut whole = Vec::with_capacity(prefix.len() + 31);
    whole.extend_from_slice(prefix.as_bytes());
    whole.push(b'_');
    whole.extend_from_slice(random.as_bytes());
    base62_6(crc32(&whole)) == check
}

fn b64url_json(seg: &str) -> Option<serde_json::Value> {
    let seg = seg.trim_end_matches('=');
    if seg.len() > 8192 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(seg).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A base64url segment decoded and read as UTF-8 with replacement characters.
fn b64url_lossy(seg: &str) -> Option<String> {
    let seg = seg.trim_end_matches('=');
    if seg.len() > 8192 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(seg).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `dXNlcjpwYXNz` → `user:pass`: a user of printable characters without `:`, then a password
/// of at least four printable characters (a docker `auths` entry, an `Authorization: Basic`).
pub fn basic_auth_b64(s: &str) -> bool {
    if s.len() > 1024 {
        return false;
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s) else { return false };
    let Ok(text) = std::str::from_utf8(&bytes) else { return false };
    let Some((user, pass)) = text.split_once(':') else { return false };
    let printable = |t: &str| t.chars().all(|c| !c.is_control());
    !user.is_empty() && pass.chars().count() >= 4 && printable(user) && printable(pass) && !pass.starts_with('$')
}

/// Two or three dot-separated base64url segments; the header is a JSON object naming `alg`,
/// and a present payload is a JSON object too.
pub fn jwt(s: &str) -> bool {
    let mut parts = s.split('.');
    let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
        return false;
    };
    let sig = parts.next();
    if parts.next().is_some() {
        return false;
    }
    match b64url_json(h) {
        Some(serde_json::Value::Object(header)) if !header.get("alg").is_some_and(|a| a.is_string()) => return false,
        Some(serde_json::Value::Object(_)) => {}
        // A token with a damaged byte (copy-paste, redaction by hand) is still a token: the
        // header must still read as a JSON object naming `alg`.
        _ if !b64url_lossy(h).is_some_and(|t| t.starts_with("{\"") && t.contains("\"alg\"")) => return false,
        _ => {}
    }
    if !p.is_empty()
        && !matches!(b64url_json(p), Some(serde_json::Value::Object(_)))
        && !b64url_lossy(p).is_some_and(|t| t.starts_with('{'))
    {
        return false;
    }
    if let Some(sig) = sig {
        if !sig.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=') {
            return false;
        }
    }
    true
}

/// Registered IBAN lengths by country (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// Country length table and mod-97 over the rearranged alphanumeric form. A short trailing
/// group that breaks the check is retried without it (`… 8901 X in a sentence`).
pub fn iban(s: &str) -> bool {
    if iban_exact(s) {
        return true;
    }
    match s.rfind([' ', '-']) {
        Some(i) if s.len() - i <= 4 => iban_exact(&s[..i]),
        _ => false,
    }
}

fn iban_exact(s: &str) -> bool {
    let compact: Vec<u8> = s.bytes().filter(|b| !matches!(b, b' ' | b'-')).map(|b| b.to_ascii_uppercase()).collect();
    if compact.len() < 15 || compact.len() > 34 || !compact.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let (head, tail) = compact.split_at(4);
    let country = std::str::from_utf8(&head[..2]).unwrap_or("");
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country) else {
        return false;
    };
    if compact.len() != len || !head[2].is_ascii_digit() || !head[3].is_ascii_digit() {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in tail.iter().chain(head.iter()) {
        let v = if b.is_ascii_digit() { (b - b'0') as u32 } else { (b - b'A') as u32 + 10 };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

fn nine(s: &str) -> Option<[u32; 9]> {
    let d = digits(s, 9)?;
    d.try_into().ok()
}

/// Area 001–665, 667–899; group 01–99; serial 0001–9999; not a famous misused number.
pub fn us_ssn(s: &str) -> bool {
    let Some(d) = nine(s) else { return false };
    let area = prefix_num(&d, 3);
    let group = d[3] * 10 + d[4];
    let serial = prefix_num(&d[5..], 4);
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    // Repeated or running digits are test data, not people; 078-05-1120 (the Woolworth wallet
    // insert) and 219-09-9999 (an SSA advertisement) were printed as samples and voided.
    !(all_same(&d)
        || d == [1, 2, 3, 4, 5, 6, 7, 8, 9]
        || d == [0, 7, 8, 0, 5, 1, 1, 2, 0]
        || d == [2, 1, 9, 0, 9, 9, 9, 9, 9])
}

pub fn us_itin(s: &str) -> bool {
    let Some(d) = nine(s) else { return false };
    let group = d[3] * 10 + d[4];
    d[0] == 9
        && ((50..=65).contains(&group)
            || (70..=88).contains(&group)
            || (90..=92).contains(&group)
            || (94..=99).contains(&group))
}

pub fn aba_routing(s: &str) -> bool {
    let Some(d) = nine(s) else { return false };
    let p = d[0] * 10 + d[1];
    if !(p <= 12 || (21..=32).contains(&p) || (61..=72).contains(&p) || p == 80) || all_same(&d) {
        return false;
    }
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
    sum % 10 == 0
}

pub fn uk_nhs(s: &str) -> bool {
    let Some(d) = digits(s, 10) else { return false };
    if d.len() != 10 || all_same(&d) {
        return false;
    }
    let sum: u32 = d.iter().take(9).enumerate().map(|(i, &x)| x * (10 - i as u32)).sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == d[9]
}

pub fn uk_nino(s: &str) -> bool {
    let c: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 9 {
        return false;
    }
    let (a, b) = (c[0], c[1]);
    if !a.is_ascii_uppercase() || !b.is_ascii_uppercase() {
        return false;
    }
    if b"DFIQUV".contains(&a) || b"DFIOQUV".contains(&b) {
        return false;
    }
    if matches!(&c[..2], b"BG" | b"GB" | b"NK" | b"KN" | b"TN" | b"NT" | b"ZZ") {
        return false;
    }
    c[2..8].iter().all(u8::is_ascii_digit) && matches!(c[8], b'A'..=b'D')
}

/// 15 characters: sex, year, month, department (2A/2B for Corsica), commune, order, key.
pub fn fr_nir(s: &str) -> bool {
    let c: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 15 || !matches!(c[0], b'1' | b'2') {
        return false;
    }
    let month = (c[3].wrapping_sub(b'0') as u32) * 10 + c[4].wrapping_sub(b'0') as u32;
    if !((1..=12).contains(&month) || (20..=42).contains(&month) || (50..=99).contains(&month)) {
        return false;
    }
    let mut body = String::with_capacity(13);
    let mut corsica = 0u64;
    for (i, &b) in c[..13].iter().enumerate() {
        match b {
            b'0'..=b'9' => body.push(b as char),
            b'A' if i == 6 => {
                body.push('0');
                corsica = 1_000_000;
            }
            b'B' if i == 6 => {
                body.push('0');
                corsica = 2_000_000;
            }
            _ => return false,
        }
    }
    let Ok(mut n) = body.parse::<u64>() else {
        return false;
    };
    // 2A → 19 and 2B → 18 in the department digits (positions 6..8 of 13).
    if corsica == 1_000_000 {
        n -= 1_000_000;
    } else if corsica == 2_000_000 {
        n -= 2_000_000;
    }
    let key: u64 = match std::str::from_utf8(&c[13..]).ok().and_then(|k| k.parse().ok()) {
        Some(k) => k,
        None => return false,
    };
    (1..=97).contains(&key) && 97 - n % 97 == key
}

/// DNI `12345678Z` or NIE `X1234567L`: control letter = table[number mod 23].
pub fn es_dni(s: &str) -> bool {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let c: Vec<u8> = s.bytes().filter(|b| b.is_ascii_alphanumeric()).map(|b| b.to_ascii_uppercase()).collect();
    let Some((&letter, rest)) = c.split_last() else {
        return false;
    };
    let (lead, num) = match rest.first() {
        Some(b'X') => (0u64, &rest[1..]),
        Some(b'Y') => (1, &rest[1..]),
        Some(b'Z') => (2, &rest[1..]),
        _ => (0, rest),
    };
    // DNI: 7 or 8 digits (a leading zero is often dropped); NIE: letter + 7 digits.
    let ok_len = if rest.len() == num.len() { (7..=8).contains(&num.len()) } else { num.len() == 7 };
    if !ok_len || !num.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = num.iter().fold(lead, |a, &b| a * 10 + (b - b'0') as u64);
    LETTERS[(n % 23) as usize] == letter
}

pub fn it_codice_fiscale(s: &str) -> bool {
    const ODD: [u32; 36] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, // 0-9
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23, // A-Z
    ];
    let c: Vec<u8> = s.bytes().map(|b| b.to_ascii_uppercase()).collect();
    if c.len() != 16 || !c.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in c[..15].iter().enumerate() {
        let idx = if b.is_ascii_digit() { (b - b'0') as usize } else { (b - b'A') as usize + 10 };
        sum += if i % 2 == 0 {
            ODD[idx]
        } else if b.is_ascii_digit() {
            (b - b'0') as u32
        } else {
            (b - b'A') as u32
        };
    }
    if c[15] != b'A' + (sum % 26) as u8 {
        return false;
    }
    // Month letter and day of birth (women: day + 40). Omocodic codes, issued when two people
    // would share a code, replace digits with the letters L..V; those decode to the same digit.
    let omocode = |b: u8| match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        _ => b"LMNPQRSTUV".iter().position(|&x| x == b).map(|p| p as u32),
    };
    let Some(day) = omocode(c[9]).zip(omocode(c[10])).map(|(a, b)| a * 10 + b) else {
        return false;
    };
    b"ABCDEHLMPRST".contains(&c[8]) && ((1..=31).contains(&day) || (41..=71).contains(&day))
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

fn verhoeff(d: &[u32]) -> bool {
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = VERHOEFF_D[c as usize][VERHOEFF_P[i % 8][(x % 10) as usize] as usize];
    }
    c == 0
}

pub fn aadhaar(s: &str) -> bool {
    let Some(d) = digits(s, 12) else { return false };
    d.len() == 12 && d[0] >= 2 && !all_same(&d) && verhoeff(&d)
}

pub fn in_pan(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[..5].iter().all(u8::is_ascii_uppercase)
        && b"PCHFATBLJG".contains(&b[3])
        && b[5..9].iter().all(u8::is_ascii_digit)
        && b[9].is_ascii_uppercase()
}

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn base58_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() > 64 {
        return None;
    }
    // Big-endian base-256 accumulator; at most ~48 bytes for 64 chars.
    let mut out: Vec<u8> = Vec::with_capacity(48);
    for c in s.bytes() {
        let mut carry = BASE58.iter().position(|&x| x == c)? as u32;
        for b in out.iter_mut().rev() {
            carry += (*b as u32) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&b| b == b'1').count();
    let mut v = vec![0u8; zeros];
    v.extend(out);
    Some(v)
}

pub fn btc_base58(s: &str) -> bool {
    let Some(raw) = base58_decode(s) else {
        return false;
    };
    if raw.len() != 25 || !matches!(raw[0], 0x00 | 0x05 | 0x6f | 0xc4) {
        return false;
    }
    let (payload, check) = raw.split_at(21);
    let h = Sha256::digest(Sha256::digest(payload));
    h[..4] == *check
}

fn bech32_polymod(values: &[u8]) -> u32 {
    const GEN: [u32; 5] = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let mut chk: u32 = 1;
    for &v in values {
        let b = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v as u32;
        for (i, g) in GEN.iter().enumerate() {
            if (b >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

pub fn bech32(s: &str) -> bool {
    const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    if s.len() > 90 || (s.bytes().any(|b| b.is_ascii_lowercase()) && s.bytes().any(|b| b.is_ascii_uppercase())) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let Some(pos) = lower.rfind('1') else {
        return false;
    };
    let (hrp, data) = (&lower[..pos], &lower[pos + 1..]);
    if !matches!(hrp, "bc" | "tb") || data.len() < 6 {
        return false;
    }
    let mut values: Vec<u8> = Vec::with_capacity(hrp.len() * 2 + 1 + data.len());
    values.extend(hrp.bytes().map(|b| b >> 5));
    values.push(0);
    values.extend(hrp.bytes().map(|b| b & 31));
    let mut dv = Vec::with_capacity(data.len());
    for b in data.bytes() {
        match CHARSET.iter().position(|&c| c == b) {
            Some(p) => dv.push(p as u8),
            None => return false,
        }
    }
    let version = dv.first().copied().unwrap_or(255);
    values.extend_from_slice(&dv);
    let pm = bech32_polymod(&values);
    (version == 0 && pm == 1) || ((1..=16).contains(&version) && pm == 0x2bc830a3)
}

pub fn eth_address(s: &str) -> bool {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")).unwrap_or(s);
    hex.len() == 40
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
        && hex.bytes().filter(|&b| b == b'0').count() < 30
        && shannon_entropy(hex) > 3.0
}

pub fn ipv4(s: &str) -> bool {
    let mut octets = [0u32; 4];
    let mut n = 0;
    for part in s.split('.') {
        if n == 4 || part.is_empty() || part.len() > 3 || (part.len() > 1 && part.starts_with('0')) {
            return false;
        }
        let Ok(v) = part.parse::<u32>() else {
            return false;
        };
        if v > 255 {
            return false;
        }
        octets[n] = v;
        n += 1;
    }
    n == 4
}

pub fn ipv6(s: &str) -> bool {
    if s.len() > 45 || s.matches(':').count() < 2 {
        return false;
    }
    match s.parse::<std::net::Ipv6Addr>() {
        // `::` and tiny forms like `1::` are far more often code (C++ scopes) than addresses.
        Ok(a) => {
            let groups: Vec<&str> = s.split(':').filter(|g| !g.is_empty()).collect();
            s.contains('.')
                || (a.segments().iter().filter(|&&x| x != 0).count() >= 2
                    && (groups.len() >= 4 || groups.iter().any(|g| g.len() >= 3)))
        }
        Err(_) => false,
    }
}

/// `::1`, `fe80::/10`, `::/0`: the forms [`ipv6`] leaves out because bare they look like code
/// scopes; rules using this one supply the surrounding evidence (a prefix length, a context).
pub fn ipv6_cidr(s: &str) -> bool {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    if addr.len() > 45 || !addr.contains("::") && addr.matches(':').count() != 7 {
        return false;
    }
    if let Some(l) = len {
        if l.is_empty()
            || l.len() > 3
            || !l.bytes().all(|b| b.is_ascii_digit())
            || l.parse::<u32>().map_or(true, |n| n > 128)
        {
            return false;
        }
    }
    addr.parse::<std::net::Ipv6Addr>().is_ok()
}

pub fn mac(s: &str) -> bool {
    let seps: Vec<char> = s.chars().filter(|c| matches!(c, ':' | '-' | '.')).collect();
    // Dotted (Cisco) form: all-digit groups are far more often versions or numbers.
    let cisco = seps.len() == 2 && seps.iter().all(|&c| c == '.') && s.bytes().any(|b| b.is_ascii_alphabetic());
    if !cisco && (seps.len() != 5 || seps.windows(2).any(|w| w[0] != w[1]) || seps[0] == '.') {
        return false;
    }
    let hex: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    if hex.len() != 12 {
        return false;
    }
    let upper: Vec<u8> = hex.iter().map(|b| b.to_ascii_uppercase()).collect();
    !(upper.iter().all(|&b| b == b'0') || upper.iter().all(|&b| b == b'F'))
}

/// ISO 7064 MOD 11,10 check digit.
fn mod11_10(d: &[u32]) -> Option<u32> {
    let mut product = 10u32;
    for &x in d {
        let mut sum = (x + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    let c = 11 - product;
    Some(if c == 10 { 0 } else { c })
}

pub fn de_steuer_id(s: &str) -> bool {
    let Some(d) = digits(s, 11) else { return false };
    if d.len() != 11 || d[0] == 0 || all_same(&d) {
        return false;
    }
    mod11_10(&d[..10]) == Some(d[10])
}

/// The BZSt allocation rule for the first ten digits: one digit occurs exactly twice or three
/// times, every other at most once, and a tripled digit never fills three adjacent positions.
/// About 4% of random 10-digit prefixes qualify; with the check digit, ~0.3% of random
/// 11-digit numbers pass, and phone-like numbers (several repeated digits) almost never do.
pub fn de_steuer_id_strict(s: &str) -> bool {
    if !de_steuer_id(s) {
        return false;
    }
    let Some(d) = digits(s, 11) else { return false };
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[(x % 10) as usize] += 1;
    }
    let repeated: Vec<u8> = counts.iter().copied().filter(|&c| c >= 2).collect();
    match repeated.as_slice() {
        [2] => true,
        [3] => !d[..10].windows(3).any(|w| w[0] == w[1] && w[1] == w[2]),
        _ => false,
    }
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    let dim = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => return false,
    };
    (1..=dim).contains(&day)
}

pub fn pl_pesel(s: &str) -> bool {
    let Some(d) = digits(s, 11) else { return false };
    if d.len() != 11 || all_same(&d) {
        return false;
    }
    const W: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
    let sum: u32 = d.iter().zip(W.iter()).map(|(a, b)| a * b).sum();
    if (10 - sum % 10) % 10 != d[10] {
        return false;
    }
    let yy = d[0] * 10 + d[1];
    let mm = d[2] * 10 + d[3];
    let dd = d[4] * 10 + d[5];
    // The format also encodes 1800s, 2100s and 2200s births; no living person has those, and
    // leaving them out cuts the chance that a random 11-digit number passes by more than half.
    let (century, month) = match mm {
        1..=12 => (1900, mm),
        21..=32 if yy <= 30 => (2000, mm - 20),
        _ => return false,
    };
    valid_date(century + yy, month, dd)
}

pub fn fi_hetu(s: &str) -> bool {
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    let b: Vec<u8> = s.bytes().map(|c| c.to_ascii_uppercase()).collect();
    if b.len() != 11 || !b[..6].iter().all(u8::is_ascii_digit) || !b[7..10].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |r: &[u8]| r.iter().fold(0u32, |a, &x| a * 10 + (x - b'0') as u32);
    let century = match b[6] {
        b'+' => 1800,
        b'-' | b'U' | b'V' | b'W' | b'X' | b'Y' => 1900,
        b'A' | b'B' | b'C' | b'D' | b'E' | b'F' => 2000,
        _ => return false,
    };
    if !valid_date(century + num(&b[4..6]), num(&b[2..4]), num(&b[0..2])) {
        return false;
    }
    let n = num(&b[0..6]) * 1000 + num(&b[7..10]);
    CHECK[(n % 31) as usize] == b[10]
}

pub fn se_personnummer(s: &str) -> bool {
    let Some(d) = digits(s, 12) else { return false };
    let ten: &[u32] = match d.len() {
        10 => &d,
        12 => {
            let cc = d[0] * 10 + d[1];
            if !(18..=20).contains(&cc) {
                return false;
            }
            &d[2..]
        }
        _ => return false,
    };
    let mm = ten[2] * 10 + ten[3];
    let mut dd = ten[4] * 10 + ten[5];
    // Samordningsnummer add 60 to the day.
    if dd > 60 {
        dd -= 60;
    }
    valid_date(2000 + ten[0] * 10 + ten[1], mm, dd) && !all_same(ten) && luhn_digits(ten)
}

pub fn ca_sin(s: &str) -> bool {
    let Some(d) = nine(s) else { return false };
    d[0] != 0 && d[0] != 8 && !all_same(&d) && luhn_digits(&d)
}

pub fn au_tfn(s: &str) -> bool {
    let Some(d) = nine(s) else { return false };
    const W: [u32; 9] = [1, 4, 3, 7, 5, 8, 6, 9, 10];
    let sum: u32 = d.iter().zip(W.iter()).map(|(a, b)| a * b).sum();
    !all_same(&d) && sum % 11 == 0
}

pub fn sg_nric(s: &str) -> bool {
    let b: Vec<u8> = s.bytes().map(|c| c.to_ascii_uppercase()).collect();
    if b.len() != 9 || !b[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const W: [u32; 7] = [2, 7, 6, 5, 4, 3, 2];
    let mut sum: u32 = b[1..8].iter().zip(W.iter()).map(|(&x, w)| (x - b'0') as u32 * w).sum();
    let table: &[u8; 11] = match b[0] {
        b'S' => b"JZIHGFEDCBA",
        b'T' => {
            sum += 4;
            b"JZIHGFEDCBA"
        }
        b'F' => b"XWUTRQPNMLK",
        b'G' => {
            sum += 4;
            b"XWUTRQPNMLK"
        }
        // M-series FINs (2022): offset 3 and the letters in the reverse order of `KLJNPQRTUWX`.
        b'M' => {
            sum += 3;
            b"XWUTRQPNJLK"
        }
        _ => return false,
    };
    table[(sum % 11) as usize] == b[8]
}

/// 10 digits after an optional leading country code 1: NXX-NXX-XXXX with N in 2–9, and the
/// area code not an N11 service code (211, 311 … 911).
pub fn nanp(s: &str) -> bool {
    let Some(mut d) = digits(s, 11) else { return false };
    if d.len() == 11 {
        if d[0] != 1 {
            return false;
        }
        d.remove(0);
    }
    d.len() == 10 && d[0] >= 2 && d[3] >= 2 && !(d[1] == 1 && d[2] == 1) && !all_same(&d)
}

pub fn phone(s: &str) -> bool {
    match digits(s, 15) {
        Some(d) => d.len() >= 8 && !all_same(&d),
        None => false,
    }
}

/// Words written where a password goes by people who mean no particular password: placeholders,
/// form labels, schema types, and "password" itself in the languages a corpus is likely to hold
/// (an i18n file maps `password` to `Passwort`, not to a credential).
#[rustfmt::skip]
const NOT_A_PASSWORD: &[&str] = &[
    "password", "passwd", "pass", "pwd", "passphrase", "passcode", "secret", "changeme", "changeit", "placeholder",
    "redacted", "removed", "hidden", "masked", "null", "none", "nil", "undefined", "empty", "blank", "true", "false",
    "yes", "no", "dummy", "example", "sample", "test", "testing", "fake", "foo", "bar", "foobar", "baz", "required",
    "optional", "notset", "unset", "default", "tbd", "todo", "string", "str", "text", "char", "varchar", "int",
    "integer", "number", "bool", "boolean", "object", "any", "bytes", "secretstr", "input", "field", "value", "type",
    "prompt", "ask", "stdin", "env", "environment", "file", "auto", "random", "generated", "login", "username", "user",
    "passwort", "kennwort", "contraseña", "contrasena", "senha", "wachtwoord", "motdepasse",
    "lösenord", "losenord", "adgangskode", "passord", "salasana", "hasło", "haslo", "heslo", "parola", "jelszó",
    "jelszo", "geslo", "lozinka", "parool", "пароль", "パスワード", "密码", "密碼", "비밀번호", "şifre", "sifre",
];

/// A placeholder, label or type name rather than a value: `Password:`, `String!`, `not-set`,
/// `your_password`, `a-fake-key`. `lower` is the lower-cased value.
fn names_no_value(lower: &str) -> bool {
    let trimmed = lower.trim_end_matches([':', '!', '?', ';', ',', '.', '*']);
    let squeezed: String = trimmed.chars().filter(|c| !matches!(c, '-' | '_' | ' ')).collect();
    NOT_A_PASSWORD.contains(&trimmed)
        || NOT_A_PASSWORD.contains(&squeezed.as_str())
        || ["your", "enter", "insert", "type"].iter().any(|p| squeezed.starts_with(p))
        || ["fake", "dummy", "placeholder", "changeme", "example", "sample"].iter().any(|w| squeezed.contains(w))
}

/// A value of a password-named key. Unlike [`secret_value`] there is no entropy or character
/// class gate (`blooberry` is a password); instead everything that stands *for* a password is
/// rejected: references, templates, placeholders and labels, type names, field names.
pub fn password_value(s: &str) -> bool {
    let v = s.trim_matches(|c| matches!(c, '"' | '\'' | '`' | '\\'));
    let n = v.chars().count();
    if !(4..=200).contains(&n) {
        return false;
    }
    let lower = v.to_lowercase();
    if names_no_value(&lower) {
        return false;
    }
    // YAML tags and aliases (`!vault`, `*default_pw`), shell and template references, paths,
    // and the fragments of code a misaligned quote pair yields (`.$p[`, `,next:`).
    let yaml_ref =
        v.starts_with(['!', '*', '&']) && v[1..].bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'!');
    if yaml_ref
        || v.starts_with(['%', '@', '<', '{', '$', '/', '.', ',', ';', '+', '=', '(', '['])
        || v.ends_with(['(', '[', '{', ',', ';', '+', '='])
        || v.contains("${")
        || v.contains("{{")
        || v.contains("&lt;")
        || v.contains("://")
    {
        return false;
    }
    // A field or route name that mentions the password (`cms_user_password`, `#add-password`).
    if (lower.contains("passw") || lower.contains("pwd"))
        && lower.chars().all(|c| c.is_alphabetic() || matches!(c, '_' | '-' | '.' | '/' | '#' | ':'))
        && lower.contains(['_', '-', '.', '/', '#', ':'])
    {
        return false;
    }
    // Digits alone need a PIN's length to be more than a count or a port.
    if v.bytes().all(|b| b.is_ascii_digit()) && n < 6 {
        return false;
    }
    let chars: Vec<char> = v.chars().collect();
    if chars.iter().all(|&c| c == chars[0])
        || v.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '-' | '_' | '#' | '•'))
    {
        return false;
    }
    secret_value_refs_ok(v)
}

/// The reference checks of [`secret_value`] alone: environment lookups, dotted or namespaced
/// identifiers, calls and subscripts, CONSTANT_CASE configuration names.
fn secret_value_refs_ok(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if REFS.iter().any(|r| lower.contains(r)) {
        return false;
    }
    if (v.contains('(') && v.ends_with(')')) || (v.contains('[') && v.ends_with(']')) {
        return false;
    }
    if (v.contains('.') || v.contains("::") || v.contains("->"))
        && v.split(['.', ':', '-', '>']).filter(|t| !t.is_empty()).all(is_ident)
    {
        return false;
    }
    !(v.bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()) && v.contains('_'))
}

fn is_ident(t: &str) -> bool {
    !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
}

const REFS: [&str; 12] = [
    "os.environ",
    "process.env",
    "getenv",
    "env[",
    "env.",
    "environ",
    "settings.",
    "config.",
    "request.",
    "params[",
    "secrets.",
    "vault:",
];

/// Rejects references and words: `os.environ[...]`, `process.env.X`, `$VAR`, calls, dotted
/// identifiers, bare lower-case words; accepts values with at least two character classes.
pub fn secret_value(s: &str) -> bool {
    let v = s.trim_matches(|c| c == '"' || c == '\'' || c == '`');
    if v.len() < 6 {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if REFS.iter().any(|r| lower.contains(r)) || names_no_value(&v.to_lowercase()) {
        return false;
    }
    // URLs, ARNs, paths, selectors, HTML-escaped templates and UUIDs are identifiers.
    if lower.contains("://")
        || lower.starts_with("arn:")
        || lower.starts_with('/')
        || lower.starts_with('#')
        || lower.contains("&lt;")
        || is_uuid(v)
    {
        return false;
    }
    // Relative paths and lower-case path-like names (`~/.ssh/id_rsa`, `prod/db/creds`,
    // `config/master.key`) and HTTP header names (`X-API-Key`) name where a secret is, not it.
    if looks_like_path(v) || is_header_name(v) {
        return false;
    }
    // A name that mentions "password" with nothing but letters and separators is a field name.
    if (lower.contains("password") || lower.contains("passwd"))
        && lower.bytes().all(|b| b.is_ascii_lowercase() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'#' | b':'))
    {
        return false;
    }
    // `$VAR`, `$VAR/path`, `${VAR}`: shell and template references.
    if v.starts_with('$') && v.as_bytes().get(1).is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || b == b'{') {
        return false;
    }
    // A call or a subscript: `get_secret()`, `cfg["x"]`.
    if (v.contains('(') && v.ends_with(')')) || (v.contains('[') && v.ends_with(']')) {
        return false;
    }
    // A dotted or namespaced identifier: `self.password`, `Config::KEY`.
    let ident = |t: &str| {
        !t.is_empty()
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && t.bytes().next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
    };
    if (v.contains('.') || v.contains("::") || v.contains("->"))
        && v.split(['.', ':', '-', '>']).filter(|t| !t.is_empty()).all(ident)
    {
        return false;
    }
    // CONSTANT_CASE names are references to configuration, not values.
    if v.bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()) && v.contains('_') {
        return false;
    }
    // Word separators (`_`, `-`, `.`) do not count as a symbol class: `refresh_token` is a word.
    let classes = [
        v.bytes().any(|b| b.is_ascii_lowercase()),
        v.bytes().any(|b| b.is_ascii_uppercase()),
        v.bytes().any(|b| b.is_ascii_digit()),
        // Non-ASCII letters (`ñ` in `Contraseña`) are letters, not symbols.
        v.bytes().any(|b| b.is_ascii() && !b.is_ascii_alphanumeric() && !matches!(b, b'_' | b'-' | b'.')),
    ]
    .iter()
    .filter(|&&x| x)
    .count();
    // Entropy is capped by log2(length), so short passwords get a length-aware gate: at least
    // 85% of the maximum for their length, never more than 3 bits. Three or four character
    // classes are evidence of their own (`1qay@WXS????`), so repeats are tolerated more there.
    let floor =
        if classes >= 3 { (0.7 * (v.len() as f64).log2()).min(2.6) } else { (0.85 * (v.len() as f64).log2()).min(3.0) };
    classes >= 2 && shannon_entropy(v) >= floor
}

fn looks_like_path(v: &str) -> bool {
    if v.starts_with("~/") || v.starts_with("./") || v.starts_with("../") {
        return true;
    }
    v.contains('/')
        && v.bytes().any(|b| b.is_ascii_lowercase())
        && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-' | b'/'))
}

/// `X-API-Key`, `Content-Type`, `X-Auth-Token`: dash-separated capitalised words.
fn is_header_name(v: &str) -> bool {
    let parts: Vec<&str> = v.split('-').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            let b = p.as_bytes();
            !b.is_empty()
                && b.iter().all(u8::is_ascii_alphabetic)
                && b[0].is_ascii_uppercase()
                && (b[1..].iter().all(u8::is_ascii_lowercase) || (b.len() <= 4 && b.iter().all(u8::is_ascii_uppercase)))
        })
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(
            |(i, &c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    c == b'-'
                } else {
                    c.is_ascii_hexdigit()
                }
            },
        )
}

/// Shannon entropy in bits per character.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_decodes_to_user_and_password() {
        let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        assert!(basic_auth_b64(&enc("deploy:Tq8#vLm2xR")));
        assert!(!basic_auth_b64(&enc("no-colon-here")));
        assert!(!basic_auth_b64(&enc(":Tq8#vLm2xR")));
        assert!(!basic_auth_b64(&enc("deploy:ab")));
        assert!(!basic_auth_b64(&enc("deploy:$REGISTRY_PASSWORD")));
        assert!(!basic_auth_b64("not base64!"));
    }

    #[test]
    fn paths_and_header_names_are_not_secrets() {
        assert!(!secret_value("~/.ssh/id_rsa"));
        assert!(!secret_value("prod/db/creds"));
        assert!(!secret_value("config/master.key"));
        assert!(!secret_value("X-API-Key"));
        assert!(!secret_value("X-Auth-Token"));
        // Base64 with slashes has upper case; mixed-case dashed tokens are not title words.
        assert!(secret_value("Fq8/Zt2LwKp9+Xr4Vn7Bc1Df6Gh0Jk5Ms3Qy8Ea2"));
        assert!(secret_value("Kq-Zt2Lw-Xr4V-n7Bc"));
    }

    #[test]
    fn generic_defers_to_vendor_formats() {
        let g = Validator::GenericSecret;
        let hex42 = "d3adb33f0c0ffee1234a5b6c7d8e9f00a1b2c3d4e5";
        assert!(!g.validate_match(hex42, &format!("AWS_SECRET_ACCESS_KEY={hex42}")));
        let short = "Qm7#tLx2pRk9Wv";
        assert!(!g.validate_match(short, &format!("secret_access_key = '{short}'")));
        let aws = "Fq8/Zt2LwKp9+Xr4Vn7Bc1Df6Gh0Jk5Ms3Qy8Ea2";
        assert!(g.validate_match(aws, &format!("\"SecretAccessKey\": \"{aws}\"")));
        let cos = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c";
        assert!(g.validate_match(cos, &format!("secret_access_key: {cos}")));
        let iam = "Xk2_pQ9wLm4-Rt7Zs1Vb8Nc3Df6Gh0Jk5Ms2Qy9Ea4Wx7";
        assert!(!g.validate_match(&format!("{iam}--ex"), &format!("ibm-cloud-pwd = {iam}--ex")));
        assert!(g.validate_match(&iam[..44], &format!("IBM_CLOUD_API_KEY={}", &iam[..44])));
        // Keys no vendor rule owns keep the plain generic gate.
        assert!(g.validate_match(short, &format!("db_secret = '{short}'")));
        assert!(!g.validate_match("hunter", "db_secret = 'hunter'"));
    }

    #[test]
    fn luhn_works() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(!luhn("4111 1111 1111 1112"));
    }

    #[test]
    fn cards_need_issuer_and_luhn() {
        assert!(payment_card("4539 1488 0343 6467"));
        assert!(payment_card("2223000048400011"));
        assert!(payment_card("378282246310005"));
        assert!(payment_card("6011111111111117"));
        assert!(payment_card("3530111333300000"));
        assert!(!payment_card("4539 1488 0343 6468"));
        assert!(!payment_card("9999999999999995"));
        assert!(!payment_card("4539-1488 0343-6467"));
        // Luhn-valid but no issuer starts with 7.
        assert!(luhn("7992739871300008") && !payment_card("7992739871300008"));
    }

    fn make_github(prefix: &str, random: &str) -> String {
        let c = base62_6(crc32(random.as_bytes()));
        format!("{prefix}_{random}{}", std::str::from_utf8(&c).unwrap())
    }

    #[test]
    fn github_checksum() {
        let t = make_github("ghp", "Zq3Lm8Rt2Vx9Kp4Wn7Bc1Df6Gh0Jk5");
        assert!(github_crc32(&t));
        let mut bad = t.clone().into_bytes();
        let last = bad.len() - 1;
        bad[last] = if bad[last] == b'a' { b'b' } else { b'a' };
        assert!(!github_crc32(std::str::from_utf8(&bad).unwrap()));
        assert!(!github_crc32("ghp_short"));
        assert!(Validator::GithubUnverified.validate(std::str::from_utf8(&bad).unwrap()));
        assert!(!Validator::GithubUnverified.validate(&t));
    }

    #[test]
    fn jwt_header_must_name_alg() {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let t = format!("{}.{}.c2lnbmF0dXJl", enc(r#"{"alg":"RS256","typ":"JWT"}"#), enc(r#"{"sub":"42"}"#));
        assert!(jwt(&t));
        let t = format!("{}.{}.c2ln", enc(r#"{"typ":"JWT"}"#), enc(r#"{"sub":"42"}"#));
        assert!(!jwt(&t));
        assert!(!jwt("bm90.anNvbg.c2ln"));
    }

    #[test]
    fn iban_mod97_and_length() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("DE8937040044053201300"));
        assert!(!iban("QQ89370400440532013000"));
    }

    #[test]
    fn us_numbers() {
        assert!(us_ssn("536-22-8741"));
        assert!(!us_ssn("666-22-8741"));
        assert!(!us_ssn("936-22-8741"));
        assert!(!us_ssn("536-00-8741"));
        assert!(!us_ssn("536-22-0000"));
        assert!(!us_ssn("078-05-1120") && !us_ssn("219-09-9999"));
        assert!(us_itin("912-74-1234"));
        assert!(!us_itin("912-45-1234"));
        assert!(aba_routing("021000021"));
        assert!(!aba_routing("021000022"));
    }

    #[test]
    fn uk_ids() {
        assert!(uk_nhs("943 476 5919"));
        assert!(!uk_nhs("943 476 5918"));
        assert!(uk_nino("AB 12 34 56 C"));
        assert!(!uk_nino("BG 12 34 56 C"));
        assert!(!uk_nino("DA 12 34 56 C"));
        assert!(!uk_nino("AB 12 34 56 E"));
    }

    #[test]
    fn european_ids() {
        assert!(es_dni("12345678Z"));
        assert!(!es_dni("12345678A"));
        assert!(es_dni("X1234567L"));
        assert!(es_dni("1111111G"));
        assert!(!es_dni("111111G"));
        assert!(it_codice_fiscale("RSSMRA85T10A562S"));
        assert!(!it_codice_fiscale("RSSMRA85T10A562T"));
        assert!(fr_nir("2 69 05 49 588 157 80"));
        assert!(!fr_nir("2 69 05 49 588 157 81"));
        assert!(pl_pesel("44051401458"));
        assert!(!pl_pesel("44051401459"));
        assert!(fi_hetu("131052-308T"));
        assert!(!fi_hetu("131052-308U"));
        assert!(se_personnummer("811228-9874"));
        assert!(!se_personnummer("811228-9875"));
        assert!(de_steuer_id("86095742719"));
        assert!(de_steuer_id_strict("86095742719"));
        // Check digit right, but all ten digits distinct: not an allocated number.
        assert!(de_steuer_id("12345678903") && !de_steuer_id_strict("12345678903"));
        // A digit three times in a row is never allocated.
        assert!(de_steuer_id("11123456786") && !de_steuer_id_strict("11123456786"));
        assert!(!de_steuer_id("86095742718"));
    }

    /// Check-digit vectors from an independent implementation (python-stdnum, via
    /// `scripts/gen_validator_vectors.py`): a table typed in wrong here cannot agree with it.
    #[test]
    fn agree_with_python_stdnum() {
        let vectors = include_str!("../../tests/data/validator_vectors.tsv");
        let mut checked = 0;
        let mut wrong = Vec::new();
        for line in vectors.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            let mut f = line.split('\t');
            let (Some(kind), Some(value), Some(valid)) = (f.next(), f.next(), f.next()) else {
                panic!("bad vector line {line:?}");
            };
            let v = Validator::from_name(kind).unwrap_or_else(|| panic!("no validator {kind}"));
            if v.validate(value) != (valid == "1") {
                wrong.push(format!("{kind} {value} stdnum={valid}"));
            }
            checked += 1;
        }
        assert!(checked >= 800, "only {checked} vectors");
        assert!(wrong.is_empty(), "{} disagreements:\n{}", wrong.len(), wrong.join("\n"));
    }

    /// The permutation table is the powers of one permutation; a wrong row
    /// passes any test whose expected check digits come from the same table,
    /// so pin it to the scheme itself: Wikipedia's worked example (236 → 2363)
    /// and the guarantee that every single-digit error and every transposition
    /// of adjacent distinct digits is caught.
    #[test]
    fn verhoeff_table_is_the_scheme() {
        let p1 = VERHOEFF_P[1];
        for i in 1..8 {
            for x in 0..10 {
                assert_eq!(VERHOEFF_P[i][x], p1[VERHOEFF_P[i - 1][x] as usize], "row {i}");
            }
        }
        assert!(verhoeff(&[2, 3, 6, 3]));
        let number: Vec<u32> = "800314479798".bytes().map(|b| u32::from(b - b'0')).collect();
        assert!(verhoeff(&number));
        for i in 0..number.len() {
            for d in 0..10 {
                if d != number[i] {
                    let mut typo = number.clone();
                    typo[i] = d;
                    assert!(!verhoeff(&typo), "substitution at {i}");
                }
            }
            if i + 1 < number.len() && number[i] != number[i + 1] {
                let mut swapped = number.clone();
                swapped.swap(i, i + 1);
                assert!(!verhoeff(&swapped), "transposition at {i}");
            }
        }
    }

    #[test]
    fn other_ids() {
        assert!(aadhaar("8003 1447 9798"));
        assert!(!aadhaar("8003 1447 9795"));
        assert!(!aadhaar("0345 6789 0124"));
        assert!(in_pan("ABCPD1234Z"));
        assert!(!in_pan("ABCXD1234Z"));
        assert!(ca_sin("130 692 544"));
        assert!(!ca_sin("130 692 545"));
        assert!(!ca_sin("046 454 286"));
        assert!(au_tfn("876 543 210"));
        assert!(!au_tfn("876 543 211"));
        assert!(sg_nric("S1234567D"));
        assert!(!sg_nric("S1234567E"));
        assert!(sg_nric("M1234567K") && !sg_nric("M1234567L"));
    }

    #[test]
    fn wallets() {
        assert!(btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(btc_base58("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!btc_base58("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
        assert!(bech32("BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ"));
        assert!(!bech32("bc1Qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(!bech32("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr"));
        assert!(eth_address("0x52908400098527886E0F7030069857D2E4169EE7"));
        assert!(!eth_address("0x0000000000000000000000000000000000000000"));
    }

    #[test]
    fn network() {
        assert!(ipv4("192.168.10.7"));
        assert!(!ipv4("256.1.1.1"));
        assert!(ipv4("0.0.0.0"));
        assert!(ipv6_cidr("::1") && ipv6_cidr("::") && ipv6_cidr("fe80::/10") && ipv6_cidr("::/0"));
        assert!(!ipv6_cidr("::/129") && !ipv6_cidr("a:b") && !ipv6_cidr("std::vector"));
        assert!(!ipv4("01.2.3.4"));
        assert!(ipv6("2001:db8:85a3::8a2e:370:7334"));
        assert!(!ipv6("::"));
        assert!(!ipv6("12:34:56"));
        assert!(!ipv6("a::b"));
        assert!(ipv6("fe80::1"));
        assert!(mac("00:1A:2B:3C:4D:5E"));
        assert!(mac("3c22.fb9a.1007"));
        assert!(!mac("3c22.fb9a:1007"));
        assert!(!mac("00:1A-2B:3C:4D:5E"));
        assert!(!mac("FF:FF:FF:FF:FF:FF"));
    }

    #[test]
    fn secret_values() {
        assert!(secret_value("Zt9#kLw2qP"));
        assert!(!secret_value("os.environ['DB']"));
        assert!(!secret_value("process.env.DB_PASSWORD"));
        assert!(!secret_value("$DB_PASSWORD"));
        assert!(!secret_value("get_password()"));
        assert!(!secret_value("self.password"));
        assert!(!secret_value("DB_PASSWORD"));
        assert!(!secret_value("hunter"));
        assert!(!secret_value("refresh_token"));
        assert!(secret_value("Rrhh1234"));
        assert!(!secret_value("aaaa1111"));
        assert!(!secret_value("cms_user_password"));
        assert!(!secret_value("arn:aws:iam::aws:policy/IAMUserChangePassword"));
        assert!(!secret_value("007e65c7-635d-4d54-8294-f360cb8e2e3f"));
        assert!(phone("+44 20 7946 0958"));
        assert!(nanp("415-555-0132") && nanp("1-800-555-0199"));
        assert!(!nanp("401-023-2138") && !nanp("911-555-0132") && !nanp("2-800-555-0199"));
        assert!(!phone("+1234"));
    }

    /// Shapes that look random but are public identifiers must never be reported, by any rule
    /// (secret or PII) in the embedded packs. Values are made up here.
    #[test]
    fn hard_negatives_never_fire() {
        let d = crate::detect::Detectors::embedded().expect("embedded rules compile");
        let cases = [
            "commit 3f9c2a7e41b08d5c6e2f1a9b7d3c5e8f0a1b2c4d",
            "id: 9b2f6c1e-4a7d-4e3b-9c8a-2d5f7e1b3a6c",
            "\"integrity\": \"sha512-Xk3pQ9vL2mN8rT5wY7zB1cD4fG6hJ0kA3sE5uI7oP9qR2tV4xW6yZ8bC0dF2gH4jK6lM8nO0pQ2rS4tU6vW8xY0zA==\"",
            "golang.org/x/text v0.14.0 h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=",
            "image: registry.io/app@sha256:4b8e2c7f9a1d3e5b6c0f2a4d8e1b3c5f7a9d0e2c4b6f8a1c3e5d7b9f0a2c4e6d",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB7x9QmPz3kLw2R5tY8uVn1cXe4sDf6gHj0kLm2NoPq3 dev@laptop",
            "<img src=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==\">",
            "color: #3fa9c2; background: #ffcc00;",
            "created_at: 1718035200123",
            "md5 5d41402abc4b2a76b9719d911017c592  file.tar.gz",
            "sha256sum 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            "AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "password = os.environ[\"DB_PASSWORD\"]",
            "postgres://app:${DB_PASS}@db:5432/app",
        ];
        for c in cases {
            let hits: Vec<&str> = d.scan(c).iter().map(|m| d.rule(m.rule).id()).collect();
            let hits: Vec<&str> = hits.into_iter().filter(|id| !id.starts_with("injection.")).collect();
            assert!(hits.is_empty(), "{c:?} fired {hits:?}");
        }
    }

    #[test]
    fn password_values() {
        for ok in
            ["blooberry", "super$ecret", "1qay@WXS????", "`123QWERasdf", "Secret123", "centipede", "!o2E4vnl3l7Qnd6Z"]
        {
            assert!(password_value(ok), "{ok}");
        }
        for no in [
            "password",
            "Password:",
            "Passwort",
            "Contraseña",
            "String!",
            "not-set",
            "your_password",
            "a-fake-tooshort-key",
            "somefakekey",
            "cms_user_password",
            "#add-password",
            "${DB_PASSWORD}",
            "{{ vault_pw }}",
            "!vault",
            "*default_pw",
            "self.password",
            "DB_PASSWORD",
            "get_password()",
            "/en/enterprise-server@3.0/auth",
            ".$p[",
            "123",
            "1234",
            "xxxxxxxx",
            "********",
            "&lt;YOURPASSWORD&gt;",
            "required",
        ] {
            assert!(!password_value(no), "{no}");
        }
        // The generic gate keeps its character-class rule; translations are words, not secrets.
        assert!(!secret_value("Contraseña"));
        assert!(secret_value("1qay@WXS????"));
    }

    #[test]
    fn damaged_jwt_header_still_reads_as_a_token() {
        let enc = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let mut header = enc(r#"{"alg":"HS256","typ":"JWT"}"#).into_bytes();
        header[20] = b'E'; // one corrupted byte inside the JSON
        let t = format!("{}.{}.c2lnbmF0dXJl", String::from_utf8(header).unwrap(), enc(r#"{"sub":"42"}"#));
        assert!(jwt(&t));
        assert!(!jwt(&format!("{}.{}.c2ln", enc("not json at all"), enc(r#"{"sub":"42"}"#))));
    }

    #[test]
    fn pesel_needs_a_plausible_birth_century() {
        assert!(pl_pesel("02070803628"));
        // Same digits shape with an 1800s month code (81-92) and a matching check digit.
        let body = "0281080362";
        const W: [u32; 10] = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
        let sum: u32 = body.bytes().zip(W.iter()).map(|(b, w)| (b - b'0') as u32 * w).sum();
        assert!(!pl_pesel(&format!("{body}{}", (10 - sum % 10) % 10)));
    }

    #[test]
    fn entropy_orders() {
        assert!(shannon_entropy("aaaaaaaa") < 0.1);
        assert!(shannon_entropy("a8Fk2Lq9Zx7Pw3Vn") > 3.5);
    }
}
