//! Search filters (RFC 4515), compiled against the schema and evaluated with
//! three-valued logic (RFC 4511 4.5.1.7): an item naming an unknown attribute, or
//! using a matching rule the attribute lacks, is Undefined; it never fails a search.

use super::MatchRules;
use super::matching::{self, Substrings};
use super::schema::{Attr, Rule};
use ldap3_proto::proto::LdapFilter;

/// Bounds on what a client may ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    pub max_depth: usize,
    pub max_terms: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("filter nested too deep")]
    TooDeep,
    #[error("filter has too many terms")]
    TooManyTerms,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Undefined,
}

/// A compiled filter: attributes resolved, assertions normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Equal {
        attr: Attr,
        value: String,
        /// The reverse-lookup form of a number assertion, when configured.
        canonical: Option<String>,
    },
    Substring {
        attr: Attr,
        parts: Substrings,
    },
    Present(Attr),
    Approx {
        attr: Attr,
        value: String,
    },
    /// Equality by a rule other than the attribute's own (`(sn:caseExactMatch:=X)`),
    /// on the values as the entry holds them; `value` is normalised by `rule`.
    Match {
        attr: Attr,
        rule: MatchRule,
        value: String,
    },
    /// Always true: `(objectClass=*)`.
    True,
    Undefined,
}

/// What evaluation needs from an entry: its normalised values.
pub trait Values {
    /// Calls `f` on each normalised value of `attr` (and its reverse-lookup form for
    /// numbers) until it returns true; says whether it did.
    fn any(&self, attr: Attr, f: impl FnMut(&str, Option<&str>) -> bool) -> bool;

    /// Calls `f` on each value of `attr` as the entry holds it, until it returns
    /// true; says whether it did.
    fn any_raw(&self, attr: Attr, f: impl FnMut(&str) -> bool) -> bool;
}

/// The equality rules an extensible match may name, by the values they compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchRule {
    CaseIgnore,
    CaseExact,
    CaseIgnoreIa5,
    CaseExactIa5,
    Telephone,
    ObjectIdentifier,
}

impl MatchRule {
    /// The rule of a name or OID, as `slapd` knows them.
    fn from_name(name: &str) -> Option<MatchRule> {
        Some(match name.to_ascii_lowercase().as_str() {
            "caseignorematch" | "2.5.13.2" => MatchRule::CaseIgnore,
            "caseexactmatch" | "2.5.13.5" => MatchRule::CaseExact,
            "caseignoreia5match" | "1.3.6.1.4.1.1466.109.114.2" => MatchRule::CaseIgnoreIa5,
            "caseexactia5match" | "1.3.6.1.4.1.1466.109.114.1" => MatchRule::CaseExactIa5,
            "telephonenumbermatch" | "2.5.13.20" => MatchRule::Telephone,
            "objectidentifiermatch" | "2.5.13.0" => MatchRule::ObjectIdentifier,
            _ => return None,
        })
    }

    /// The attribute's own equality rule.
    fn own(rule: Rule) -> Option<MatchRule> {
        match rule {
            Rule::CaseIgnore => Some(MatchRule::CaseIgnore),
            Rule::CaseIgnoreIa5 => Some(MatchRule::CaseIgnoreIa5),
            Rule::Telephone => Some(MatchRule::Telephone),
            Rule::ObjectIdentifier => Some(MatchRule::ObjectIdentifier),
            Rule::None => None,
        }
    }

    /// Can it compare values of an attribute matched by `rule` (by their syntax,
    /// as slapd allows: the directory string rules apply to numbers too)?
    fn usable_with(self, rule: Rule) -> bool {
        match self {
            MatchRule::CaseIgnore | MatchRule::CaseExact => {
                matches!(rule, Rule::CaseIgnore | Rule::Telephone)
            }
            MatchRule::CaseIgnoreIa5 | MatchRule::CaseExactIa5 => rule == Rule::CaseIgnoreIa5,
            MatchRule::Telephone => rule == Rule::Telephone,
            MatchRule::ObjectIdentifier => rule == Rule::ObjectIdentifier,
        }
    }

