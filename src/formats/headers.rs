//! Column names of address book exports in the languages they are written in, as
//! data: which contact field each name means. The CSV reader looks a column up
//! here when `fields::field_of` does not know it.
//!
//! Names are compared as [`key`] makes them: lowercase, accents dropped (German
//! umlauts and ß written out as ae, oe, ue, ss), every character that is not a
//! letter or a digit dropped, then the digits dropped ("Telefon geschäftlich 2" is
//! "Telefon geschäftlich", "E-Mail 2: Adresse" is "E-Mail-Adresse"). Only the names
//! below are known: no guessing from parts of names. The contact's own numbers
//! are read (car phone and ISDN as other numbers, Outlook's radio phone as a
//! mobile); the assistant's phone, callback, TTY and telex columns are not. Of the
//! addresses, the business (work) address is read, in English, German, French,
//! Spanish, Italian, Dutch and Brazilian Outlook and English Thunderbird, with the
//! notes as the description (Portuguese Outlook's address columns are not known
//! here: map them with `--map`).
//!
//! Where the tables come from:
//! - Outlook: the column names classic Outlook writes (File > Open & Export >
//!   Export to a file > CSV) in each language, as Exchange's contact import lists
//!   them per Outlook language (`OutlookCsvLanguageSelect`, one dictionary per
//!   culture: de-DE, en-US, es-ES, fr-FR, it-IT, nl-NL, pt-BR, pt-PT); the German
//!   row checked against a whole German Outlook export header in Open-Xchange's
//!   Outlook CSV import tests. Outlook writes some columns of a localized export
//!   in English (Spanish Outlook: "Mobile Phone", "Business Fax", "E-mail
//!   Address"): those are in the English table.
//! - Thunderbird: the address book's CSV export columns, `importMsgs.properties`
//!   keys 2100-2126 of each locale in thunderbird-l10n (de, fr, es-ES, it, nl,
//!   pt-BR, pt-PT); English from comm-central's en-US file.
//! - Google Contacts: English in every language ("First Name", "Organization
//!   Name", "E-mail 1 - Value", "Phone 1 - Label" + "Phone 1 - Value"; before 2023
//!   "Given Name", "Family Name", "Phone 1 - Type"), read by `fields` and `csv`.
//! - 3CX and Yeastar phone book CSV: fixed English names in every language
//!   ("FirstName", "Mobile2", "BusinessFax"; "Business Number", "Mobile Number 2"),
//!   read by `fields`.
//!
//! A name that means two things in two applications is resolved by the header row
//! it is in: see [`UNLESS`] and the title rules in `csv`.

use super::fields::Field;
use crate::contacts::{Detail, PhoneKind};

const WORK: Field = Field::Number(PhoneKind::Work);
const MOBILE: Field = Field::Number(PhoneKind::Mobile);
const HOME: Field = Field::Number(PhoneKind::Home);
const OTHER: Field = Field::Number(PhoneKind::Other);
const FAX: Field = Field::Number(PhoneKind::Fax);
const PAGER: Field = Field::Number(PhoneKind::Pager);
const NOTES: Field = Field::Detail(Detail::Description);
const STREET: Field = Field::Detail(Detail::Street);
const CITY: Field = Field::Detail(Detail::Locality);
const POSTAL_CODE: Field = Field::Detail(Detail::PostalCode);
const STATE: Field = Field::Detail(Detail::State);
const COUNTRY: Field = Field::Detail(Detail::Country);

/// One application's column names in one language.
pub struct Table {
    /// As a report names the file's dialect: "Outlook, German".
    pub dialect: &'static str,
    pub names: &'static [(&'static str, Field)],
}

