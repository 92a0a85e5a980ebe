//! The filters phones and PBXs send, enumerated: every shape (equality, prefix,
//! contains, suffix, presence AND a term, NOT, OR of 2 to 6 attributes, AND of OR,
//! and each phone preset's own filters) on every served attribute, with typed text
//! of one to six characters, each as a search that finds entries and one that finds
//! none. The typed text is taken from the directory's own values (or made up and
//! checked to find nothing), so that each class is what its name says.
//!
//! A class is named `shape attribute length finds|none`; the benchmark runs each
//! class in turn and prints its worst, and the differential test compares every
//! filter's answer with OpenLDAP's.

use crate::directory::lookup::{self, escape};
use crate::directory::{Attr, Directory};
use std::collections::BTreeMap;

/// One filter of a class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub class: String,
    pub filter: String,
}

/// Every attribute a substring filter can name: all but objectClass (no substring
/// rule), facsimileTelephoneNumber and jpegPhoto (no matching rule at all in
/// OpenLDAP's schema).
pub fn text_attrs() -> impl Iterator<Item = Attr> {
    Attr::ALL.into_iter().filter(|a| {
        !matches!(
            a,
            Attr::ObjectClass | Attr::FacsimileTelephoneNumber | Attr::JpegPhoto
        )
    })
}

const NAME_ATTRS: [Attr; 6] = [
    Attr::Cn,
    Attr::Sn,
    Attr::GivenName,
    Attr::O,
    Attr::DisplayName,
    Attr::Ou,
];
const NUMBER_ATTRS: [Attr; 6] = [
    Attr::TelephoneNumber,
    Attr::Mobile,
    Attr::HomePhone,
    Attr::IpPhone,
    Attr::OtherTelephone,
    Attr::Pager,
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Prefix,
    Contains,
    Suffix,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Part::Prefix => "prefix",
            Part::Contains => "contains",
            Part::Suffix => "suffix",
        }
    }

    /// `(attr=text*)` and the like.
    fn filter(self, attr: Attr, text: &str) -> String {
        let t = escape(text);
        let a = attr.name();
        match self {
            Part::Prefix => format!("({a}={t}*)"),
            Part::Contains => format!("({a}=*{t}*)"),
            Part::Suffix => format!("({a}=*{t})"),
        }
    }
}

struct Maker<'a> {
    dir: &'a Directory,
    rng: fastrand::Rng,
    per_class: usize,
    out: Vec<Case>,
    /// `holders`, once per attribute.
    sparse: BTreeMap<Attr, std::rc::Rc<Vec<u32>>>,
}