    /// A value as this rule compares it.
    pub fn normalize(self, s: &str) -> String {
        match self {
            MatchRule::CaseIgnore => matching::case_ignore(s, true, true),
            MatchRule::CaseExact => matching::case_exact(s),
            MatchRule::CaseIgnoreIa5 => matching::normalize(Rule::CaseIgnoreIa5, s),
            MatchRule::CaseExactIa5 => matching::case_exact(s),
            MatchRule::Telephone => matching::telephone(s),
            MatchRule::ObjectIdentifier => matching::normalize(Rule::ObjectIdentifier, s),
        }
    }
}

impl Filter {
    /// Compiles a filter for the entries under `base_dn` (whose attribute value
    /// assertions `:dn:` matches reach).
    pub fn compile(
        f: &LdapFilter,
        limits: &FilterLimits,
        rules: &MatchRules,
        base_dn: &str,
    ) -> Result<Filter, FilterError> {
        let mut terms = 0;
        let scope = Scope { rules, base_dn };
        compile(f, limits, &scope, 0, &mut terms)
    }

    pub fn eval(&self, e: &impl Values) -> Truth {
        match self {
            Filter::And(items) => {
                let mut out = Truth::True;
                for f in items {
                    match f.eval(e) {
                        Truth::False => return Truth::False,
                        Truth::Undefined => out = Truth::Undefined,
                        Truth::True => {}
                    }
                }
                out
            }
            Filter::Or(items) => {
                let mut out = Truth::False;
                for f in items {
                    match f.eval(e) {
                        Truth::True => return Truth::True,
                        Truth::Undefined => out = Truth::Undefined,
                        Truth::False => {}
                    }
                }
                out
            }
            Filter::Not(f) => match f.eval(e) {
                Truth::True => Truth::False,
                Truth::False => Truth::True,
                Truth::Undefined => Truth::Undefined,
            },
            Filter::Equal {
                attr,
                value,
                canonical,
            } => truth(e.any(*attr, |v, c| {
                v == value || (canonical.is_some() && c.is_some() && c == canonical.as_deref())
            })),
            Filter::Substring { attr, parts } => truth(e.any(*attr, |v, _| parts.matches(v))),
            Filter::Present(attr) => truth(e.any(*attr, |_, _| true)),
            Filter::Approx { attr, value } => {
                truth(e.any(*attr, |v, _| matching::approx_matches(v, value)))
            }
            Filter::Match { attr, rule, value } => {
                truth(e.any_raw(*attr, |v| rule.normalize(v) == *value))
            }
            Filter::True => Truth::True,
            Filter::Undefined => Truth::Undefined,
        }
    }

    /// Can it be Undefined for some entry (does it hold an Undefined term)?
    pub fn may_be_undefined(&self) -> bool {
        match self {
            Filter::Undefined => true,
            Filter::And(items) | Filter::Or(items) => items.iter().any(Filter::may_be_undefined),
            Filter::Not(inner) => inner.may_be_undefined(),
            _ => false,
        }
    }

    /// Evaluates against raw values (for the few entries that are not contacts).
    pub fn matches_values<'a>(&self, get: &dyn Fn(Attr) -> Vec<&'a str>) -> bool {
        struct Raw<'f, 'a>(&'f dyn Fn(Attr) -> Vec<&'a str>);
        impl Values for Raw<'_, '_> {
            fn any(&self, attr: Attr, mut f: impl FnMut(&str, Option<&str>) -> bool) -> bool {
                (self.0)(attr)
                    .into_iter()
                    .any(|v| f(&matching::normalize(attr.rule(), v), None))
            }
            fn any_raw(&self, attr: Attr, f: impl FnMut(&str) -> bool) -> bool {
                (self.0)(attr).into_iter().any(f)
            }
        }
        self.eval(&Raw(get)) == Truth::True
    }
}

