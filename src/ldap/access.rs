//! The access log: one line per LDAP operation.

use ldap3_proto::proto::{LdapFilter, LdapResultCode, LdapSearchRequest, LdapSearchScope};
use std::fmt::Write;

/// Longest filter text written to the log; hostile filters can be huge.
const MAX_FILTER_TEXT: usize = 400;

#[derive(Debug, Clone)]
pub struct Record {
    pub op: &'static str,
    pub bind_dn: String,
    pub base: String,
    pub scope: &'static str,
    pub filter: String,
    pub attrs: String,
    pub size_limit: i32,
    pub entries: usize,
    pub code: LdapResultCode,
}

impl Record {
    pub fn simple(op: &'static str, bind_dn: &str, code: LdapResultCode) -> Record {
        Record {
            op,
            bind_dn: bind_dn.to_string(),
            base: String::new(),
            scope: "",
            filter: String::new(),
            attrs: String::new(),
            size_limit: 0,
            entries: 0,
            code,
        }
    }

    pub fn search(bind_dn: &str, req: &LdapSearchRequest) -> Record {
        Record {
            op: "search",
            bind_dn: bind_dn.to_string(),
            base: req.base.clone(),
            scope: match req.scope {
                LdapSearchScope::Base => "base",
                LdapSearchScope::OneLevel => "one",
                LdapSearchScope::Subtree => "sub",
                LdapSearchScope::Children => "children",
            },
            filter: filter_text(&req.filter),
            attrs: req.attrs.join(","),
            size_limit: req.sizelimit,
            entries: 0,
            code: LdapResultCode::Success,
        }
    }

    /// `client=… op=search bind="" base="…" scope=sub filter="(cn=ab*)" attrs=cn sizelimit=50 entries=3 result=0 us=41`
    pub fn line(&self, client: &str, micros: u128) -> String {
        let mut s = format!("client={client} op={} bind={:?}", self.op, self.bind_dn);
        if self.op == "search" {
            let _ = write!(
                s,
                " base={:?} scope={} filter={:?} attrs={:?} sizelimit={} entries={}",
                self.base, self.scope, self.filter, self.attrs, self.size_limit, self.entries
            );
        } else if !self.base.is_empty() {
            let _ = write!(s, " dn={:?}", self.base);
        }
        let _ = write!(s, " result={} us={micros}", self.code.clone() as i32);
        s
    }
}

/// The RFC 4515 text of a filter, cut at a readable length.
pub fn filter_text(f: &LdapFilter) -> String {
    let mut s = String::new();
    write_filter(&mut s, f);
    if s.len() > MAX_FILTER_TEXT {
        let mut cut = MAX_FILTER_TEXT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

fn write_filter(s: &mut String, f: &LdapFilter) {
    if s.len() > MAX_FILTER_TEXT {
        return;
    }
    match f {
        LdapFilter::And(v) | LdapFilter::Or(v) => {
            s.push('(');
            s.push(if matches!(f, LdapFilter::And(_)) {
                '&'
            } else {
                '|'
            });
            v.iter().for_each(|f| write_filter(s, f));
            s.push(')');
        }
        LdapFilter::Not(f) => {
            s.push_str("(!");
            write_filter(s, f);
            s.push(')');
        }
        LdapFilter::Equality(a, v) => item(s, a, "=", v),
        LdapFilter::GreaterOrEqual(a, v) => item(s, a, ">=", v),
        LdapFilter::LessOrEqual(a, v) => item(s, a, "<=", v),
        LdapFilter::Approx(a, v) => item(s, a, "~=", v),
        LdapFilter::Present(a) => {
            let _ = write!(s, "({a}=*)");
        }
        LdapFilter::Substring(a, sub) => {
            let _ = write!(s, "({a}=");
            if let Some(i) = &sub.initial {
                escape(s, i);
            }
            s.push('*');
            for any in &sub.any {
                escape(s, any);
                s.push('*');
            }
            if let Some(f) = &sub.final_ {
                escape(s, f);
            }
            s.push(')');
        }
        LdapFilter::Extensible(m) => {
            let _ = write!(
                s,
                "({}{}:{}:={})",
                m.type_.as_deref().unwrap_or(""),
                if m.dn_attributes { ":dn" } else { "" },
                m.matching_rule.as_deref().unwrap_or(""),
                m.match_value
            );
        }
    }
}

fn item(s: &mut String, attr: &str, op: &str, value: &str) {
    s.push('(');
    s.push_str(attr);
    s.push_str(op);
    escape(s, value);
    s.push(')');
}

fn escape(s: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '*' => s.push_str("\\2a"),
            '(' => s.push_str("\\28"),
            ')' => s.push_str("\\29"),
            '\\' => s.push_str("\\5c"),
            '\0' => s.push_str("\\00"),
            c => s.push(c),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip_to_text() {
        for text in [
            "(|(cn=*ab*)(telephoneNumber=12*))",
            "(&(objectClass=person)(!(mail=*)))",
            "(sn>=M)",
            "(cn~=smith)",
            "(cn=*x)",
        ] {
            let f = ldap3_proto::parse_ldap_filter_str(text).unwrap();
            assert_eq!(filter_text(&f), text);
        }
        let typed = LdapFilter::Equality("cn".into(), "a*(b)\\".into());
        assert_eq!(filter_text(&typed), "(cn=a\\2a\\28b\\29\\5c)");
    }

    #[test]
    fn what_a_client_sends_stays_on_one_line() {
        let forged = "x\n2026-01-01T00:00:00Z client=1.2.3.4:5 op=bind\r\u{1b}[2K";
        let mut search = Record::search(
            forged,
            &LdapSearchRequest {
                base: forged.into(),
                scope: LdapSearchScope::Subtree,
                aliases: ldap3_proto::proto::LdapDerefAliases::Never,
                sizelimit: 0,
                timelimit: 0,
                typesonly: false,
                filter: LdapFilter::Equality("cn".into(), forged.into()),
                attrs: vec![forged.into()],
            },
        );
        search.entries = 1;
        let mut extended = Record::simple("extended", "", LdapResultCode::ProtocolError);
        extended.base = forged.into();
        for record in [search, extended] {
            let line = record.line("127.0.0.1:1", 5);
            assert!(!line.contains(['\n', '\r', '\u{1b}']), "{line}");
        }
    }
}
