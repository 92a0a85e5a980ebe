//! Matching rules, as OpenLDAP applies them to the inetOrgPerson schema.
//!
//! Values are normalised once when a generation is built and assertions once when
//! a filter is compiled; comparing is then plain string work.

use super::NumberRules;
use super::schema::Rule;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Normalises a value or an assertion for equality under `rule`.
pub fn normalize(rule: Rule, s: &str) -> String {
    match rule {
        Rule::CaseIgnore | Rule::None => case_ignore(s, true, true),
        Rule::CaseIgnoreIa5 => collapse_spaces(&s.to_ascii_lowercase(), true, true),
        Rule::Telephone => telephone(s),
        Rule::ObjectIdentifier => object_class(s),
    }
}

/// caseIgnoreMatch: Unicode case folded, canonical composition, insignificant
/// spaces removed (leading and trailing dropped, inner runs collapsed to one).
pub fn case_ignore(s: &str, trim_start: bool, trim_end: bool) -> String {
    let folded = if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.nfc().flat_map(char::to_lowercase).collect()
    };
    collapse_spaces(&folded, trim_start, trim_end)
}

fn collapse_spaces(s: &str, trim_start: bool, trim_end: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c == ' ' {
            space = true;
            continue;
        }
        if space && (!out.is_empty() || !trim_start) {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    if space && !trim_end {
        out.push(' ');
    }
    out
}

/// telephoneNumberMatch: spaces and hyphens are not significant.
pub fn telephone(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Object class names and their OIDs, as OpenLDAP's objectIdentifierMatch sees them.
fn object_class(s: &str) -> String {
    let n = s.trim().to_ascii_lowercase();
    match n.as_str() {
        "2.5.6.0" => "top".to_string(),
        "2.5.6.6" => "person".to_string(),
        "2.5.6.7" => "organizationalperson".to_string(),
        "2.16.840.1.113730.3.2.2" => "inetorgperson".to_string(),
        _ => n,
    }
}

/// The part of a number that identifies it whatever form it is written in, when the
/// node knows its country code and trunk prefix: `+49 30 123`, `0049 30 123` and
/// `030 123` all give `30123`; another country keeps its code (`+33 1 2` gives
/// `+3312`). `None` when reverse lookup is not configured or the value has no digit.
pub fn canonical_number(value: &str, rules: &NumberRules) -> Option<String> {
    let (Some(cc), Some(trunk)) = (&rules.country_code, &rules.trunk_prefix) else {
        return None;
    };
    let t = value.trim();
    let plus = t.starts_with('+');
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let international = if plus {
        Some(digits.as_str())
    } else {
        digits.strip_prefix("00")
    };
    Some(match international {
        Some(rest) => match rest.strip_prefix(cc.as_str()) {
            Some(national) => national.to_string(),
            None => format!("+{rest}"),
        },
        None => match digits.strip_prefix(trunk.as_str()) {
            Some(national) => national.to_string(),
            None => digits,
        },
    })
}

/// Substring assertion parts, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Substrings {
    pub initial: Option<String>,
    pub any: Vec<String>,
    pub final_: Option<String>,
}

impl Substrings {
    pub fn normalize(
        rule: Rule,
        initial: Option<&str>,
        any: &[String],
        final_: Option<&str>,
    ) -> Substrings {
        let part = |s: &str, trim_start: bool, trim_end: bool| match rule {
            Rule::Telephone => telephone(s),
            Rule::CaseIgnoreIa5 => collapse_spaces(&s.to_ascii_lowercase(), trim_start, trim_end),
            _ => case_ignore(s, trim_start, trim_end),
        };
        Substrings {
            initial: initial
                .map(|s| part(s, true, false))
                .filter(|s| !s.is_empty()),
            any: any
                .iter()
                .map(|s| part(s, false, false))
                .filter(|s| !s.is_empty())
                .collect(),
            final_: final_
                .map(|s| part(s, false, true))
                .filter(|s| !s.is_empty()),
        }
    }

    /// Does the normalised value hold the parts in order, without overlap?
    pub fn matches(&self, value: &str) -> bool {
        let mut pos = 0;
        if let Some(i) = &self.initial {
            if !value.starts_with(i.as_str()) {
                return false;
            }
            pos = i.len();
        }
        for a in &self.any {
            match value[pos..].find(a.as_str()) {
                Some(at) => pos += at + a.len(),
                None => return false,
            }
        }
        match &self.final_ {
            Some(f) => value.len() - pos >= f.len() && value.ends_with(f.as_str()),
            None => true,
        }
    }

    /// Every part, for the index.
    pub fn parts(&self) -> impl Iterator<Item = &str> {
        self.initial
            .iter()
            .chain(&self.any)
            .chain(&self.final_)
            .map(String::as_str)
    }
}

/// approxMatch as OpenLDAP implements it for directory strings: every word of the
/// assertion must sound like a word of the value, in order (phonetic codes).
pub fn approx_matches(value: &str, assertion: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        approx_fold(s)
            .split([' ', '.', '_'])
            .filter(|w| !w.is_empty())
            .map(soundex)
            .collect()
    };
    let value = words(value);
    let wanted = words(assertion);
    if wanted.is_empty() {
        return false;
    }
    let mut next = 0;
    for w in &wanted {
        match value[next..].iter().position(|v| v == w) {
            Some(i) => next += i + 1,
            None => return false,
        }
    }
    true
}