/// Outlook in English (also the English columns of localized exports).
const OUTLOOK_EN: &[(&str, Field)] = &[
    ("First Name", Field::Given),
    ("Last Name", Field::Surname),
    ("Company", Field::Company),
    ("Department", Field::Department),
    ("Job Title", Field::Title),
    ("Business Phone", WORK),
    ("Business Phone 2", WORK),
    ("Company Main Phone", WORK),
    ("Primary Phone", WORK),
    ("Home Phone", HOME),
    ("Home Phone 2", HOME),
    ("Mobile Phone", MOBILE),
    ("Other Phone", OTHER),
    ("Business Fax", FAX),
    ("Home Fax", FAX),
    ("Other Fax", FAX),
    ("Pager", PAGER),
    ("E-mail Address", Field::Email),
    ("E-mail 2 Address", Field::Email),
    ("E-mail 3 Address", Field::Email),
    ("Car Phone", OTHER),
    ("Radio Phone", MOBILE),
    ("ISDN", OTHER),
    // The business address (the home and other addresses are not read), the notes.
    ("Business Street", STREET),
    ("Business City", CITY),
    ("Business State", STATE),
    ("Business Postal Code", POSTAL_CODE),
    ("Business Country/Region", COUNTRY),
    ("Business Country", COUNTRY),
    ("Notes", NOTES),
];

const OUTLOOK_DE: &[(&str, Field)] = &[
    ("Vorname", Field::Given),
    ("Nachname", Field::Surname),
    ("Firma", Field::Company),
    ("Abteilung", Field::Department),
    ("Position", Field::Title),
    ("Telefon geschäftlich", WORK),
    ("Telefon geschäftlich 2", WORK),
    ("Telefon Firma", WORK),
    ("Haupttelefon", WORK),
    ("Telefon privat", HOME),
    ("Telefon privat 2", HOME),
    ("Mobiltelefon", MOBILE),
    // Outlook's "Radio Phone" in German.
    ("Mobiltelefon 2", MOBILE),
    ("Weiteres Telefon", OTHER),
    ("Fax geschäftlich", FAX),
    ("Fax privat", FAX),
    ("Weiteres Fax", FAX),
    ("Pager", PAGER),
    ("E-Mail-Adresse", Field::Email),
    ("E-Mail 2: Adresse", Field::Email),
    ("E-Mail 3: Adresse", Field::Email),
    ("Autotelefon", OTHER),
    ("Straße geschäftlich", STREET),
    ("Ort geschäftlich", CITY),
    ("Region geschäftlich", STATE),
    ("Postleitzahl geschäftlich", POSTAL_CODE),
    ("Land/Region geschäftlich", COUNTRY),
    ("Notizen", NOTES),
];

const OUTLOOK_FR: &[(&str, Field)] = &[
    ("Prénom", Field::Given),
    ("Nom", Field::Surname),
    ("Société", Field::Company),
    ("Service", Field::Department),
    // The job title; French Outlook also names the honorific "Titre", in the
    // first column (see `csv`).
    ("Titre", Field::Title),
    ("Téléphone (bureau)", WORK),
    ("Téléphone 2 (bureau)", WORK),
    ("Téléphone société", WORK),
    ("Téléphone principal", WORK),
    ("Téléphone (domicile)", HOME),
    ("Téléphone 2 (domicile)", HOME),
    ("Tél. mobile", MOBILE),
    ("Téléphone (autre)", OTHER),
    ("Télécopie (bureau)", FAX),
    ("Télécopie (domicile)", FAX),
    ("Télécopie (autre)", FAX),
    ("Récepteur de radiomessagerie", PAGER),
    ("Adresse de messagerie", Field::Email),
    ("Adresse de messagerie 2", Field::Email),
    ("Adresse de messagerie 3", Field::Email),
    ("Téléphone (voiture)", OTHER),
    ("Radio téléphone", MOBILE),
    ("RNIS", OTHER),
    ("Rue (bureau)", STREET),
    ("Ville (bureau)", CITY),
    ("Dép/Région (bureau)", STATE),
    ("Code postal (bureau)", POSTAL_CODE),
    ("Pays/Région (bureau)", COUNTRY),
    ("Notes", NOTES),
];

