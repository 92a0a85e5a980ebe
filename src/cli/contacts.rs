//! `sop contacts ...` and `sop ucm merge`.

use super::{ContactsCommand, NewContact};
use crate::contacts::{Contact, Phone, PhoneKind};
use crate::home::Home;
use crate::ucm;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::io::Write;

pub fn run(home: &Home, command: ContactsCommand) -> Result<i32> {
    crate::node::prepare(home)?;
    let mut store = ucm::open_store(home)?;
    match command {
        ContactsCommand::Import {
            file,
            replace,
            force,
            format,
            map,
        } => {
            let mapping =
                crate::formats::mapping::Mapping::from_pairs(map.iter().map(String::as_str))
                    .map_err(|e| eyre!("--map: {e}; nothing was changed"))?;
            let bytes =
                std::fs::read(&file).wrap_err_with(|| format!("cannot read {}", file.display()))?;
            let name = file.to_string_lossy();
            let parsed = match format {
                Some(f) => crate::formats::read_as_mapped(f, &bytes, &mapping),
                None => crate::formats::read_mapped(&name, None, &bytes, &mapping),
            }
            .map_err(|e| eyre!("{}: {e}; nothing was changed", file.display()))?;
            for w in &parsed.warnings {
                eprintln!("{}: {w}", file.display());
            }
            for s in &parsed.skipped {
                eprintln!("{}: {}: skipped: {}", file.display(), s.position, s.reason);
            }
            if parsed.skipped_count > parsed.skipped.len() {
                eprintln!(
                    "{}: and {} more skipped",
                    file.display(),
                    parsed.skipped_count - parsed.skipped.len()
                );
            }
            if parsed.contacts.is_empty() {
                return Err(eyre!(
                    "{}: no contact to import ({} entries skipped); nothing was changed",
                    file.display(),
                    parsed.skipped_count
                ));
            }
            let limit = crate::config::Config::load(&home.config_file())
                .map(|c| c.ucm.max_removal_percent)
                .unwrap_or(50) as usize;
            // The removal guard of imports: a --replace that would remove more than
            // the configured share of the internal contacts is held.
            let mut held = None;
            let done = store.import(&parsed.contacts, replace, |d| {
                let share = d.removed * 100 / d.before.max(1);
                if force || d.removed == 0 || share <= limit {
                    return true;
                }
                held = Some(format!(
                    "held: it would remove {} of the {} internal contacts ({share}%, over [ucm] \
                     max_removal_percent = {limit}); nothing was changed. Check the list, or \
                     apply it with --force",
                    d.removed, d.before
                ));
                false
            })?;
            let Some(done) = done else {
                eprintln!("{}: {}", file.display(), held.unwrap_or_default());
                return Ok(2);
            };
            println!(
                "imported {} contacts from {}: {} added, {} updated, {} unchanged, {} removed; \
                 skipped {} entries",
                parsed.contacts.len(),
                parsed.describe(),
                done.added,
                done.updated,
                done.unchanged,
                done.removed,
                parsed.skipped_count
            );
            if done.sample_removed > 0 {
                println!(
                    "the sample phone book ({} contacts) was removed: this is the node's first import",
                    done.sample_removed
                );
            }
            println!("run `sop ucm merge` to serve them");
        }
        ContactsCommand::Add(new) => {
            let contact = contact_from(new)?;
            let id = store.add(&contact)?;
            println!("added contact {id}: {}", contact.common_name());
            println!("run `sop ucm merge` to serve it");
        }
        ContactsCommand::Edit { id, fields } => {
            let Some(mut contact) = store.get(&id)? else {
                return Err(eyre!(
                    "no internal contact with id {id} (`sop contacts list` shows them)"
                ));
            };
            apply(&mut contact, fields)?;
            if !contact.is_servable() {
                return Err(eyre!(
                    "contact {id} would have no name and no number: nothing was changed"
                ));
            }
            if !store.update(&id, &contact)? {
                return Err(eyre!("contact {id} was removed meanwhile"));
            }
            println!("saved contact {id}: {}", contact.common_name());
            println!("run `sop ucm merge` to serve it");
        }
        ContactsCommand::List { json } => print_contacts(&store.all()?, json)?,
        ContactsCommand::Search { text, json } => print_contacts(&store.search(&text)?, json)?,
        ContactsCommand::Count => println!("{}", store.count()?),
        ContactsCommand::Remove { ids } => {
            let mut missing = Vec::new();
            for id in &ids {
                if store.remove(id)? {
                    println!("removed contact {id}");
                } else {
                    missing.push(id.as_str());
                }
            }
            if !missing.is_empty() {
                return Err(eyre!("no contact with id {}", missing.join(", ")));
            }
        }
        ContactsCommand::Export { file } => {
            let contacts = store.all()?;
            match file {
                Some(path) => {
                    let mut out = std::io::BufWriter::new(
                        std::fs::File::create(&path)
                            .wrap_err_with(|| format!("cannot create {}", path.display()))?,
                    );
                    crate::formats::csv::export_csv(&contacts, &mut out)?;
                    out.flush()?;
                    eprintln!("exported {} contacts to {}", contacts.len(), path.display());
                }
                None => {
                    let stdout = std::io::stdout();
                    let mut out = std::io::BufWriter::new(stdout.lock());
                    crate::formats::csv::export_csv(&contacts, &mut out)?;
                    out.flush()?;
                }
            }
        }
    }
    Ok(0)
}