/// Case folded, accents removed.
fn approx_fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// American Soundex of one word (letters only; other characters are kept as they are).
fn soundex(word: &str) -> String {
    let code = |c: char| match c {
        'b' | 'f' | 'p' | 'v' => Some('1'),
        'c' | 'g' | 'j' | 'k' | 'q' | 's' | 'x' | 'z' => Some('2'),
        'd' | 't' => Some('3'),
        'l' => Some('4'),
        'm' | 'n' => Some('5'),
        'r' => Some('6'),
        _ => None,
    };
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    if !first.is_ascii_alphabetic() {
        return word.to_string();
    }
    let mut out = String::from(first.to_ascii_uppercase());
    let mut last = code(first);
    for c in chars {
        let k = code(c);
        if k.is_some() && k != last {
            if let Some(k) = k {
                out.push(k);
            }
        }
        if c != 'h' && c != 'w' {
            last = k;
        }
        if out.len() == 4 {
            break;
        }
    }
    while out.len() < 4 {
        out.push('0');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ignore_folds_case_accents_composition_and_spaces() {
        assert_eq!(
            case_ignore("  Jürgen   MÜLLER ", true, true),
            "jürgen müller"
        );
        // "é" precomposed and decomposed are the same name.
        assert_eq!(
            case_ignore("Élodie", true, true),
            case_ignore("E\u{301}lodie", true, true)
        );
        assert_ne!(
            case_ignore("Elodie", true, true),
            case_ignore("Élodie", true, true)
        );
    }

    #[test]
    fn telephone_ignores_spaces_and_hyphens_only() {
        assert_eq!(telephone("+49 30-123 45"), "+493012345");
        assert_eq!(telephone("(030) 123"), "(030)123");
    }

    #[test]
    fn canonical_numbers_agree_across_forms() {
        let rules = NumberRules {
            country_code: Some("49".into()),
            trunk_prefix: Some("0".into()),
        };
        let forms = [
            "+49 30 1234567",
            "0049 30 1234567",
            "030 1234567",
            "+49 (30) 123-4567",
        ];
        for f in forms {
            assert_eq!(
                canonical_number(f, &rules).as_deref(),
                Some("301234567"),
                "{f}"
            );
        }
        assert_eq!(
            canonical_number("+33 1 23", &rules).as_deref(),
            Some("+33123")
        );
        assert_eq!(
            canonical_number("0033 1 23", &rules).as_deref(),
            Some("+33123")
        );
        assert_eq!(canonical_number("030 1", &NumberRules::default()), None);
    }

    #[test]
    fn substrings_match_in_order_without_overlap() {
        let s = |i: Option<&str>, any: &[&str], f: Option<&str>| {
            let any: Vec<String> = any.iter().map(|s| s.to_string()).collect();
            Substrings::normalize(Rule::CaseIgnore, i, &any, f)
        };
        let v = case_ignore("Alan Turing", true, true);
        assert!(s(Some("AL"), &[], None).matches(&v));
        assert!(s(None, &["TUR"], None).matches(&v));
        assert!(s(Some("a"), &["n t", "r"], Some("ing")).matches(&v));
        assert!(!s(None, &["ing", "tur"], None).matches(&v));
        assert!(!s(Some("alan turi"), &[], Some("ring")).matches(&v));
        let t = Substrings::normalize(Rule::Telephone, None, &["79-46".to_string()], None);
        assert!(t.matches(&telephone("+44 20 7946 0001")));
    }

    #[test]
    fn approx_matches_words_that_sound_alike() {
        assert!(approx_matches("Alan Turing", "turing"));
        assert!(approx_matches("Alan Turing", "Alen Tyring"));
        assert!(approx_matches("Jürgen Müller", "jurgen muller"));
        assert!(!approx_matches("Alan Turing", "turing alan"));
        assert!(!approx_matches("Alan Turing", "hopper"));
    }

    #[test]
    fn soundex_codes() {
        assert_eq!(soundex("robert"), "R163");
        assert_eq!(soundex("rupert"), "R163");
        assert_eq!(soundex("tymczak"), "T522");
        assert_eq!(soundex("ashcraft"), "A261");
    }
}