const OUTLOOK_ES: &[(&str, Field)] = &[
    ("Nombre", Field::Given),
    ("Apellidos", Field::Surname),
    ("Organización", Field::Company),
    ("Puesto", Field::Title),
    ("Teléfono del trabajo", WORK),
    ("Número de centralita de la organización", WORK),
    ("Teléfono principal", WORK),
    ("Particular", HOME),
    ("Otro teléfono", OTHER),
    ("Otro fax", FAX),
    ("Dirección de correo electrónico 2", Field::Email),
    ("Dirección del correo electrónico 3", Field::Email),
    ("Radioteléfono", MOBILE),
    ("Calle del trabajo", STREET),
    ("Ciudad de trabajo", CITY),
    ("Provincia o estado de trabajo", STATE),
    ("Código postal del trabajo", POSTAL_CODE),
    ("País o región del trabajo", COUNTRY),
];

const OUTLOOK_IT: &[(&str, Field)] = &[
    ("Nome", Field::Given),
    ("Cognome", Field::Surname),
    ("Società", Field::Company),
    ("Reparto", Field::Department),
    ("Posizione", Field::Title),
    ("Ufficio", WORK),
    ("Ufficio 2", WORK),
    ("Telefono principale società", WORK),
    ("Telefono principale", WORK),
    ("Abitazione", HOME),
    ("Abitazione 2", HOME),
    ("Cellulare", MOBILE),
    ("Altro telefono", OTHER),
    ("Fax (uff.)", FAX),
    ("Fax (ab.)", FAX),
    ("Altro fax", FAX),
    ("Cercapersone", PAGER),
    ("Indirizzo posta elettronica", Field::Email),
    ("Indirizzo posta elettronica 2", Field::Email),
    ("Indirizzo posta elettronica 3", Field::Email),
    ("Telefono auto", OTHER),
    ("Radiotelefono", MOBILE),
    ("Via (uff.)", STREET),
    ("Città (uff.)", CITY),
    ("Provincia (uff.)", STATE),
    ("CAP (uff.)", POSTAL_CODE),
    ("Paese/area geografica (uff.)", COUNTRY),
];

const OUTLOOK_NL: &[(&str, Field)] = &[
    ("Voornaam", Field::Given),
    ("Achternaam", Field::Surname),
    ("Bedrijf", Field::Company),
    ("Afdeling", Field::Department),
    ("Functie", Field::Title),
    ("Telefoon op werk", WORK),
    ("Telefoon op werk 2", WORK),
    ("Hoofdtelefoon bedrijf", WORK),
    ("Hoofdtelefoon", WORK),
    ("Telefoon thuis", HOME),
    ("Telefoon thuis 2", HOME),
    ("Mobiele telefoon", MOBILE),
    ("Andere telefoon", OTHER),
    ("Fax op werk", FAX),
    ("Fax thuis", FAX),
    ("Andere fax", FAX),
    ("Pager", PAGER),
    ("E-mailadres", Field::Email),
    ("E-mailadres 2", Field::Email),
    ("E-mailadres 3", Field::Email),
    ("Autotelefoon", OTHER),
    ("Radiotelefoon", MOBILE),
    ("Werkadres, straat", STREET),
    ("Werkadres, plaats", CITY),
    ("Werkadres, provincie", STATE),
    ("Werkadres, postcode", POSTAL_CODE),
    ("Land/regio (werk)", COUNTRY),
    ("Notities", NOTES),
];

const OUTLOOK_PT_BR: &[(&str, Field)] = &[
    ("Primeiro nome", Field::Given),
    ("Sobrenome", Field::Surname),
    ("Empresa", Field::Company),
    ("Departamento", Field::Department),
    ("Cargo", Field::Title),
    ("Telefone comercial", WORK),
    ("Telefone comercial 2", WORK),
    ("Telefone principal da empresa", WORK),
    ("Telefone principal", WORK),
    ("Telefone residencial", HOME),
    ("Telefone residencial 2", HOME),
    ("Telefone celular", MOBILE),
    ("Outro telefone", OTHER),
    ("Fax comercial", FAX),
    ("Fax residencial", FAX),
    ("Outro fax", FAX),
    ("Pager", PAGER),
    ("Endereço de email 2", Field::Email),
    ("Endereço de email 3", Field::Email),
    ("Telefone do carro", OTHER),
    ("Radiofone", MOBILE),
    // Brazilian Outlook writes the first business street, the city, the state and
    // the postal code in English; the second and third streets are localized.
    ("Rua do endereço comercial", STREET),
    ("País/Região da Empresa", COUNTRY),
    ("Anotações", NOTES),
];

