//! Temporary linear-scan directory (replaced by the indexed one).
#![allow(dead_code, clippy::all)]
use super::{Attr, Generation, NumberRules};
use ldap3_proto::proto::LdapFilter;
use std::cmp::Ordering;

pub struct FilterLimits {
    pub max_depth: usize,
    pub max_terms: usize,
}
#[derive(Debug)]
pub enum FilterError {
    TooDeep,
    TooManyTerms,
}
pub struct Filter(LdapFilter);
impl Filter {
    pub fn compile(f: &LdapFilter, _l: &FilterLimits) -> Result<Filter, FilterError> {
        Ok(Filter(f.clone()))
    }
    pub fn matches_values<'a>(&self, get: &dyn Fn(Attr) -> Vec<&'a str>) -> bool {
        eval(&self.0, get)
    }
}
fn eval<'a>(f: &LdapFilter, get: &dyn Fn(Attr) -> Vec<&'a str>) -> bool {
    let vals = |a: &str| Attr::from_name(a).map(|a| get(a)).unwrap_or_default();
    match f {
        LdapFilter::And(v) => v.iter().all(|f| eval(f, get)),
        LdapFilter::Or(v) => v.iter().any(|f| eval(f, get)),
        LdapFilter::Not(f) => !eval(f, get),
        LdapFilter::Equality(a, v) => vals(a).iter().any(|x| x.eq_ignore_ascii_case(v)),
        LdapFilter::Present(a) => a.eq_ignore_ascii_case("objectclass") || !vals(a).is_empty(),
        LdapFilter::Substring(a, s) => vals(a).iter().any(|x| {
            let x = x.to_lowercase();
            let i = s
                .initial
                .as_deref()
                .map(|i| x.starts_with(&i.to_lowercase()))
                .unwrap_or(true);
            let f = s
                .final_
                .as_deref()
                .map(|i| x.ends_with(&i.to_lowercase()))
                .unwrap_or(true);
            let a = s.any.iter().all(|p| x.contains(&p.to_lowercase()));
            i && f && a
        }),
        _ => false,
    }
}

pub struct Directory {
    generation: u64,
    base_dn: String,
    entries: Vec<(String, Vec<(Attr, Vec<String>)>)>,
}
pub struct EntryRef<'a> {
    d: &'a Directory,
    id: u32,
}
impl<'a> EntryRef<'a> {
    pub fn dn(&self) -> String {
        format!("uid={},{}", self.uid(), self.d.base_dn)
    }
    pub fn uid(&self) -> &'a str {
        &self.d.entries[self.id as usize].0
    }
    pub fn values(&self, attr: Attr) -> impl Iterator<Item = &'a str> + 'a {
        self.d.entries[self.id as usize]
            .1
            .iter()
            .filter(move |(a, _)| *a == attr)
            .flat_map(|(_, v)| v.iter().map(|s| s.as_str()))
    }
    pub fn attrs(&self) -> impl Iterator<Item = (Attr, Vec<&'a str>)> + 'a {
        self.d.entries[self.id as usize]
            .1
            .iter()
            .map(|(a, v)| (*a, v.iter().map(|s| s.as_str()).collect()))
    }
}
impl Directory {
    pub fn build(g: &Generation, base_dn: &str, _r: &NumberRules) -> Directory {
        let entries = g
            .contacts
            .iter()
            .map(|c| {
                let k = &c.contact;
                let mut v = vec![
                    (
                        Attr::ObjectClass,
                        vec![
                            "top".into(),
                            "person".into(),
                            "organizationalPerson".into(),
                            "inetOrgPerson".into(),
                        ],
                    ),
                    (Attr::Uid, vec![c.uid.clone()]),
                    (Attr::Cn, vec![k.common_name()]),
                ];
                if !k.surname.is_empty() {
                    v.push((Attr::Sn, vec![k.surname.clone()]));
                }
                if !k.given_name.is_empty() {
                    v.push((Attr::GivenName, vec![k.given_name.clone()]));
                }
                let work: Vec<String> = k
                    .numbers(crate::contacts::PhoneKind::Work)
                    .map(String::from)
                    .collect();
                if !work.is_empty() {
                    v.push((Attr::TelephoneNumber, work));
                }
                let m: Vec<String> = k
                    .numbers(crate::contacts::PhoneKind::Mobile)
                    .map(String::from)
                    .collect();
                if !m.is_empty() {
                    v.push((Attr::Mobile, m));
                }
                (c.uid.clone(), v)
            })
            .collect();
        Directory {
            generation: g.number,
            base_dn: base_dn.to_string(),
            entries,
        }
    }
    pub fn empty(base_dn: &str) -> Directory {
        Directory {
            generation: 0,
            base_dn: base_dn.into(),
            entries: vec![],
        }
    }
    pub fn generation(&self) -> u64 {
        self.generation
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn base_dn(&self) -> &str {
        &self.base_dn
    }
    pub fn entry(&self, id: u32) -> EntryRef<'_> {
        EntryRef { d: self, id }
    }
    pub fn find_uid(&self, uid: &str) -> Option<u32> {
        self.entries
            .iter()
            .position(|e| e.0.eq_ignore_ascii_case(uid))
            .map(|p| p as u32)
    }
    pub fn matches(&self, f: &Filter, id: u32) -> bool {
        let e = self.entry(id);
        f.matches_values(&|a| e.values(a).collect())
    }
    pub fn search_from<'a>(
        &'a self,
        f: &'a Filter,
        after: Option<u32>,
    ) -> impl Iterator<Item = u32> + 'a {
        let start = after.map(|a| a + 1).unwrap_or(0);
        (start..self.entries.len() as u32).filter(move |id| self.matches(f, *id))
    }
    pub fn search<'a>(&'a self, f: &'a Filter) -> impl Iterator<Item = u32> + 'a {
        self.search_from(f, None)
    }
    pub fn cmp_for_sort(&self, attr: Attr, a: u32, b: u32) -> Ordering {
        let x = self.entry(a).values(attr).next().map(|s| s.to_lowercase());
        let y = self.entry(b).values(attr).next().map(|s| s.to_lowercase());
        match (x, y) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        }
    }
}
