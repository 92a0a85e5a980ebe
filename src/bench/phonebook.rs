//! A generated phone book with realistic international names and numbers, the same
//! for every run with the same seed: the data the benchmarks load into `sop` and
//! into `slapd`.

use crate::contacts::{Contact, Phone, PhoneKind};

/// A country: its calling code, trunk prefix, and names as people write them.
struct Country {
    code: &'static str,
    given: &'static [&'static str],
    family: &'static [&'static str],
}

const COUNTRIES: &[Country] = &[
    Country {
        code: "49",
        given: &[
            "Jürgen",
            "Anna",
            "Lukas",
            "Sophie",
            "Maximilian",
            "Marie",
            "Jörg",
            "Käthe",
            "Felix",
            "Lena",
        ],
        family: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schäfer",
            "Groß",
        ],
    },
    Country {
        code: "33",
        given: &[
            "Jean",
            "Marie",
            "Élodie",
            "François",
            "Camille",
            "Hélène",
            "Louis",
            "Chloé",
            "Benoît",
            "Inès",
        ],
        family: &[
            "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
            "Lefèvre", "Moreau",
        ],
    },
    Country {
        code: "34",
        given: &[
            "José",
            "María",
            "Sofía",
            "Alejandro",
            "Lucía",
            "Martín",
            "Begoña",
            "Íñigo",
            "Paula",
            "Álvaro",
        ],
        family: &[
            "García",
            "Fernández",
            "González",
            "Rodríguez",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Muñoz",
        ],
    },
    Country {
        code: "48",
        given: &[
            "Łukasz",
            "Agnieszka",
            "Paweł",
            "Małgorzata",
            "Krzysztof",
            "Zofia",
            "Wojciech",
            "Joanna",
            "Michał",
            "Ewa",
        ],
        family: &[
            "Nowak",
            "Kowalski",
            "Wiśniewski",
            "Wójcik",
            "Kowalczyk",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
        ],
    },
    Country {
        code: "46",
        given: &[
            "Åsa", "Björn", "Linnéa", "Oskar", "Märta", "Erik", "Ingrid", "Nils", "Saga", "Göran",
        ],
        family: &[
            "Andersson",
            "Johansson",
            "Karlsson",
            "Nilsson",
            "Eriksson",
            "Larsson",
            "Olsson",
            "Persson",
            "Svensson",
            "Gustafsson",
        ],
    },
    Country {
        code: "39",
        given: &[
            "Giuseppe",
            "Giulia",
            "Francesco",
            "Chiara",
            "Alessandro",
            "Martina",
            "Niccolò",
            "Sara",
            "Matteo",
            "Aurora",
        ],
        family: &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco",
        ],
    },
    Country {
        code: "44",
        given: &[
            "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Noah", "Grace",
        ],
        family: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "O'Brien", "Evans",
        ],
    },
    Country {
        code: "90",
        given: &[
            "Mehmet", "Ayşe", "Mustafa", "Fatma", "Ahmet", "Emine", "Çağrı", "Zeynep", "Gökhan",
            "Elif",
        ],
        family: &[
            "Yılmaz",
            "Kaya",
            "Demir",
            "Şahin",
            "Çelik",
            "Yıldız",
            "Yıldırım",
            "Öztürk",
            "Aydın",
            "Özdemir",
        ],
    },
    Country {
        code: "81",
        given: &[
            "Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Riku", "Sakura", "Takumi", "Yūko",
        ],
        family: &[
            "Satō",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Itō",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
            "Katō",
        ],
    },
    Country {
        code: "31",
        given: &[
            "Daan", "Emma", "Sem", "Julia", "Lucas", "Mila", "Bram", "Tess", "Thijs", "Fenna",
        ],
        family: &[
            "de Jong",
            "Jansen",
            "de Vries",
            "van den Berg",
            "van Dijk",
            "Bakker",
            "Janssen",
            "Visser",
            "Smit",
            "Meijer",
        ],
    },
];

const COMPANIES: &[&str] = &[
    "Nordwind Logistik GmbH",
    "Société Générale d'Optique",
    "Hispano Telecom S.A.",
    "Polska Energia",
    "Skandia Bygg AB",
    "Ferrovia Italiana",
    "Thames Data Ltd",
    "Anadolu Lojistik",
    "Sakura Denki",
    "Rijnmond Haven BV",
    "Example Corp",
    "ACME Widgets",
];
const DEPARTMENTS: &[&str] = &[
    "Sales",
    "Support",
    "Accounting",
    "IT",
    "Logistics",
    "Management",
    "R&D",
];
const TITLES: &[&str] = &[
    "Manager",
    "Engineer",
    "Assistant",
    "Director",
    "Technician",
    "Consultant",
];