impl Maker<'_> {
    fn finds(&self, filter: &str) -> Option<bool> {
        let f = lookup::parse(filter, self.dir).ok()?;
        Some(self.dir.search(&f).next().is_some())
    }

    /// The value of `attr` of a random entry that has one, as a phone user types
    /// it: numbers without their spaces and hyphens.
    fn value(&mut self, attr: Attr) -> Option<String> {
        let holders = self.holders(attr);
        for _ in 0..64 {
            let id = match holders.is_empty() {
                true => self.rng.u32(0..self.dir.len() as u32),
                false => holders[self.rng.usize(0..holders.len())],
            };
            let values: Vec<&str> = self.dir.entry(id).values(attr).collect();
            if values.is_empty() {
                continue;
            }
            let v = values[self.rng.usize(0..values.len())];
            return Some(if attr.is_number() {
                v.chars().filter(|c| !matches!(c, ' ' | '-')).collect()
            } else {
                v.to_string()
            });
        }
        None
    }

    /// The entries holding `attr` when fewer than one in 8 do (an address), so
    /// that values are picked among them; empty when most do.
    fn holders(&mut self, attr: Attr) -> std::rc::Rc<Vec<u32>> {
        if let Some(h) = self.sparse.get(&attr) {
            return h.clone();
        }
        let few = self.dir.len() / 8;
        let held: Vec<u32> = lookup::parse(&format!("({}=*)", attr.name()), self.dir)
            .map(|present| self.dir.search(&present).take(few + 1).collect())
            .unwrap_or_default();
        let held = std::rc::Rc::new(if held.len() > few { Vec::new() } else { held });
        self.sparse.insert(attr, held.clone());
        held
    }

    /// `len` characters of a value of `attr` where `part` says.
    fn typed(&mut self, attr: Attr, part: Part, len: usize) -> Option<String> {
        for _ in 0..16 {
            let v: Vec<char> = self.value(attr)?.chars().collect();
            if v.len() < len {
                continue;
            }
            let start = match part {
                Part::Prefix => 0,
                Part::Suffix => v.len() - len,
                Part::Contains => self.rng.usize(0..=v.len() - len),
            };
            return Some(v[start..start + len].iter().collect());
        }
        None
    }

    /// Made-up text of `len` characters of the kind `attr` holds.
    fn made_up(&mut self, attr: Attr, len: usize) -> String {
        const LETTERS: &[char] = &[
            'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q',
            'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ø', 'ß', 'ñ', 'é',
        ];
        const DIGITS: &[char] = &['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+'];
        let pool = if attr.is_number() { DIGITS } else { LETTERS };
        (0..len)
            .map(|_| pool[self.rng.usize(0..pool.len())])
            .collect()
    }

    /// Adds up to `per_class` filters from `make` whose outcome is `finds`,
    /// to the class `name`; `make` returns None when it has nothing to offer.
    fn class(
        &mut self,
        name: &str,
        finds: bool,
        mut make: impl FnMut(&mut Self) -> Option<String>,
    ) {
        let class = format!("{name} {}", if finds { "finds" } else { "none" });
        let mut seen = Vec::new();
        for _ in 0..self.per_class * 8 {
            if seen.len() == self.per_class {
                break;
            }
            let Some(filter) = make(self) else { break };
            if seen.contains(&filter) || self.finds(&filter) != Some(finds) {
                continue;
            }
            seen.push(filter);
        }
        self.out.extend(seen.into_iter().map(|filter| Case {
            class: class.clone(),
            filter,
        }));
    }

    /// A class for both outcomes: typed text taken from values, and made up.
    fn both(
        &mut self,
        name: &str,
        attr: Attr,
        len: usize,
        filter: impl Fn(&str) -> String,
        part: Part,
    ) {
        self.class(name, true, |m| m.typed(attr, part, len).map(|t| filter(&t)));
        self.class(name, false, |m| {
            let from_values = m.rng.bool();
            let t = match from_values {
                // Text of another attribute: found in the index, not here.
                true => {
                    let attrs: Vec<Attr> = text_attrs().collect();
                    let other = attrs[m.rng.usize(0..attrs.len())];
                    match m.typed(other, part, len) {
                        Some(t) => t,
                        None => m.made_up(attr, len),
                    }
                }
                false => m.made_up(attr, len),
            };
            Some(filter(&t))
        });
    }
}

