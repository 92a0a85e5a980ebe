//! Every format brings the details (description, street, l, postalCode, st,
//! country) and, where it can hold one, the photo.

use super::{Format, read_as};
use crate::contacts::Contact;
use base64::Engine;

/// A small JPEG-looking image and its base64 text.
fn photo() -> (Vec<u8>, String) {
    let bytes: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0]
        .into_iter()
        .chain((0..=255u8).rev())
        .chain([0xff, 0xd9])
        .collect();
    let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
    (bytes, text)
}

fn only(format: Format, text: &str) -> Contact {
    let list = read_as(format, text.as_bytes()).unwrap();
    assert!(list.skipped.is_empty(), "{:?}", list.skipped);
    assert_eq!(list.contacts.len(), 1, "{format:?}");
    list.contacts.into_iter().next().unwrap()
}

/// (street, l, postalCode, st, country, description).
fn details(c: &Contact) -> [&str; 6] {
    [
        &c.street,
        &c.locality,
        &c.postal_code,
        &c.state,
        &c.country,
        &c.description,
    ]
}

const ADA: [&str; 6] = [
    "12 St James's Square",
    "London",
    "SW1Y 4JH",
    "Greater London",
    "GB",
    "Analyst, first of her kind",
];

const ANA: [&str; 6] = [
    "Calle Mayor 1",
    "Sevilla",
    "41001",
    "Andalucía",
    "ES",
    "Turno de noche",
];

#[test]
fn csv_columns_by_ldap_name_and_as_exports_name_them() {
    let (_, coded) = photo();
    let ldap = format!(
        "cn,telephoneNumber,street,l,postalCode,st,c,description,jpegPhoto\n\
         Ada,+44 1,12 St James's Square,London,SW1Y 4JH,Greater London,GB,\"Analyst, first of her kind\",{coded}\n"
    );
    let c = only(Format::Csv, &ldap);
    assert_eq!(details(&c), ADA);
    assert_eq!(c.photo, photo().0);
    let outlook = "First Name,Last Name,Business Street,Business Street 2,Business City,Business State,Business Postal Code,Business Country/Region,Home City,Notes,Business Phone\n\
                   Ada,Lovelace,12 St James's Square,Floor 2,London,Greater London,SW1Y 4JH,GB,Ockham,\"Analyst, first of her kind\",+44 1\n";
    assert_eq!(details(&only(Format::Csv, outlook)), ADA);
    let german = "Vorname;Nachname;Straße geschäftlich;Ort geschäftlich;Region geschäftlich;Postleitzahl geschäftlich;Land/Region geschäftlich;Notizen;Telefon geschäftlich\n\
                  Jürgen;Müller;Schloßallee 3;München;Bayern;80331;Deutschland;Rechnungen;+49 89 1\n";
    assert_eq!(
        details(&only(Format::Csv, german)),
        [
            "Schloßallee 3",
            "München",
            "80331",
            "Bayern",
            "Deutschland",
            "Rechnungen"
        ]
    );
    let french = "Prénom;Nom;Rue (bureau);Ville (bureau);Dép/Région (bureau);Code postal (bureau);Pays/Région (bureau);Notes;Téléphone (bureau)\n\
                  Élodie;Dubois;12 Rue de la Paix;Paris;Île-de-France;75002;France;Accueil;+33 1\n";
    assert_eq!(
        details(&only(Format::Csv, french)),
        [
            "12 Rue de la Paix",
            "Paris",
            "75002",
            "Île-de-France",
            "France",
            "Accueil"
        ]
    );
    let italian = "Nome;Cognome;Via (uff.);Via (uff.) 2;Città (uff.);Provincia (uff.);CAP (uff.);Paese/area geografica (uff.);Via (ab.);Notes;Ufficio\n\
                   Giulia;Rossi;Via Roma 10;Scala B;Torino;TO;10121;Italia;Via Po 3;Centralino;+39 011 1\n";
    assert_eq!(
        details(&only(Format::Csv, italian)),
        [
            "Via Roma 10",
            "Torino",
            "10121",
            "TO",
            "Italia",
            "Centralino"
        ]
    );
    let dutch = "Voornaam;Achternaam;Werkadres, straat;Werkadres 2, straat;Werkadres, plaats;Werkadres, provincie;Werkadres, postcode;Land/regio (werk);Huisadres, straat;Notities;Telefoon op werk\n\
                 Sanne;de Vries;Keizersgracht 1;;Amsterdam;Noord-Holland;1015 CJ;Nederland;Prinsengracht 2;Receptie;+31 20 1\n";
    assert_eq!(
        details(&only(Format::Csv, dutch)),
        [
            "Keizersgracht 1",
            "Amsterdam",
            "1015 CJ",
            "Noord-Holland",
            "Nederland",
            "Receptie"
        ]
    );
    let google = "First Name,Last Name,Address 1 - Street,Address 1 - City,Address 1 - Region,Address 1 - Postal Code,Address 1 - Country,Notes,Phone 1 - Value\n\
                  Ana,Ruiz,Calle Mayor 1,Sevilla,Andalucía,41001,ES,Turno de noche,+34 1\n";
    assert_eq!(details(&only(Format::Csv, google)), ANA);
    let thunderbird = "First Name,Last Name,Display Name,Work Address,Work City,Work State,Work ZipCode,Work Country,Notes,Work Phone\n\
                       Ada,Lovelace,Ada Lovelace,12 St James's Square,London,Greater London,SW1Y 4JH,GB,\"Analyst, first of her kind\",+44 1\n";
    assert_eq!(details(&only(Format::Csv, thunderbird)), ADA);
}