/// Where some contacts work: a country by its calling code, ISO code and name, its
/// cities (with their state or province and a postal code) and streets.
struct Place {
    code: &'static str,
    iso: &'static str,
    name: &'static str,
    cities: &'static [(&'static str, &'static str, &'static str)],
    streets: &'static [&'static str],
}

const PLACES: &[Place] = &[
    Place {
        code: "49",
        iso: "DE",
        name: "Deutschland",
        cities: &[
            ("München", "Bayern", "80331"),
            ("Köln", "Nordrhein-Westfalen", "50667"),
        ],
        streets: &["Hauptstraße", "Schloßallee", "Königsweg"],
    },
    Place {
        code: "33",
        iso: "FR",
        name: "France",
        cities: &[
            ("Paris", "Île-de-France", "75008"),
            ("Lyon", "Auvergne-Rhône-Alpes", "69002"),
        ],
        streets: &["Rue de la Paix", "Avenue Foch", "Quai d'Orsay"],
    },
    Place {
        code: "34",
        iso: "ES",
        name: "España",
        cities: &[
            ("Sevilla", "Andalucía", "41001"),
            ("Madrid", "Madrid", "28013"),
        ],
        streets: &["Calle Mayor", "Paseo de Gracia"],
    },
    Place {
        code: "44",
        iso: "GB",
        name: "United Kingdom",
        cities: &[
            ("London", "Greater London", "EC1A 1BB"),
            ("Leeds", "West Yorkshire", "LS1 4DY"),
        ],
        streets: &["High Street", "Station Road"],
    },
    Place {
        code: "81",
        iso: "JP",
        name: "日本",
        cities: &[
            ("東京", "東京都", "100-0001"),
            ("大阪", "大阪府", "530-0001"),
        ],
        streets: &["銀座 1-2-3", "丸の内 2-7"],
    },
];

/// Notes some contacts carry as their description.
const DESCRIPTIONS: &[&str] = &[
    "Front desk",
    "On call at weekends",
    "Ansprechpartner für Rechnungen",
    "Interprète — français, español",
    "Night shift",
];

/// One contact in `ADDRESSED` has an address (street, city, postal code, state and
/// country, the country as a code or a name), one in `DESCRIBED` a description:
/// enough for every filter class on them to find entries, few enough that the
/// directory stays within its memory per contact.
const ADDRESSED: u32 = 100;
const DESCRIBED: u32 = 250;

/// Gives some contacts an address and a description, from a random stream of its
/// own, so that the rest of the phone book is the same as without them.
fn add_details(c: &mut Contact, code: &str, rng: &mut fastrand::Rng) {
    let place = PLACES.iter().find(|p| p.code == code);
    if let Some(Place {
        iso,
        name,
        cities,
        streets,
        ..
    }) = place
        && rng.u32(0..ADDRESSED) == 0
    {
        let (city, state, postal) = cities[rng.usize(0..cities.len())];
        c.street = format!(
            "{} {}",
            streets[rng.usize(0..streets.len())],
            rng.u32(1..120)
        );
        c.locality = city.to_string();
        c.postal_code = postal.to_string();
        if rng.bool() {
            c.state = state.to_string();
        }
        c.country = if rng.u8(0..3) == 0 { name } else { iso }.to_string();
    }
    if rng.u32(0..DESCRIBED) == 0 {
        c.description = DESCRIPTIONS[rng.usize(0..DESCRIPTIONS.len())].to_string();
    }
}

/// Number formats seen in real phone books, for `+CC`, `00CC` and national forms.
fn number(rng: &mut fastrand::Rng, code: &str) -> String {
    let area = rng.u32(20..999);
    let line = rng.u32(100_000..9_999_999);
    match rng.u8(0..5) {
        0 => format!("+{code} {area} {line}"),
        1 => format!("+{code}{area}{line}"),
        2 => format!("00{code} {area} {line}"),
        3 => format!("0{area}-{line}"),
        _ => format!("0{area} {line}"),
    }
}

fn ascii_mail(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                Some(c)
            } else {
                match c {
                    'ä' | 'à' | 'á' | 'å' => Some('a'),
                    'ö' | 'ó' | 'ø' | 'ō' => Some('o'),
                    'ü' | 'ú' | 'ū' => Some('u'),
                    'é' | 'è' | 'ê' => Some('e'),
                    'í' | 'ı' => Some('i'),
                    'ç' | 'ć' => Some('c'),
                    'ñ' | 'ń' => Some('n'),
                    'ł' => Some('l'),
                    'ś' | 'ş' | 'ß' => Some('s'),
                    'ż' | 'ź' => Some('z'),
                    'ğ' => Some('g'),
                    _ => None,
                }
            }
        })
        .collect()
}