const OUTLOOK_PT_PT: &[(&str, Field)] = &[
    ("Nome", Field::Given),
    // pt-BR Thunderbird names the nickname "Apelido": see `UNLESS`.
    ("Apelido", Field::Surname),
    ("Empresa", Field::Company),
    ("Departamento", Field::Department),
    ("Cargo", Field::Title),
    ("Telefone da empresa", WORK),
    ("2º telefone da empresa", WORK),
    ("Telefone principal da empresa", WORK),
    ("Telefone principal", WORK),
    ("Telefone da residência", HOME),
    ("2º telefone da residência", HOME),
    ("Telemóvel", MOBILE),
    ("Outro telefone", OTHER),
    ("Fax da empresa", FAX),
    ("Fax da residência", FAX),
    ("Outro fax", FAX),
    ("Pager", PAGER),
    ("Endereço de correio electrónico", Field::Email),
    ("Endereço do correio electrónico 2", Field::Email),
    ("Endereço do correio electrónico 3", Field::Email),
    ("Telefone do carro", OTHER),
    ("Radiotelefone", MOBILE),
    ("RDIS", OTHER),
];

const THUNDERBIRD_EN: &[(&str, Field)] = &[
    ("First Name", Field::Given),
    ("Last Name", Field::Surname),
    ("Display Name", Field::Display),
    ("Primary Email", Field::Email),
    ("Secondary Email", Field::Email),
    ("Work Phone", WORK),
    ("Home Phone", HOME),
    ("Fax Number", FAX),
    ("Pager Number", PAGER),
    ("Mobile Number", MOBILE),
    ("Job Title", Field::Title),
    ("Department", Field::Department),
    ("Organization", Field::Company),
    ("Work Address", STREET),
    ("Work City", CITY),
    ("Work State", STATE),
    ("Work ZipCode", POSTAL_CODE),
    ("Work Country", COUNTRY),
    ("Notes", NOTES),
];

const THUNDERBIRD_DE: &[(&str, Field)] = &[
    ("Vorname", Field::Given),
    ("Nachname", Field::Surname),
    ("Anzeigename", Field::Display),
    ("Primäre E-Mail-Adresse", Field::Email),
    ("Sekundäre E-Mail-Adresse", Field::Email),
    ("Tel. dienstlich", WORK),
    ("Tel. privat", HOME),
    ("Fax-Nummer", FAX),
    ("Pager-Nummer", PAGER),
    ("Mobil-Tel.-Nr.", MOBILE),
    ("Arbeitstitel", Field::Title),
    ("Abteilung", Field::Department),
    ("Organisation", Field::Company),
];

const THUNDERBIRD_FR: &[(&str, Field)] = &[
    ("Prénom", Field::Given),
    ("Nom de famille", Field::Surname),
    ("Nom à afficher", Field::Display),
    ("Adresse e-mail principale", Field::Email),
    ("Adresse e-mail secondaire", Field::Email),
    ("Tél. professionnel", WORK),
    ("Tél. personnel", HOME),
    ("Fax", FAX),
    ("Pager", PAGER),
    ("Portable", MOBILE),
    // French Outlook has a "Profession" column of its own: see `UNLESS`.
    ("Profession", Field::Title),
    ("Service", Field::Department),
    ("Société", Field::Company),
];

const THUNDERBIRD_ES: &[(&str, Field)] = &[
    ("Nombre", Field::Given),
    ("Apellidos", Field::Surname),
    ("Nombre mostrado", Field::Display),
    ("Dirección de correo electrónico principal", Field::Email),
    ("Dirección de correo electrónico secundaria", Field::Email),
    ("Teléfono (Trabajo)", WORK),
    ("Teléfono particular", HOME),
    ("Fax", FAX),
    ("Buscapersonas", PAGER),
    ("Teléfono móvil", MOBILE),
    ("Puesto", Field::Title),
    ("Departamento", Field::Department),
    ("Organización", Field::Company),
];