fn truth(b: bool) -> Truth {
    if b { Truth::True } else { Truth::False }
}

/// What a filter is compiled against.
struct Scope<'a> {
    rules: &'a MatchRules,
    base_dn: &'a str,
}

fn compile(
    f: &LdapFilter,
    limits: &FilterLimits,
    scope: &Scope,
    depth: usize,
    terms: &mut usize,
) -> Result<Filter, FilterError> {
    let rules = scope.rules;
    *terms += 1;
    if *terms > limits.max_terms {
        return Err(FilterError::TooManyTerms);
    }
    if depth > limits.max_depth {
        return Err(FilterError::TooDeep);
    }
    let all = |items: &[LdapFilter], terms: &mut usize| {
        items
            .iter()
            .map(|f| compile(f, limits, scope, depth + 1, terms))
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(match f {
        LdapFilter::And(items) => Filter::And(all(items, terms)?),
        LdapFilter::Or(items) => Filter::Or(all(items, terms)?),
        LdapFilter::Not(inner) => {
            Filter::Not(Box::new(compile(inner, limits, scope, depth + 1, terms)?))
        }
        LdapFilter::Present(name) => match Attr::from_name(name) {
            Some(Attr::ObjectClass) => Filter::True,
            Some(attr) => Filter::Present(attr),
            None => Filter::Undefined,
        },
        LdapFilter::Equality(name, value) => equal(name, value, rules),
        // `name` is the supertype of cn, sn, givenName, o, ou, title, l, st and c: an assertion
        // on it holds when it holds on any of them.
        LdapFilter::Substring(name, _) | LdapFilter::Approx(name, _) if is_name(name) => {
            Filter::Or(
                NAME_SUBTYPES
                    .iter()
                    .map(|a| compile(&with_attr(f, a.name()), limits, scope, depth + 1, terms))
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
        // No substring at all (the grammar wants one): slapd matches nothing.
        LdapFilter::Substring(_, sub)
            if sub.initial.is_none() && sub.any.is_empty() && sub.final_.is_none() =>
        {
            Filter::Undefined
        }
        LdapFilter::Substring(name, sub) => match Attr::from_name(name) {
            Some(attr)
                if matches!(
                    attr.rule(),
                    Rule::CaseIgnore | Rule::CaseIgnoreIa5 | Rule::Telephone
                ) && sub
                    .initial
                    .iter()
                    .chain(&sub.any)
                    .chain(&sub.final_)
                    .all(|p| valid_assertion(attr.rule(), p)) =>
            {
                let parts = Substrings::normalize(
                    attr.rule(),
                    sub.initial.as_deref(),
                    &sub.any,
                    sub.final_.as_deref(),
                );
                Filter::Substring {
                    attr,
                    parts: if folds(attr, rules) {
                        parts.folded()
                    } else {
                        parts
                    },
                }
            }
            _ => Filter::Undefined,
        },
        LdapFilter::Approx(name, value) => match Attr::from_name(name) {
            // Names and mail have an approximate rule; the others fall back to equality.
            Some(attr) if attr.has_approx() => Filter::Approx {
                attr,
                value: value.clone(),
            },
            _ => equal(name, value, rules),
        },
        // No attribute of the phone book has an ordering rule in OpenLDAP's schema.
        LdapFilter::GreaterOrEqual(..) | LdapFilter::LessOrEqual(..) => Filter::Undefined,
        LdapFilter::Extensible(m) => extensible(m, scope),
    })
}

/// The attributes whose supertype is `name`.
const NAME_SUBTYPES: [Attr; 9] = [
    Attr::Cn,
    Attr::Sn,
    Attr::GivenName,
    Attr::O,
    Attr::Ou,
    Attr::Title,
    Attr::L,
    Attr::St,
    Attr::C,
];

fn is_name(attr: &str) -> bool {
    attr.eq_ignore_ascii_case("name") || attr == "2.5.4.41"
}

/// The same assertion on another attribute.
fn with_attr(f: &LdapFilter, attr: &str) -> LdapFilter {
    match f {
        LdapFilter::Equality(_, v) => LdapFilter::Equality(attr.to_string(), v.clone()),
        LdapFilter::Substring(_, s) => LdapFilter::Substring(attr.to_string(), s.clone()),
        LdapFilter::Approx(_, v) => LdapFilter::Approx(attr.to_string(), v.clone()),
        other => other.clone(),
    }
}

/// An extensible match: `(sn:=x)` is equality by the attribute's own rule,
/// `(sn:caseExactMatch:=X)` by another that applies to its values, `(:rule:=x)` by
/// the rule on every attribute it applies to, and `:dn:` also holds when an
/// attribute value assertion of the entry's DN matches (those of the base DN hold
/// for every entry, and the entry's own `uid=` is its uid).
fn extensible(m: &ldap3_proto::proto::LdapMatchingRuleAssertion, scope: &Scope) -> Filter {
    let rule = match m.matching_rule.as_deref().map(MatchRule::from_name) {
        Some(None) => return Filter::Undefined,
        Some(Some(rule)) => Some(rule),
        None => None,
    };
    let value = m.match_value.as_str();
    let by_rule = |attr: Attr| {
        let own = MatchRule::own(attr.rule());
        match rule {
            None => equal(attr.name(), value, scope.rules),
            Some(r) if Some(r) == own => equal(attr.name(), value, scope.rules),
            // The other rules are stricter than the attribute's own: its equality
            // gives the candidates.
            Some(r) if r.usable_with(attr.rule()) => Filter::And(vec![
                equal(attr.name(), value, scope.rules),
                Filter::Match {
                    attr,
                    rule: r,
                    value: r.normalize(value),
                },
            ]),
            Some(_) => Filter::Undefined,
        }
    };
    let mut any = match m.type_.as_deref() {
        Some(name) => Attr::from_name(name).map(by_rule).into_iter().collect(),
        None if rule.is_none() => return Filter::Undefined,
        None => Attr::ALL
            .into_iter()
            .filter(|a| rule.is_some_and(|r| r.usable_with(a.rule())))
            .map(by_rule)
            .collect::<Vec<_>>(),
    };
    if m.dn_attributes {
        let mut typed = false;
        for (attr, dn_value) in super::dn::avas(scope.base_dn) {
            if m.type_.as_deref().is_some_and(|t| !same_type(t, &attr)) {
                continue;
            }
            typed = true;
            let Some(own) = dn_rule(&attr) else {
                continue;
            };
            let Some(r) = rule.or(MatchRule::own(own)) else {
                continue;
            };
            if r.usable_with(own) && r.normalize(&dn_value) == r.normalize(value) {
                return Filter::True;
            }
        }
        // A type of the base DN that no entry holds as an attribute: false.
        if typed && any.is_empty() {
            return Filter::Or(Vec::new());
        }
    }
    match any.len() {
        0 => Filter::Undefined,
        1 => any.remove(0),
        _ => Filter::Or(any),
    }
}

/// Do two attribute type names (or OIDs) name the same type?
fn same_type(a: &str, b: &str) -> bool {
    let canonical = |t: &str| {
        let t = t.to_ascii_lowercase();
        match t.as_str() {
            "domaincomponent" | "0.9.2342.19200300.100.1.25" => "dc".to_string(),
            _ => Attr::from_name(&t).map_or(t, |a| a.name().to_ascii_lowercase()),
        }
    };
    canonical(a) == canonical(b)
}

/// The equality rule of an attribute type found in a DN.
fn dn_rule(attr: &str) -> Option<Rule> {
    if same_type(attr, "dc") {
        return Some(Rule::CaseIgnoreIa5);
    }
    match Attr::from_name(attr) {
        Some(a) => Some(a.rule()),
        // The other naming attributes of RFC 4519 are directory strings.
        None => ["c", "l", "st", "street"]
            .contains(&attr)
            .then_some(Rule::CaseIgnore),
    }
}

/// Is an assertion value valid for the attribute's syntax? slapd answers Undefined
/// for one that is not: a number with characters outside PrintableString, a mail
/// address that is not IA5 (ASCII).
fn valid_assertion(rule: Rule, value: &str) -> bool {
    match rule {
        Rule::Telephone => value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:?=".contains(c)),
        Rule::CaseIgnoreIa5 => value.is_ascii(),
        _ => true,
    }
}

/// Whether values of `attr` are matched without their accents.
pub fn folds(attr: Attr, rules: &MatchRules) -> bool {
    rules.fold_accents && attr.rule() == Rule::CaseIgnore
}

fn equal(name: &str, value: &str, rules: &MatchRules) -> Filter {
    if is_name(name) {
        return Filter::Or(
            NAME_SUBTYPES
                .iter()
                .map(|a| equal(a.name(), value, rules))
                .collect(),
        );
    }
    match Attr::from_name(name) {
        // A class slapd does not know is Undefined; any other is compared with the
        // entry's classes (contacts and the base entry have different ones).
        Some(Attr::ObjectClass)
            if super::object_classes::object_class_assertion(value.trim()).is_none() =>
        {
            Filter::Undefined
        }
        Some(attr) if !valid_assertion(attr.rule(), value) => Filter::Undefined,
        Some(attr) if attr.rule() != Rule::None => Filter::Equal {
            attr,
            value: match folds(attr, rules) {
                true => matching::fold_accents(&matching::normalize(attr.rule(), value)),
                false => matching::normalize(attr.rule(), value),
            },
            canonical: if attr.is_number() {
                matching::canonical_number(value, rules)
            } else {
                None
            },
        },
        _ => Filter::Undefined,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Entry(HashMap<Attr, Vec<&'static str>>);
    impl Values for Entry {
        fn any(&self, attr: Attr, mut f: impl FnMut(&str, Option<&str>) -> bool) -> bool {
            let rules = MatchRules {
                country_code: Some("49".into()),
                trunk_prefix: Some("0".into()),
                ..MatchRules::default()
            };
            self.0.get(&attr).into_iter().flatten().any(|v| {
                let c = matching::canonical_number(v, &rules);
                f(&matching::normalize(attr.rule(), v), c.as_deref())
            })
        }
        fn any_raw(&self, attr: Attr, f: impl FnMut(&str) -> bool) -> bool {
            self.0.get(&attr).into_iter().flatten().copied().any(f)
        }
    }

    fn entry() -> Entry {
        Entry(HashMap::from([
            (Attr::ObjectClass, vec!["top", "person", "inetOrgPerson"]),
            (Attr::Cn, vec!["Jürgen Müller"]),
            (Attr::Sn, vec!["Müller"]),
            (Attr::Uid, vec!["int-7"]),
            (Attr::TelephoneNumber, vec!["+49 30 1234567"]),
        ]))
    }

    fn eval_filter(f: &LdapFilter) -> Truth {
        let limits = FilterLimits {
            max_depth: 32,
            max_terms: 100,
        };
        let rules = MatchRules {
            country_code: Some("49".into()),
            trunk_prefix: Some("0".into()),
            ..MatchRules::default()
        };
        Filter::compile(f, &limits, &rules, "ou=people,dc=example")
            .unwrap()
            .eval(&entry())
    }

    fn eval(text: &str) -> Truth {
        eval_filter(&crate::directory::lookup::parse_text(text).unwrap())
    }

    #[test]
    fn every_filter_form() {
        use Truth::*;
        assert_eq!(eval("(cn=jürgen müller)"), True);
        assert_eq!(eval("(CN=JÜRGEN  MÜLLER)"), True);
        assert_eq!(eval("(sn=mül*)"), True);
        assert_eq!(eval("(sn=*ller)"), True);
        assert_eq!(eval("(cn=*gen*mül*)"), True);
        assert_eq!(eval("(telephoneNumber=*1234-567*)"), True);
        assert_eq!(eval("(telephoneNumber=+49301234567)"), True);
        assert_eq!(
            eval("(telephoneNumber=030 1234567)"),
            True,
            "reverse lookup"
        );
        assert_eq!(
            eval("(telephoneNumber=0049301234567)"),
            True,
            "reverse lookup"
        );
        assert_eq!(eval("(mobile=*)"), False);
        assert_eq!(eval("(objectClass=*)"), True);
        assert_eq!(eval("(objectClass=PERSON)"), True);
        assert_eq!(eval("(objectClass=2.5.6.6)"), True);
        assert_eq!(eval("(cn~=jurgen)"), True);
        assert_eq!(eval("(sn>=a)"), Undefined);
        assert_eq!(eval("(shoeSize=42)"), Undefined);
        assert_eq!(eval("(|(shoeSize=42)(sn=müller))"), True);
        assert_eq!(eval("(|(shoeSize=42)(sn=x))"), Undefined);
        assert_eq!(eval("(&(shoeSize=42)(sn=x))"), False);
        assert_eq!(eval("(!(shoeSize=42))"), Undefined);
        assert_eq!(eval("(!(sn=x))"), True);
        assert_eq!(eval_filter(&LdapFilter::And(vec![])), True);
        assert_eq!(eval_filter(&LdapFilter::Or(vec![])), False);
    }

    #[test]
    fn extensible_matches_by_rule_and_by_dn() {
        use Truth::*;
        assert_eq!(eval("(sn:caseExactMatch:=Müller)"), True);
        assert_eq!(eval("(sn:caseExactMatch:=müller)"), False);
        assert_eq!(eval("(sn:2.5.13.5:=  Müller )"), True);
        assert_eq!(
            eval("(telephoneNumber:caseExactMatch:=+49 30 1234567)"),
            True
        );
        assert_eq!(
            eval("(telephoneNumber:caseExactMatch:=+49301234567)"),
            False
        );
        assert_eq!(eval("(sn:telephoneNumberMatch:=müller)"), Undefined);
        assert_eq!(eval("(sn:noSuchMatch:=müller)"), Undefined);
        assert_eq!(eval("(:caseIgnoreMatch:=MÜLLER)"), True);
        assert_eq!(eval("(:caseExactMatch:=MÜLLER)"), False);
        assert_eq!(eval("(sn:dn:=müller)"), True);
        assert_eq!(eval("(ou:dn:=People)"), True);
        assert_eq!(eval("(ou:dn:caseExactMatch:=People)"), False);
        assert_eq!(eval("(dc:dn:=EXAMPLE)"), True);
        assert_eq!(eval("(dc:dn:=elsewhere)"), False);
        assert_eq!(eval("(!(dc:dn:=elsewhere))"), True);
        assert_eq!(eval("(:dn:caseIgnoreIA5Match:=example)"), True);
        assert_eq!(eval("(dc:=example)"), Undefined);
        assert_eq!(eval("(uid:dn:=INT-7)"), True);
        assert_eq!(eval("(uid:caseExactMatch:=int-7)"), True);
        assert_eq!(eval("(uid:caseExactMatch:=INT-7)"), False);
    }

    #[test]
    fn limits_are_enforced() {
        let limits = FilterLimits {
            max_depth: 3,
            max_terms: 5,
        };
        let rules = MatchRules::default();
        let deep = ldap3_proto::parse_ldap_filter_str("(&(&(&(&(&(cn=a))))))").unwrap();
        assert_eq!(
            Filter::compile(&deep, &limits, &rules, ""),
            Err(FilterError::TooDeep)
        );
        let wide = ldap3_proto::parse_ldap_filter_str("(|(cn=a)(cn=b)(cn=c)(cn=d)(cn=e))").unwrap();
        assert_eq!(
            Filter::compile(&wide, &limits, &rules, ""),
            Err(FilterError::TooManyTerms)
        );
    }
}