/// `count` contacts, deterministic for a seed. Ids are `1..=count`.
pub fn generate(count: usize, seed: u64) -> Vec<Contact> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut details = fastrand::Rng::with_seed(seed ^ 0x5eed_0de7_a115);
    (1..=count)
        .map(|n| {
            let country = &COUNTRIES[rng.usize(0..COUNTRIES.len())];
            let given = country.given[rng.usize(0..country.given.len())];
            let family = country.family[rng.usize(0..country.family.len())];
            let company = COMPANIES[rng.usize(0..COMPANIES.len())];
            let mut phones = vec![Phone {
                kind: PhoneKind::Work,
                number: number(&mut rng, country.code),
            }];
            if rng.bool() {
                phones.push(Phone {
                    kind: PhoneKind::Mobile,
                    number: number(&mut rng, country.code),
                });
            }
            if rng.u8(0..4) == 0 {
                phones.push(Phone {
                    kind: PhoneKind::Home,
                    number: number(&mut rng, country.code),
                });
            }
            // Desk phones' extensions (`7`, `201`, `4711`), and the rarer kinds.
            if rng.u8(0..8) == 0 {
                let digits = rng.u32(1..5);
                phones.push(Phone {
                    kind: PhoneKind::IpPhone,
                    number: rng.u32(0..10u32.pow(digits)).to_string(),
                });
            }
            for (kind, one_in) in [
                (PhoneKind::Fax, 5),
                (PhoneKind::Other, 20),
                (PhoneKind::Pager, 20),
            ] {
                if rng.u8(0..one_in) == 0 {
                    phones.push(Phone {
                        kind,
                        number: number(&mut rng, country.code),
                    });
                }
            }
            // In the order of the kinds, as lists write them.
            phones.sort_by_key(|p| p.kind);
            let mut c = Contact {
                id: n.to_string(),
                cn: Vec::new(),
                given_name: given.to_string(),
                surname: family.to_string(),
                display_name: format!("{given} {family}"),
                company: company.to_string(),
                department: DEPARTMENTS[rng.usize(0..DEPARTMENTS.len())].to_string(),
                title: TITLES[rng.usize(0..TITLES.len())].to_string(),
                email: format!(
                    "{}.{}{}@example.com",
                    ascii_mail(given),
                    ascii_mail(family),
                    n
                ),
                phones,
                ..Contact::default()
            };
            add_details(&mut c, country.code, &mut details);
            c
        })
        .collect()
}

/// The directory the generated phone book of `count` contacts is served as (uids
/// as a merge makes them for internal contacts).
pub fn directory(count: usize, seed: u64) -> crate::directory::Directory {
    use crate::directory::{Directory, Generation, MatchRules, ServedContact, merge};
    let generation = Generation {
        number: 1,
        created: 0,
        contacts: generate(count, seed)
            .into_iter()
            .map(|contact| ServedContact {
                uid: merge::uid(crate::ucm::INTERNAL_SOURCE, &contact.id),
                source: crate::ucm::INTERNAL_SOURCE.into(),
                contact,
            })
            .collect(),
    };
    Directory::build(&generation, "dc=phonebook,dc=local", &MatchRules::default())
}

/// What people type on a phone's keypad: 2 to 4 characters of a name or a number
/// as they appear in the generated book, at the start or inside.
pub fn typed(rng: &mut fastrand::Rng) -> (String, bool) {
    let country = &COUNTRIES[rng.usize(0..COUNTRIES.len())];
    let len = rng.usize(2..=4);
    if rng.bool() {
        let pool = if rng.bool() {
            country.given
        } else {
            country.family
        };
        let name: Vec<char> = pool[rng.usize(0..pool.len())].chars().collect();
        let len = len.min(name.len());
        let start = if rng.bool() {
            0
        } else {
            rng.usize(0..=name.len() - len)
        };
        (name[start..start + len].iter().collect(), false)
    } else {
        let digits: String = (0..len).map(|_| char::from(b'0' + rng.u8(0..10))).collect();
        (digits, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_servable() {
        let a = generate(200, 7);
        assert_eq!(a, generate(200, 7));
        assert_ne!(a, generate(200, 8));
        assert!(a.iter().all(|c| c.is_servable() && !c.phones.is_empty()));
        assert!(a.iter().any(|c| !c.display_name.is_ascii()));
    }
}