#[test]
fn csv_export_reads_back_with_its_details() {
    let mut c = only(
        Format::Csv,
        "cn,mobile,street,l,postalCode,st,c,description\nAda,+44 1,1 Way,Leeds,LS1,Yorks,=cmd,-note\n",
    );
    c.photo = photo().0;
    let mut out = Vec::new();
    super::csv::export_csv(std::slice::from_ref(&c), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains(&photo().1), "no photo in a cell");
    let back = only(Format::Csv, &text);
    assert_eq!(details(&back), details(&c));
    assert_eq!(back.country, "=cmd");
}

#[test]
fn vcard_address_note_and_inline_photo() {
    let (bytes, coded) = photo();
    let folded: String = coded
        .as_bytes()
        .chunks(60)
        .map(|l| format!(" {}\r\n", std::str::from_utf8(l).unwrap()))
        .collect();
    let v3 = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nTEL;TYPE=WORK:+44 1\r\n\
         ADR;TYPE=HOME:;;1 Ockham Lane;Ockham;Surrey;GU23;UK\r\n\
         ADR;TYPE=WORK:;;12 St James's Square;London;Greater London;SW1Y 4JH;GB\r\n\
         NOTE:Analyst\\, first of her kind\r\n\
         PHOTO;ENCODING=b;TYPE=JPEG:\r\n{folded}END:VCARD\r\n"
    );
    let c = only(Format::VCard, &v3);
    assert_eq!(details(&c), ADA);
    assert_eq!(c.photo, bytes);
    let v4 = format!(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ada\r\nTEL:+44 1\r\nADR:;;1 Way;Leeds;;LS1;United Kingdom\r\n\
         PHOTO:data:image/jpeg;base64,{coded}\r\nEND:VCARD\r\n"
    );
    let c = only(Format::VCard, &v4);
    assert_eq!(
        (c.locality.as_str(), c.country.as_str()),
        ("Leeds", "United Kingdom")
    );
    assert_eq!(c.photo, bytes);
    let v21 = format!(
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Ada\r\nTEL;WORK:+44 1\r\nPHOTO;JPEG;ENCODING=BASE64:\r\n{folded}\r\nEND:VCARD\r\n"
    );
    assert_eq!(only(Format::VCard, &v21).photo, bytes);
    // A photo by URL is never fetched; one that is not JPEG is not a jpegPhoto.
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\n....");
    for other in [
        "PHOTO;VALUE=uri:https://example.org/ada.jpg".to_string(),
        format!("PHOTO;ENCODING=b;TYPE=PNG:{png}"),
    ] {
        let card = format!("BEGIN:VCARD\r\nFN:Ada\r\nTEL:1\r\n{other}\r\nEND:VCARD\r\n");
        assert!(only(Format::VCard, &card).photo.is_empty(), "{other}");
    }
}