/// The matrix of filters for a directory, `per_class` filters per class.
pub fn matrix(dir: &Directory, seed: u64, per_class: usize) -> Vec<Case> {
    let mut m = Maker {
        dir,
        rng: fastrand::Rng::with_seed(seed),
        per_class,
        out: Vec::new(),
        sparse: BTreeMap::new(),
    };
    for attr in text_attrs() {
        let a = attr.name();
        for part in [Part::Prefix, Part::Contains, Part::Suffix] {
            for len in 1..=6 {
                let name = format!("{} {a} {len}", part.name());
                m.both(&name, attr, len, |t| part.filter(attr, t), part);
            }
        }
        m.class(&format!("equal {a} whole"), true, |m| {
            m.value(attr).map(|v| format!("({a}={})", escape(&v)))
        });
        for len in 1..=6 {
            let name = format!("equal {a} {len}");
            m.both(
                &name,
                attr,
                len,
                |t| format!("({a}={})", escape(t)),
                Part::Prefix,
            );
        }
        let name = format!("present-and {a} 3");
        m.both(
            &name,
            Attr::Sn,
            3,
            |t| format!("(&({a}=*)(sn={}*))", escape(t)),
            Part::Prefix,
        );
        for len in 1..=2 {
            let name = format!("not {a} {len}");
            m.both(
                &name,
                attr,
                len,
                |t| format!("(!{})", Part::Prefix.filter(attr, t)),
                Part::Prefix,
            );
        }
        for finds in [true, false] {
            m.class(&format!("not-present {a} 0"), finds, |_| {
                Some(format!("(!({a}=*))"))
            });
        }
    }
    for (group, attrs) in [("names", NAME_ATTRS), ("numbers", NUMBER_ATTRS)] {
        for k in 2..=6 {
            for len in 1..=3 {
                let name = format!("or{k} {group} {len}");
                let terms = &attrs[..k];
                let filter = |t: &str| {
                    let inner: String = terms.iter().map(|a| Part::Prefix.filter(*a, t)).collect();
                    format!("(|{inner})")
                };
                m.both(&name, attrs[0], len, filter, Part::Prefix);
            }
        }
    }
    // AND of OR as phones send them: Polycom's, a name with a number, a number of a
    // person; `{t}` is the typed text.
    let and_of_or = [
        (
            "names",
            Attr::Sn,
            "(&(objectClass=person)(|(sn={t}*)(givenName={t}*)))",
        ),
        (
            "with-number",
            Attr::Cn,
            "(&(|(cn={t}*)(sn={t}*))(|(telephoneNumber=*)(mobile=*)))",
        ),
        (
            "numbers",
            Attr::TelephoneNumber,
            "(&(|(telephoneNumber={t}*)(mobile={t}*))(objectClass=inetOrgPerson))",
        ),
    ];
    for len in 1..=3 {
        for (name, attr, template) in and_of_or {
            let filter = |t: &str| template.replace("{t}", &escape(t));
            m.both(
                &format!("and-of-or {name} {len}"),
                attr,
                len,
                filter,
                Part::Prefix,
            );
        }
    }
    for preset in crate::phones::PRESETS {
        let id = preset.id;
        for len in 1..=3 {
            let name = move |t: &str| preset.query(t, false).map(|q| q.filter).unwrap_or_default();
            m.both(
                &format!("{id} name {len}"),
                Attr::Sn,
                len,
                name,
                Part::Prefix,
            );
        }
        if preset.number_filter.is_some() {
            for len in 2..=4 {
                let number =
                    move |t: &str| preset.query(t, false).map(|q| q.filter).unwrap_or_default();
                m.both(
                    &format!("{id} number {len}"),
                    Attr::TelephoneNumber,
                    len,
                    number,
                    Part::Prefix,
                );
            }
            for finds in [true, false] {
                m.class(&format!("{id} incoming-call full"), finds, |m| {
                    let n = match finds {
                        true => m.value(Attr::TelephoneNumber)?,
                        false => format!(
                            "+{}",
                            m.made_up(Attr::TelephoneNumber, 11).replace('+', "9")
                        ),
                    };
                    preset.query(&n, true).map(|q| q.filter)
                });
            }
        }
    }
    m.out
}

/// The cases grouped by class, in the order they were made.
pub fn by_class(cases: &[Case]) -> Vec<(String, Vec<String>)> {
    let mut order = Vec::new();
    let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for c in cases {
        let g = groups.entry(&c.class).or_default();
        if g.is_empty() {
            order.push(c.class.clone());
        }
        g.push(c.filter.clone());
    }
    order
        .into_iter()
        .map(|class| {
            let filters = groups.remove(class.as_str()).unwrap_or_default();
            (class, filters)
        })
        .collect()
}
