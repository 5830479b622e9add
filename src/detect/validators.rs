//! Checksum and structure validators named by rules (`validator = "luhn"`).
//!
//! A closed set: a rule naming an unknown validator fails to load. Validators see the matched
//! value only and return whether it is a plausible real value.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validator {
    /// Payment card numbers (Luhn mod-10).
    Luhn,
}

impl Validator {
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "luhn" => Validator::Luhn,
            _ => return None,
        })
    }

    pub fn validate(self, value: &str) -> bool {
        match self {
            Validator::Luhn => luhn(value),
        }
    }
}

/// Luhn mod-10 over the digits of `s` (separators ignored); needs at least 12 digits.
pub fn luhn(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() < 12 || digits.len() > 19 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
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
    fn luhn_works() {
        assert!(luhn("4111 1111 1111 1111"));
        assert!(!luhn("4111 1111 1111 1112"));
    }

    #[test]
    fn entropy_orders() {
        assert!(shannon_entropy("aaaaaaaa") < 0.1);
        assert!(shannon_entropy("a8Fk2Lq9Zx7Pw3Vn") > 3.5);
    }
}