fn contact_from(new: NewContact) -> Result<Contact> {
    let mut contact = Contact::default();
    apply(&mut contact, new)?;
    if !contact.is_servable() {
        return Err(eyre!(
            "a contact needs a name (--cn, --given, --surname, --display or --company) or a number"
        ));
    }
    Ok(contact)
}

/// Sets the fields given on the command line: a text given replaces the contact's
/// ("" empties it), numbers of a kind given replace that kind's numbers, common
/// names given replace its common names, a photo given replaces its photo.
fn apply(c: &mut Contact, new: NewContact) -> Result<()> {
    let set = |slot: &mut String, value: Option<String>| {
        if let Some(v) = value {
            *slot = v.trim().to_string();
        }
    };
    if !new.cn.is_empty() {
        c.cn = new
            .cn
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
    set(&mut c.given_name, new.given);
    set(&mut c.surname, new.surname);
    set(&mut c.display_name, new.display);
    set(&mut c.company, new.company);
    set(&mut c.department, new.department);
    set(&mut c.title, new.title);
    set(&mut c.email, new.email);
    set(&mut c.description, new.description);
    set(&mut c.street, new.street);
    set(&mut c.locality, new.city);
    set(&mut c.postal_code, new.postal_code);
    set(&mut c.state, new.state);
    set(&mut c.country, new.country);
    for (kind, numbers) in [
        (PhoneKind::Work, new.work),
        (PhoneKind::Mobile, new.mobile),
        (PhoneKind::Home, new.home_phone),
        (PhoneKind::IpPhone, new.ip_phone),
        (PhoneKind::Other, new.other),
        (PhoneKind::Fax, new.fax),
        (PhoneKind::Pager, new.pager),
    ] {
        if numbers.is_empty() {
            continue;
        }
        c.phones.retain(|p| p.kind != kind);
        for number in numbers.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            if !number.chars().any(|ch| ch.is_ascii_digit()) {
                return Err(eyre!(
                    "--{} {number:?}: a number needs digits",
                    kind.as_str()
                ));
            }
            c.phones.push(Phone {
                kind,
                number: number.to_string(),
            });
        }
    }
    if let Some(path) = &new.photo {
        c.photo = photo_from(path)?;
    }
    Ok(())
}

/// The bytes of a photo file, when it is a JPEG image small enough to serve.
fn photo_from(path: &std::path::Path) -> Result<Vec<u8>> {
    let bytes =
        std::fs::read(path).wrap_err_with(|| format!("--photo: cannot read {}", path.display()))?;
    if !crate::contacts::is_jpeg(&bytes) {
        return Err(eyre!(
            "--photo {}: not a JPEG image (phones read jpegPhoto as JPEG only)",
            path.display()
        ));
    }
    if bytes.len() > crate::contacts::PHOTO_MAX {
        return Err(eyre!(
            "--photo {}: {} bytes, more than the {} a photo may have",
            path.display(),
            bytes.len(),
            crate::contacts::PHOTO_MAX
        ));
    }
    Ok(bytes)
}

pub(super) fn print_contacts(contacts: &[Contact], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(contacts)?);
        return Ok(());
    }
    for c in contacts {
        let numbers: Vec<String> = c
            .phones
            .iter()
            .map(|p| format!("{} {}", p.kind.as_str(), p.number))
            .collect();
        println!(
            "{:>6}  {:<32} {:<28} {}",
            c.id,
            c.common_name(),
            c.company,
            numbers.join(", ")
        );
    }
    Ok(())
}
