//! Matching rules, as OpenLDAP applies them to the inetOrgPerson schema.
//!
//! Values are normalised once when a generation is built and assertions once when
//! a filter is compiled; comparing is then plain string work.

use super::MatchRules;
use super::schema::Rule;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Normalises a value or an assertion for equality under `rule`.
pub fn normalize(rule: Rule, s: &str) -> String {
    let mut out = String::new();
    normalize_into(rule, s, &mut out);
    out
}

/// `normalize` into a buffer the caller reuses.
pub fn normalize_into(rule: Rule, s: &str, out: &mut String) {
    out.clear();
    match rule {
        Rule::CaseIgnore | Rule::None if s.is_ascii() => ascii_fold_into(s, out),
        Rule::CaseIgnoreIa5 => ascii_fold_into(s, out),
        Rule::CaseIgnore | Rule::None => case_ignore_into(s, true, true, out),
        Rule::Telephone if s.is_ascii() => out.extend(
            s.bytes()
                .filter(|b| !matches!(b, b' ' | b'-'))
                .map(|b| char::from(b.to_ascii_lowercase())),
        ),
        Rule::Telephone => out.extend(
            s.chars()
                .filter(|c| !matches!(c, ' ' | '-'))
                .flat_map(char::to_lowercase),
        ),
        Rule::ObjectIdentifier => out.push_str(&object_class(s)),
    }
}

/// ASCII lowercase with insignificant spaces removed, in one pass.
fn ascii_fold_into(s: &str, out: &mut String) {
    let mut space = false;
    for b in s.bytes() {
        if b == b' ' {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(char::from(b.to_ascii_lowercase()));
    }
}

/// caseIgnoreMatch: Unicode case folded, canonical composition, insignificant
/// spaces removed (leading and trailing dropped, inner runs collapsed to one).
pub fn case_ignore(s: &str, trim_start: bool, trim_end: bool) -> String {
    let mut out = String::with_capacity(s.len());
    case_ignore_into(s, trim_start, trim_end, &mut out);
    out
}

/// caseExactMatch: compatibility composition and insignificant spaces removed,
/// case kept.
pub fn case_exact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    if s.is_ascii() {
        collapse_spaces_into(s.chars(), true, true, &mut out);
    } else {
        collapse_spaces_into(s.nfkc(), true, true, &mut out);
    }
    out
}

/// `case_ignore` appended to `out`.
fn case_ignore_into(s: &str, trim_start: bool, trim_end: bool, out: &mut String) {
    if s.is_ascii() {
        return collapse_spaces_into(
            s.bytes().map(|b| char::from(b.to_ascii_lowercase())),
            trim_start,
            trim_end,
            out,
        );
    }
    // As slapd: lowercase, then compatibility composition (full-width letters and
    // ligatures match their plain forms). Capital sharp s stays as it is: slapd's
    // Unicode tables predate it.
    let begin = out.len();
    for c in s.chars() {
        match c {
            c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
            '\u{1e9e}' => out.push(c),
            c => out.extend(c.to_lowercase()),
        }
    }
    // Most names are already composed, with single spaces inside: the quick check
    // spares the tables, and the lowercase text is then the result as it stands.
    let lower = &out[begin..];
    let composed = unicode_normalization::is_nfkc_quick(lower.chars())
        == unicode_normalization::IsNormalized::Yes;
    let respace = lower.contains("  ")
        || (trim_start && lower.starts_with(' '))
        || (trim_end && lower.ends_with(' '));
    if composed && !respace {
        return;
    }
    let lower = out.split_off(begin);
    if composed {
        collapse_spaces_into(lower.chars(), trim_start, trim_end, out)
    } else {
        collapse_spaces_into(lower.nfkc(), trim_start, trim_end, out)
    }
}