#[test]
fn ldif_details_countries_and_binary_photo() {
    let (bytes, coded) = photo();
    let ldif = format!(
        "dn: uid=ada,dc=x\nuid: ada\ncn: Ada\ntelephoneNumber: +44 1\nstreet: 12 St James's Square\n\
         l: London\npostalCode: SW1Y 4JH\nst: Greater London\nc: GB\nco: United Kingdom\n\
         description: Analyst, first of her kind\njpegPhoto:: {coded}\n\n\
         dn: uid=jl,dc=x\nuid: jl\ncn: JL\ntelephoneNumber: 2\nco: France\n\
         thumbnailPhoto:: {coded}\n"
    );
    let list = read_as(Format::Ldif, ldif.as_bytes()).unwrap();
    assert!(list.skipped.is_empty(), "{:?}", list.skipped);
    assert_eq!(details(&list.contacts[0]), ADA);
    assert_eq!(list.contacts[0].photo, bytes);
    assert_eq!(list.contacts[1].country, "France");
    assert_eq!(list.contacts[1].photo, bytes);
}

#[test]
fn json_details_flat_and_as_an_address_object() {
    let (bytes, coded) = photo();
    let json = format!(
        r#"[{{"cn": "Ada", "mobile": "+44 1", "street": "12 St James's Square", "l": "London",
             "postalCode": "SW1Y 4JH", "st": "Greater London", "c": "GB",
             "description": "Analyst, first of her kind", "jpegPhoto": "{coded}"}},
           {{"name": "Ana", "phone": "+34 1", "notes": "Turno de noche",
             "address": {{"street": "Calle Mayor 1", "city": "Sevilla", "zip": "41001",
                          "state": "Andalucía", "country": "ES"}}}}]"#
    );
    let list = read_as(Format::Json, json.as_bytes()).unwrap();
    assert!(list.skipped.is_empty(), "{:?}", list.skipped);
    assert_eq!(details(&list.contacts[0]), ADA);
    assert_eq!(list.contacts[0].photo, bytes);
    assert_eq!(details(&list.contacts[1]), ANA);
}

#[test]
fn a_photo_too_large_is_left_out_with_a_warning_and_the_contact_kept() {
    let big = [0xff, 0xd8, 0xff]
        .into_iter()
        .chain(std::iter::repeat_n(7u8, crate::contacts::PHOTO_MAX))
        .collect::<Vec<u8>>();
    let coded = base64::engine::general_purpose::STANDARD.encode(&big);
    let ldif = format!("dn: uid=a,dc=x\ncn: A\nmobile: 1\njpegPhoto:: {coded}\n");
    let list = read_as(Format::Ldif, ldif.as_bytes()).unwrap();
    assert_eq!(list.contacts.len(), 1);
    assert!(list.contacts[0].photo.is_empty());
    assert!(
        list.warnings
            .iter()
            .any(|w| w.contains("larger than 64 KiB") && w.contains("entry 1")),
        "{:?}",
        list.warnings
    );
}

#[test]
fn a_long_note_is_cut_not_refused() {
    let note = "é".repeat(600);
    let c = only(
        Format::Csv,
        &format!("cn,mobile,description\nAda,1,{note}\n"),
    );
    assert!(c.description.len() <= super::MAX_VALUE && c.description.len() > 1000);
}