const THUNDERBIRD_IT: &[(&str, Field)] = &[
    ("Nome", Field::Given),
    ("Cognome", Field::Surname),
    ("Nome visualizzato", Field::Display),
    ("Email primaria", Field::Email),
    ("Email secondaria", Field::Email),
    ("Telefono lavoro", WORK),
    ("Telefono casa", HOME),
    ("Numero fax", FAX),
    ("Numero cercapersone", PAGER),
    ("Numero cellulare", MOBILE),
    ("Qualifica", Field::Title),
    ("Reparto", Field::Department),
    ("Organizzazione", Field::Company),
];

const THUNDERBIRD_NL: &[(&str, Field)] = &[
    ("Voornaam", Field::Given),
    ("Achternaam", Field::Surname),
    ("Weergavenaam", Field::Display),
    ("Primair e-mailadres", Field::Email),
    ("Secundair e-mailadres", Field::Email),
    ("Telefoon werk", WORK),
    ("Telefoon thuis", HOME),
    ("Faxnummer", FAX),
    ("Piepernummer", PAGER),
    ("Mobiel nummer", MOBILE),
    ("Werkfunctie", Field::Title),
    ("Afdeling", Field::Department),
    ("Organisatie", Field::Company),
];

const THUNDERBIRD_PT_BR: &[(&str, Field)] = &[
    ("Primeiro nome", Field::Given),
    ("Sobrenome", Field::Surname),
    ("Nome de exibição", Field::Display),
    ("Email principal", Field::Email),
    ("Email secundário", Field::Email),
    ("Telefone comercial", WORK),
    ("Telefone residencial", HOME),
    ("Número do fax", FAX),
    ("Número do pager", PAGER),
    ("Número do celular", MOBILE),
    ("Cargo", Field::Title),
    ("Setor", Field::Department),
    ("Organização", Field::Company),
];

const THUNDERBIRD_PT_PT: &[(&str, Field)] = &[
    ("Nome", Field::Given),
    ("Apelido", Field::Surname),
    ("Nome exibido", Field::Display),
    ("Email primário", Field::Email),
    ("E-mail secundário", Field::Email),
    ("Telefone profissional", WORK),
    ("Telefone de casa", HOME),
    ("Número de fax", FAX),
    ("Número de pager", PAGER),
    ("Número de telemóvel", MOBILE),
    // Portuguese Outlook has a "Profissão" column of its own: see `UNLESS`.
    ("Profissão", Field::Title),
    ("Departamento", Field::Department),
    ("Organização", Field::Company),
];

/// Every table, looked up in this order (the first table that knows a name gives
/// its field).
pub const TABLES: &[Table] = &[
    Table {
        dialect: "Outlook",
        names: OUTLOOK_EN,
    },
    Table {
        dialect: "Outlook, German",
        names: OUTLOOK_DE,
    },
    Table {
        dialect: "Outlook, French",
        names: OUTLOOK_FR,
    },
    Table {
        dialect: "Outlook, Spanish",
        names: OUTLOOK_ES,
    },
    Table {
        dialect: "Outlook, Italian",
        names: OUTLOOK_IT,
    },
    Table {
        dialect: "Outlook, Dutch",
        names: OUTLOOK_NL,
    },
    Table {
        dialect: "Outlook, Portuguese (Brazil)",
        names: OUTLOOK_PT_BR,
    },
    Table {
        dialect: "Outlook, Portuguese",
        names: OUTLOOK_PT_PT,
    },
    Table {
        dialect: "Thunderbird",
        names: THUNDERBIRD_EN,
    },
    Table {
        dialect: "Thunderbird, German",
        names: THUNDERBIRD_DE,
    },
    Table {
        dialect: "Thunderbird, French",
        names: THUNDERBIRD_FR,
    },
    Table {
        dialect: "Thunderbird, Spanish",
        names: THUNDERBIRD_ES,
    },
    Table {
        dialect: "Thunderbird, Italian",
        names: THUNDERBIRD_IT,
    },
    Table {
        dialect: "Thunderbird, Dutch",
        names: THUNDERBIRD_NL,
    },
    Table {
        dialect: "Thunderbird, Portuguese (Brazil)",
        names: THUNDERBIRD_PT_BR,
    },
    Table {
        dialect: "Thunderbird, Portuguese",
        names: THUNDERBIRD_PT_PT,
    },
];