/// Appends `chars` to `out` with leading and trailing spaces dropped (when asked)
/// and inner runs collapsed to one.
fn collapse_spaces_into(
    chars: impl Iterator<Item = char>,
    trim_start: bool,
    trim_end: bool,
    out: &mut String,
) {
    let begin = out.len();
    let mut space = false;
    for c in chars {
        if c == ' ' {
            space = true;
            continue;
        }
        if space && (out.len() > begin || !trim_start) {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    if space && !trim_end {
        out.push(' ');
    }
}

/// A caseIgnore-normalised value without its accents, as keypads type it: diacritics
/// dropped (é e, ñ n, č c), letters without a decomposition spelled as their base
/// (ø o, æ ae, œ oe, ß ss, đ d, ł l, þ th), then the transliterations folded both
/// ways (ae a, oe o, ue u, aa a, ss s), so that Müller, Mueller and muller are one
/// key, as are Søren and Soren, Åsa and Aasa, Strauß and Strauss.
/// Only `[ldap] fold_accents` asks for it; OpenLDAP keeps accents.
pub fn fold_accents(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let push = |c: char, out: &mut String| {
        // The second letter of a transliteration adds nothing.
        let folds = matches!(
            (out.chars().next_back(), c),
            (Some('a' | 'o' | 'u'), 'e') | (Some('a'), 'a') | (Some('s'), 's')
        );
        if !folds {
            out.push(c);
        }
    };
    for c in s.chars() {
        if c.is_ascii() {
            push(c, &mut out);
            continue;
        }
        let spelled: &str = match c {
            'ø' => "o",
            'æ' => "ae",
            'œ' => "oe",
            'ß' | '\u{1e9e}' => "ss",
            'đ' | 'ð' => "d",
            'ł' => "l",
            'þ' => "th",
            'ı' => "i",
            _ => "",
        };
        if !spelled.is_empty() {
            for c in spelled.chars() {
                push(c, &mut out);
            }
            continue;
        }
        for base in std::iter::once(c).nfd().filter(|c| !is_combining_mark(*c)) {
            push(base, &mut out);
        }
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
pub fn canonical_number(value: &str, rules: &MatchRules) -> Option<String> {
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
            // OpenLDAP drops the spaces around every part of an IA5 assertion.
            Rule::CaseIgnoreIa5 => {
                let mut out = String::with_capacity(s.len());
                let lower = s.chars().map(|c| c.to_ascii_lowercase());
                collapse_spaces_into(lower, true, true, &mut out);
                out
            }
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

    /// The parts without their accents ([`fold_accents`]).
    pub fn folded(self) -> Substrings {
        let fold = |s: String| fold_accents(&s);
        Substrings {
            initial: self.initial.map(fold).filter(|s| !s.is_empty()),
            any: self
                .any
                .into_iter()
                .map(fold)
                .filter(|s| !s.is_empty())
                .collect(),
            final_: self.final_.map(fold).filter(|s| !s.is_empty()),
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
            match find(&value.as_bytes()[pos..], a.as_bytes()) {
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

/// Where `needle` starts in `hay`. What phones type is a few characters, for which a
/// scan for the first byte beats setting up a general string search.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut at = 0;
    while at <= last_start {
        let offset = hay[at..=last_start].iter().position(|b| *b == first)?;
        at += offset;
        if hay[at + 1..at + needle.len()] == *rest {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// approxMatch as OpenLDAP implements it for directory strings: every word of the
/// assertion must sound like a word of the value, in order (phonetic codes).
pub fn approx_matches(value: &str, assertion: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        let mut out = Vec::new();
        approx_words(s, |code| out.push(code.to_string()));
        out
    };
    let value = words(value);
    let wanted = words(assertion);
    // A word with no Latin letter has no phonetic code: slapd matches nothing for it.
    if wanted.iter().any(String::is_empty) {
        return false;
    }
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

/// The phonetic code of every word of `s`, in order (empty for a word with no
/// Latin letter).
pub fn approx_words(s: &str, mut f: impl FnMut(&str)) {
    // Metaphone reads letters in upper case: ASCII text needs no folding.
    let folded;
    let s = if s.is_ascii() {
        s
    } else {
        folded = approx_fold(s);
        &folded
    };
    let (mut letters, mut code) = (Vec::new(), String::new());
    for w in s.split([' ', '.', '_']).filter(|w| !w.is_empty()) {
        metaphone_into(w, &mut letters, &mut code);
        f(&code);
    }
}

/// The phonetic codes a value can be found by: those of its words that have one.
pub fn approx_codes(s: &str, mut f: impl FnMut(&str)) {
    approx_words(s, |code| {
        if !code.is_empty() {
            f(code)
        }
    });
}

/// Case folded, accents removed.
fn approx_fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Longest phonetic code compared, as in OpenLDAP.
const MAX_PHONEME: usize = 4;

/// The Metaphone code of one word (Lawrence Philips' rules, the phonetic code
/// OpenLDAP's approxMatch compares). Characters that are not letters are dropped.
#[cfg(test)]
fn metaphone(word: &str) -> String {
    let mut out = String::new();
    metaphone_into(word, &mut Vec::new(), &mut out);
    out
}

/// `metaphone` into `out`, with `w` to hold the word's letters (buffers kept
/// from one word to the next).
fn metaphone_into(word: &str, w: &mut Vec<char>, out: &mut String) {
    w.clear();
    out.clear();
    w.extend(
        word.chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| c.to_ascii_uppercase()),
    );
    let w = &*w;
    let at = |i: isize| -> char {
        if i < 0 {
            '\0'
        } else {
            w.get(i as usize).copied().unwrap_or('\0')
        }
    };
    let vowel = |c: char| matches!(c, 'A' | 'E' | 'I' | 'O' | 'U');
    let frontv = |c: char| matches!(c, 'E' | 'I' | 'Y');
    let varson = |c: char| matches!(c, 'C' | 'S' | 'P' | 'T' | 'G');
    if w.is_empty() {
        return;
    }
    let mut i: isize = 0;
    // Initial exceptions.
    match (at(0), at(1)) {
        ('A', 'E') | ('G', 'N') | ('K', 'N') | ('P', 'N') | ('W', 'R') => {
            out.push(at(1));
            i = 2;
        }
        ('X', _) => {
            out.push('S');
            i = 1;
        }
        ('W', 'H') => {
            out.push('W');
            i = 2;
        }
        (c, _) if vowel(c) => {
            out.push(c);
            i = 1;
        }
        _ => {}
    }
    while (i as usize) < w.len() && out.len() < MAX_PHONEME {
        let c = at(i);
        let (prev, next, after) = (at(i - 1), at(i + 1), at(i + 2));
        // Doubled letters count once, except C.
        if c == prev && c != 'C' {
            i += 1;
            continue;
        }
        let mut skip = 0;
        match c {
            // B is silent in a final MB.
            'B' if prev == 'M' && next == '\0' => {}
            'B' => out.push('B'),
            'C' => {
                if frontv(next) && next != '\0' {
                    if next == 'I' && after == 'A' {
                        out.push('X');
                    } else if prev != 'S' {
                        out.push('S');
                    }
                } else if next == 'H' {
                    out.push(if after == '\0' || !vowel(after) || prev == 'S' {
                        'K'
                    } else {
                        'X'
                    });
                    skip = 1;
                } else {
                    out.push('K');
                }
            }
            'D' => {
                if next == 'G' && frontv(after) {
                    out.push('J');
                    skip = 2;
                } else {
                    out.push('T');
                }
            }
            'G' => {
                if next == 'H' {
                    if !matches!(at(i - 3), 'B' | 'D' | 'H') || at(i - 4) == 'H' {
                        out.push('F');
                        skip = 1;
                    }
                } else if next == 'N' {
                    if !(after == '\0' || (after == 'E' && at(i + 3) == 'D')) {
                        out.push('K');
                    }
                } else if frontv(next) && prev != 'G' {
                    out.push('J');
                } else {
                    out.push('K');
                }
            }
            'H' if vowel(next) && !varson(prev) => out.push('H'),
            'K' if prev != 'C' => out.push('K'),
            'P' => out.push(if next == 'H' { 'F' } else { 'P' }),
            'Q' => out.push('K'),
            'S' => {
                if next == 'H' {
                    out.push('X');
                    skip = 1;
                } else if next == 'I' && (after == 'O' || after == 'A') {
                    out.push('X');
                } else {
                    out.push('S');
                }
            }
            'T' => {
                if next == 'I' && (after == 'O' || after == 'A') {
                    out.push('X');
                } else if next == 'H' {
                    out.push('0');
                    skip = 1;
                } else if !(next == 'C' && after == 'H') {
                    out.push('T');
                }
            }
            'V' => out.push('F'),
            'W' | 'Y' if vowel(next) => out.push(c),
            'X' => {
                out.push('K');
                out.push('S');
            }
            'Z' => out.push('S'),
            'F' | 'J' | 'L' | 'M' | 'N' | 'R' => out.push(c),
            _ => {}
        }
        i += 1 + skip;
    }
    out.truncate(MAX_PHONEME);
}

#[cfg(test)]
mod tests {

    #[test]
    fn accents_and_transliterations_fold_both_ways() {
        let same = [
            &["müller", "mueller", "muller"][..],
            &["søren", "soeren", "soren"],
            &["åsa", "aasa", "asa"],
            &["strauß", "strauss", "straus"],
            &["josé garcía", "jose garcia"],
            &["jürgen weiß", "juergen weiss", "jurgen weis"],
            &["łódź", "lodz"],
            &["æble", "aeble", "able"],
            &["françois", "francois"],
            &["dvořák", "dvorak"],
        ];
        for spellings in same {
            let folded: Vec<String> = spellings.iter().map(|s| fold_accents(s)).collect();
            assert!(
                folded.iter().all(|f| *f == folded[0]),
                "{spellings:?}: {folded:?}"
            );
        }
        // A prefix typed without accents is a prefix of the folded name.
        assert!(fold_accents("müller").starts_with(&fold_accents("mue")));
        assert!(fold_accents("samuel").starts_with(&fold_accents("samue")));
        // Names that differ stay apart.
        assert_ne!(fold_accents("müller"), fold_accents("miller"));
        assert_ne!(fold_accents("søren"), fold_accents("sarah"));
    }
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
        let rules = MatchRules {
            country_code: Some("49".into()),
            trunk_prefix: Some("0".into()),
            ..MatchRules::default()
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
        assert_eq!(canonical_number("030 1", &MatchRules::default()), None);
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
        assert!(approx_matches("Alan Turing", "Allan Turing"));
        assert!(approx_matches("Jürgen Müller", "jurgen muller"));
        assert!(!approx_matches("Alan Turing", "turing alan"));
        assert!(!approx_matches("Alan Turing", "hopper"));
    }

    #[test]
    fn metaphone_codes() {
        assert_eq!(metaphone("smith"), "SM0");
        assert_eq!(metaphone("smyth"), "SM0");
        assert_eq!(metaphone("smit"), "SMT");
        assert_eq!(metaphone("john"), "JN");
        assert_eq!(metaphone("knight"), "NFT");
        assert_eq!(metaphone("thompson"), "0MPS");
    }
}
