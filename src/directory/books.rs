//! Several phone books from one served directory (`[[phonebooks]]`): each is the
//! entries of some sources, under its own base DN, built as a directory of its own
//! (its own index and orders: it shares nothing that changes with the others), and
//! served with the main one as one generation.

use super::served::{Builder, Directory};
use std::sync::Arc;

/// What a phone book holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookSpec {
    pub name: String,
    pub base_dn: String,
    /// Source names as entries' uids start with them (`int`, `ext`, `corp`...).
    pub sources: Vec<String>,
}

/// The source an entry came from: what its uid starts with (see `merge::uid`;
/// source names hold no hyphen).
pub fn source_of(uid: &str) -> &str {
    uid.split_once('-').map_or(uid, |(source, _)| source)
}

impl Directory {
    /// This directory with its phone books built from its entries. Built on every
    /// core, one phone book after the other.
    pub fn with_books(mut self, specs: &[BookSpec]) -> Directory {
        let books = specs
            .iter()
            .map(|spec| {
                let mut b = Builder::new(self.generation(), &spec.base_dn, self.rules());
                for id in 0..self.len() as u32 {
                    let source = source_of(self.entry(id).uid());
                    if spec.sources.iter().any(|s| s == source) {
                        b.copy_entry(&self, id);
                    }
                }
                (spec.name.clone(), Arc::new(b.finish()))
            })
            .collect();
        self.books = books;
        self
    }

    /// The phone book of that name.
    pub fn book(&self, name: &str) -> Option<&Arc<Directory>> {
        self.books.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }

    /// Every other phone book, with its name.
    pub fn books(&self) -> impl Iterator<Item = (&str, &Arc<Directory>)> {
        self.books.iter().map(|(n, d)| (n.as_str(), d))
    }

    /// Whether `other` is this directory or one of its phone books: what a
    /// connection may keep between requests while this one is served.
    pub fn serves(self: &Arc<Self>, other: &Arc<Directory>) -> bool {
        Arc::ptr_eq(self, other) || self.books.iter().any(|(_, d)| Arc::ptr_eq(d, other))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::{Contact, Phone, PhoneKind};
    use crate::directory::{Generation, MatchRules, ServedContact};

    #[test]
    fn a_phone_book_is_the_entries_of_its_sources_and_finds_them_alone() {
        let person = |source: &str, id: &str, name: &str, number: &str| ServedContact {
            uid: format!("{source}-{id}"),
            source: source.into(),
            contact: Contact {
                given_name: name.into(),
                surname: "Berg".into(),
                phones: vec![Phone {
                    kind: PhoneKind::Work,
                    number: number.into(),
                }],
                photo: if source == "crm" {
                    vec![1, 2, 3]
                } else {
                    vec![]
                },
                ..Contact::default()
            },
        };
        let generation = Generation {
            number: 3,
            created: 0,
            contacts: vec![
                person("int", "1", "Anna", "100"),
                person("ext", "x1", "Bert", "+49 30 1"),
                person("crm", "c1", "Cleo", "+49 30 2"),
                person("int", "2", "Dora", "101"),
            ],
        };
        let dir = Directory::build(&generation, "dc=main", &MatchRules::default()).with_books(&[
            BookSpec {
                name: "lobby".into(),
                base_dn: "dc=lobby".into(),
                sources: vec!["int".into()],
            },
            BookSpec {
                name: "sales".into(),
                base_dn: "dc=sales".into(),
                sources: vec!["int".into(), "crm".into()],
            },
        ]);
        let names = |d: &Directory, filter: &str| -> Vec<String> {
            let f = crate::directory::lookup::parse(filter, d).unwrap();
            d.search(&f)
                .map(|id| {
                    d.entry(id)
                        .values(crate::directory::Attr::GivenName)
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect()
        };
        assert_eq!(names(&dir, "(sn=berg)"), ["Anna", "Bert", "Cleo", "Dora"]);
        let lobby = dir.book("lobby").unwrap();
        assert_eq!(names(lobby, "(sn=berg)"), ["Anna", "Dora"]);
        assert_eq!(names(lobby, "(telephoneNumber=101)"), ["Dora"]);
        assert_eq!(lobby.entry(1).dn(), "uid=int-2,dc=lobby");
        let sales = dir.book("sales").unwrap();
        assert_eq!(
            names(sales, "(|(givenName=c*)(telephoneNumber=100))"),
            ["Anna", "Cleo"]
        );
        assert_eq!(names(sales, "(jpegPhoto=*)"), ["Cleo"]);
        assert_eq!(sales.generation(), 3);
        assert!(dir.book("none").is_none());
        let dir = Arc::new(dir);
        let sales = dir.book("sales").unwrap().clone();
        assert!(dir.serves(&dir) && dir.serves(&sales));
        assert!(!sales.serves(&dir));
    }
}