/// Names that mean their field only when the header row has no column of the
/// other name: (name, other). pt-BR Thunderbird's nickname is "Apelido", beside
/// its "Sobrenome"; French and Portuguese Outlook have a "Profession" /
/// "Profissão" beside their job title ("Titre", "Cargo").
pub const UNLESS: &[(&str, &str)] = &[
    ("Apelido", "Sobrenome"),
    ("Profession", "Titre"),
    ("Profissão", "Cargo"),
];

/// A name as compared (see the module's documentation).
pub fn key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for ch in name.chars().flat_map(char::to_lowercase) {
        match ch {
            'ä' | 'æ' => out.push_str("ae"),
            'ö' | 'œ' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'à' | 'á' | 'â' | 'ã' | 'å' => out.push('a'),
            'ç' => out.push('c'),
            'è' | 'é' | 'ê' | 'ë' => out.push('e'),
            'ì' | 'í' | 'î' | 'ï' => out.push('i'),
            'ñ' => out.push('n'),
            'ò' | 'ó' | 'ô' | 'õ' | 'ø' => out.push('o'),
            // Ordinal indicators count, like digits ("2º telefone").
            'º' | 'ª' => {}
            'ù' | 'ú' | 'û' => out.push('u'),
            'ý' | 'ÿ' => out.push('y'),
            c if c.is_alphabetic() => out.push(c),
            _ => {}
        }
    }
    out
}

/// The field a column name means in some table, and the dialect of the first
/// table that knows it.
pub fn lookup(name: &str) -> Option<(Field, &'static str)> {
    let key = key(name);
    if key.is_empty() {
        return None;
    }
    TABLES.iter().find_map(|t| {
        t.names
            .iter()
            .find(|(n, _)| self::key(n) == key)
            .map(|(_, f)| (*f, t.dialect))
    })
}

/// How many of `names` a table knows, for each table that knows any.
pub fn dialect_votes<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(&'static str, usize)> {
    let keys: Vec<String> = names.into_iter().map(key).collect();
    TABLES
        .iter()
        .map(|t| {
            let known = keys
                .iter()
                .filter(|k| !k.is_empty() && t.names.iter().any(|(n, _)| key(n) == **k))
                .count();
            (t.dialect, known)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_accents_spacing_punctuation_and_counters() {
        assert_eq!(key("Telefon geschäftlich 2"), "telefongeschaeftlich");
        assert_eq!(key("TELEFON GESCHAEFTLICH"), "telefongeschaeftlich");
        assert_eq!(key("E-Mail 2: Adresse"), key("E-Mail-Adresse"));
        assert_eq!(key("Téléphone 2 (bureau)"), key("Telephone (bureau)"));
        assert_eq!(key("2º telefone da empresa"), "telefonedaempresa");
        assert_eq!(lookup("Tél. mobile"), Some((MOBILE, "Outlook, French")));
        assert_eq!(lookup("Telefon Assistent"), None);
        assert_eq!(lookup("Autotelefon"), Some((OTHER, "Outlook, German")));
        assert_eq!(lookup("Rückmeldung"), None);
        assert_eq!(lookup("  "), None);
    }

    #[test]
    fn every_name_is_known_by_its_own_table() {
        for t in TABLES {
            for (name, field) in t.names {
                let (found, _) = lookup(name).unwrap_or_else(|| panic!("{name}"));
                // A name in two tables means the same in both.
                assert_eq!(found, *field, "{} {name}", t.dialect);
            }
        }
    }
}
