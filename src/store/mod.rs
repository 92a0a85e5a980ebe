//! The node's embedded store (SQLite): internal contacts and the job history.
//! Published generations of the served directory live beside it, in `generations`.

pub mod generations;
pub mod node;
pub mod snapshot;

use crate::contacts::{Contact, Phone, PhoneKind};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "store {path} has schema version {found}, newer than this sop knows ({known}); upgrade sop"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("no contact with id {0}")]
    NoSuchContact(String),
}

const SCHEMA_VERSION: i64 = 4;

/// Version 4: the details (description, street, l, postalCode, st, country) and
/// the photo.
const DETAILS: &str = "ALTER TABLE contacts ADD COLUMN description TEXT NOT NULL DEFAULT ''; \
ALTER TABLE contacts ADD COLUMN street TEXT NOT NULL DEFAULT ''; \
ALTER TABLE contacts ADD COLUMN locality TEXT NOT NULL DEFAULT ''; \
ALTER TABLE contacts ADD COLUMN postal_code TEXT NOT NULL DEFAULT ''; \
ALTER TABLE contacts ADD COLUMN state TEXT NOT NULL DEFAULT ''; \
ALTER TABLE contacts ADD COLUMN country TEXT NOT NULL DEFAULT ''; \
ALTER TABLE contacts ADD COLUMN photo BLOB NOT NULL DEFAULT x'';";

/// Version 3: the common names as given, one per line (empty: derived), and the
/// id the contact had in the list it was imported from (empty: none; `sample-N`:
/// the sample phone book).
const COMMON_NAMES: &str = "ALTER TABLE contacts ADD COLUMN cn TEXT NOT NULL DEFAULT ''; \
ALTER TABLE contacts ADD COLUMN import_id TEXT NOT NULL DEFAULT '';";

/// The import id of the sample phone book's contacts: `sample-<n>`.
pub const SAMPLE_PREFIX: &str = "sample-";

/// Version 2: the entries a job skipped, with their reasons.
const JOB_ERRORS: &str = "
CREATE TABLE job_errors (
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    position TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX job_errors_by_job ON job_errors(job_id);
";

/// Jobs kept in the history; older ones (and their errors) are removed.
pub const JOBS_KEPT: i64 = 1000;

const SCHEMA: &str = "
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    given_name TEXT NOT NULL DEFAULT '',
    surname TEXT NOT NULL DEFAULT '',
    display_name TEXT NOT NULL DEFAULT '',
    company TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT ''
);
CREATE TABLE numbers (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    PRIMARY KEY (contact_id, position)
) WITHOUT ROWID;
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    started INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    status TEXT NOT NULL,
    counts TEXT NOT NULL DEFAULT '{}',
    message TEXT NOT NULL DEFAULT ''
);
";

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub added: usize,
    pub updated: usize,
    /// Found, and the same already.
    pub unchanged: usize,
    pub removed: usize,
    /// Contacts of the sample phone book removed by this first import.
    pub sample_removed: usize,
    /// Contacts held before the import.
    pub before: usize,
}

/// One finished job, as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// Seconds since the Unix epoch.
    pub started: i64,
    pub finished: i64,
    pub status: String,
    /// JSON object of counts (`{"contacts": 10, "added": 2, ...}`).
    pub counts: String,
    pub message: String,
}

pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens the store, creating or migrating it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let shown = path.display().to_string();
        let open_err = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(open_err)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: shown,
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        let migration = match version {
            0 => format!("{SCHEMA} {JOB_ERRORS} {COMMON_NAMES} {DETAILS}"),
            1 => format!("{JOB_ERRORS} {COMMON_NAMES} {DETAILS}"),
            2 => format!("{COMMON_NAMES} {DETAILS}"),
            3 => DETAILS.to_string(),
            _ => String::new(),
        };
        if !migration.is_empty() {
            conn.execute_batch(&format!(
                "BEGIN; {migration} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(open_err)?;
        }
        Ok(Store { conn })
    }

    /// Adds a contact; returns its new id. The contact's own `id` is ignored.
    pub fn add(&mut self, contact: &Contact) -> Result<String, StoreError> {
        let tx = self.conn.transaction()?;
        let id = insert(&tx, contact)?;
        tx.commit()?;
        Ok(id.to_string())
    }

    /// Imports contacts, in one transaction: either all of it happens or none.
    ///
    /// A contact the store already holds is updated in place and keeps its id (and
    /// so its DN), rather than added again: the same id in the list it came from,
    /// else its store id (an export imported back), else the same e-mail address
    /// (held by one contact on each side), else the same name with a number in
    /// common. The others are added. With `replace`, current contacts the list does
    /// not hold are removed. The sample phone book goes at the first import. Nothing
    /// is kept when `accept` refuses what the import would do.
    pub fn import(
        &mut self,
        contacts: &[Contact],
        replace: bool,
        accept: impl FnOnce(&Imported) -> bool,
    ) -> Result<Option<Imported>, StoreError> {
        let tx = self.conn.transaction()?;
        let existing = identities(&tx)?;
        let mut done = Imported {
            before: existing.len(),
            ..Imported::default()
        };
        let samples: Vec<i64> = existing
            .iter()
            .filter(|e| e.import_id.starts_with(SAMPLE_PREFIX))
            .map(|e| e.id)
            .collect();
        // The sample phone book stays until the node's first import.
        let first = !samples.is_empty();
        let matcher = Matcher::new(&existing, contacts, first);
        let mut claimed = std::collections::HashSet::new();
        for c in contacts {
            match matcher.find(c, &claimed) {
                // The first import takes over the sample contact its row's id names
                // (an export of another node imported here keeps its DNs).
                Some(at) if first && existing[at].import_id.starts_with(SAMPLE_PREFIX) => {
                    let e = &existing[at];
                    claimed.insert(e.id);
                    update(&tx, e.id, c)?;
                    tx.execute(
                        "UPDATE contacts SET import_id = ?2 WHERE id = ?1",
                        params![e.id, c.id.trim()],
                    )?;
                    done.added += 1;
                }
                Some(at) => {
                    let e = &existing[at];
                    claimed.insert(e.id);
                    let mut stored = get_contact(&tx, e.id)?.unwrap_or_default();
                    stored.id = String::new();
                    let mut incoming = c.clone();
                    incoming.id = String::new();
                    if stored == incoming {
                        done.unchanged += 1;
                    } else {
                        update(&tx, e.id, c)?;
                        done.updated += 1;
                    }
                    if !c.id.trim().is_empty() && e.import_id.is_empty() {
                        tx.execute(
                            "UPDATE contacts SET import_id = ?2 WHERE id = ?1",
                            params![e.id, c.id.trim()],
                        )?;
                    }
                }
                None => {
                    let id = insert(&tx, c)?;
                    tx.execute(
                        "UPDATE contacts SET import_id = ?2 WHERE id = ?1",
                        params![id, c.id.trim()],
                    )?;
                    done.added += 1;
                }
            }
        }
        let gone: Vec<i64> = existing
            .iter()
            .map(|e| e.id)
            .filter(|id| !claimed.contains(id))
            .filter(|id| replace || (first && samples.contains(id)))
            .collect();
        for id in gone {
            tx.execute("DELETE FROM contacts WHERE id = ?1", [id])?;
            if !samples.contains(&id) {
                done.removed += 1;
            }
        }
        if first {
            done.sample_removed = samples.len();
        }
        if !accept(&done) {
            return Ok(None);
        }
        let counts = serde_json::json!({
            "imported": contacts.len(),
            "added": done.added,
            "updated": done.updated,
            "unchanged": done.unchanged,
            "removed": done.removed,
            "sample_removed": done.sample_removed,
        });
        insert_job(&tx, "contacts", &counts)?;
        tx.commit()?;
        Ok(Some(done))
    }

    /// Removes the sample phone book (at the node's first import); says how many
    /// contacts went.
    pub fn remove_sample(&mut self) -> Result<usize, StoreError> {
        let pattern = format!("{SAMPLE_PREFIX}%");
        Ok(self
            .conn
            .execute("DELETE FROM contacts WHERE import_id LIKE ?1", [&pattern])?)
    }

    /// Adds the sample phone book, marked as such (the first import removes it).
    pub fn add_sample(&mut self, contacts: &[Contact]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for (n, c) in contacts.iter().enumerate() {
            let id = insert(&tx, c)?;
            tx.execute(
                "UPDATE contacts SET import_id = ?2 WHERE id = ?1",
                params![id, format!("{SAMPLE_PREFIX}{}", n + 1)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Replaces the contact with this id, keeping the id (and so its DN); false
    /// when there is none.
    pub fn update(&mut self, id: &str, contact: &Contact) -> Result<bool, StoreError> {
        let Ok(n) = id.trim().parse::<i64>() else {
            return Ok(false);
        };
        let tx = self.conn.transaction()?;
        let known: i64 = tx.query_row("SELECT COUNT(*) FROM contacts WHERE id = ?1", [n], |r| {
            r.get(0)
        })?;
        if known == 0 {
            return Ok(false);
        }
        update(&tx, n, contact)?;
        tx.commit()?;
        Ok(true)
    }

    /// Removes a contact, and records it in the history: the merge that follows
    /// expects it to go.
    pub fn remove(&mut self, id: &str) -> Result<bool, StoreError> {
        let Ok(n) = id.trim().parse::<i64>() else {
            return Ok(false);
        };
        let tx = self.conn.transaction()?;
        let removed = tx.execute("DELETE FROM contacts WHERE id = ?1", [n])?;
        if removed > 0 {
            insert_job(&tx, "contacts", &serde_json::json!({ "removed": removed }))?;
        }
        tx.commit()?;
        Ok(removed > 0)
    }

    /// How many served contacts the imports, syncs and deletions applied since the
    /// last published merge removed: what the next merge is expected to remove.
    pub fn removed_since_merge(&self) -> Result<usize, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT counts FROM jobs WHERE status = 'ok' \
             AND kind IN ('import', 'sync', 'contacts') \
             AND id > (SELECT COALESCE(MAX(id), 0) FROM jobs WHERE kind = 'merge' AND status = 'ok')",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut removed = 0;
        for counts in rows {
            let counts: serde_json::Value = serde_json::from_str(&counts?).unwrap_or_default();
            for key in ["removed", "sample_removed"] {
                removed += counts
                    .get(key)
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(0) as usize;
            }
        }
        Ok(removed)
    }

    pub fn get(&self, id: &str) -> Result<Option<Contact>, StoreError> {
        let Ok(n) = id.trim().parse::<i64>() else {
            return Ok(None);
        };
        get_contact(&self.conn, n)
    }

    pub fn count(&self) -> Result<usize, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM contacts", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// Every internal contact, by id.
    pub fn all(&self) -> Result<Vec<Contact>, StoreError> {
        let mut contacts = Vec::new();
        let mut stmt = self.conn.prepare(&format!("{SELECT} ORDER BY id"))?;
        let rows = stmt.query_map([], row_to_contact)?;
        for row in rows {
            contacts.push(row?);
        }
        // Numbers in one ordered pass, matched to contacts by id.
        let mut stmt = self.conn.prepare(
            "SELECT contact_id, kind, number FROM numbers ORDER BY contact_id, position",
        )?;
        let mut rows = stmt.query([])?;
        let mut i = 0;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let key = id.to_string();
            while i < contacts.len() && contacts[i].id != key {
                i += 1;
            }
            if let (Some(c), Some(kind)) = (
                contacts.get_mut(i),
                PhoneKind::parse(&row.get::<_, String>(1)?),
            ) {
                c.phones.push(Phone {
                    kind,
                    number: row.get(2)?,
                });
            }
        }
        Ok(contacts)
    }

    /// Contacts whose names, company or numbers contain `text` (case-insensitive;
    /// spaces and hyphens in numbers ignored).
    /// The contacts that every word of `text` finds in a name, the company or the
    /// e-mail address (`John Smith` finds given name John, surname Smith), or whose
    /// number holds `text`'s digits (spaces and hyphens ignored).
    pub fn search(&self, text: &str) -> Result<Vec<Contact>, StoreError> {
        let needle = text.trim().to_lowercase();
        let words: Vec<&str> = needle.split_whitespace().collect();
        let digits: String = needle.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let bare = |n: &str| {
            n.chars()
                .filter(|c| !matches!(c, ' ' | '-'))
                .collect::<String>()
        };
        Ok(self
            .all()?
            .into_iter()
            .filter(|c| {
                let fields: Vec<String> =
                    c.cn.iter()
                        .chain([
                            &c.common_name(),
                            &c.given_name,
                            &c.surname,
                            &c.display_name,
                            &c.company,
                            &c.email,
                        ])
                        .map(|f| f.to_lowercase())
                        .collect();
                (!words.is_empty() && words.iter().all(|w| fields.iter().any(|f| f.contains(w))))
                    || (!digits.is_empty()
                        && c.phones.iter().any(|p| bare(&p.number).contains(&digits)))
            })
            .collect())
    }

    pub fn record_job(&mut self, job: &Job) -> Result<i64, StoreError> {
        self.record_job_with_errors(job, &[])
    }

    /// Records a finished job and the entries it skipped (position, reason); keeps
    /// the last `JOBS_KEPT` jobs.
    pub fn record_job_with_errors(
        &mut self,
        job: &Job,
        errors: &[(String, String)],
    ) -> Result<i64, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO jobs (kind, started, finished, status, counts, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![job.kind, job.started, job.finished, job.status, job.counts, job.message],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare("INSERT INTO job_errors (job_id, position, reason) VALUES (?1, ?2, ?3)")?;
            for (position, reason) in errors {
                insert.execute(params![id, position, reason])?;
            }
        }
        tx.execute("DELETE FROM jobs WHERE id <= ?1", [id - JOBS_KEPT])?;
        tx.commit()?;
        Ok(id)
    }

    pub fn job(&self, id: i64) -> Result<Option<Job>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, kind, started, finished, status, counts, message FROM jobs WHERE id = ?1",
                [id],
                job_from_row,
            )
            .optional()?)
    }

    /// The entries a job skipped: (position, reason).
    pub fn job_errors(&self, id: i64) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT position, reason FROM job_errors WHERE job_id = ?1 ORDER BY rowid")?;
        let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The generation the last successful merge published, as its job recorded it.
    pub fn last_published(&self) -> Result<Option<u64>, StoreError> {
        let counts: Option<String> = self
            .conn
            .query_row(
                "SELECT counts FROM jobs WHERE kind = 'merge' AND status = 'ok' ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        Ok(counts.and_then(|c| {
            serde_json::from_str::<serde_json::Value>(&c)
                .ok()?
                .get("generation")?
                .as_u64()
        }))
    }

    /// The most recent jobs first.
    pub fn jobs(&self, limit: usize) -> Result<Vec<Job>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, started, finished, status, counts, message FROM jobs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// Records a job done now, in the transaction of what it did.
fn insert_job(tx: &Connection, kind: &str, counts: &serde_json::Value) -> Result<(), StoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    tx.execute(
        "INSERT INTO jobs (kind, started, finished, status, counts, message) VALUES (?1, ?2, ?2, 'ok', ?3, '')",
        params![kind, now, counts.to_string()],
    )?;
    Ok(())
}

fn get_contact(conn: &Connection, n: i64) -> Result<Option<Contact>, StoreError> {
    let contact = conn
        .query_row(&format!("{SELECT} WHERE id = ?1"), [n], row_to_contact)
        .optional()?;
    match contact {
        Some(mut c) => {
            c.phones = numbers_of(conn, n)?;
            Ok(Some(c))
        }
        None => Ok(None),
    }
}

fn numbers_of(conn: &Connection, id: i64) -> Result<Vec<Phone>, StoreError> {
    {
        let mut stmt = conn
            .prepare("SELECT kind, number FROM numbers WHERE contact_id = ?1 ORDER BY position")?;
        let rows = stmt.query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut phones = Vec::new();
        for row in rows {
            let (kind, number) = row?;
            if let Some(kind) = PhoneKind::parse(&kind) {
                phones.push(Phone { kind, number });
            }
        }
        Ok(phones)
    }
}

/// What an import recognises a stored contact by.
struct Identity {
    id: i64,
    import_id: String,
    mail: String,
    name: Option<u64>,
    numbers: Vec<String>,
}

/// A number as imports compare it: its digits.
fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

fn identities(conn: &Connection) -> Result<Vec<Identity>, StoreError> {
    let mut stmt = conn.prepare(&format!("{SELECT_WITH_IMPORT_ID} ORDER BY id"))?;
    let rows = stmt.query_map([], |r| Ok((row_to_contact(r)?, r.get::<_, String>(16)?)))?;
    let mut out = Vec::new();
    let mut at = std::collections::HashMap::new();
    for row in rows {
        let (c, import_id) = row?;
        let id: i64 = c.id.parse().unwrap_or_default();
        at.insert(id, out.len());
        out.push(Identity {
            id,
            import_id,
            mail: c.email.trim().to_lowercase(),
            name: crate::directory::merge::name_key(&c),
            numbers: Vec::new(),
        });
    }
    let mut stmt = conn.prepare("SELECT contact_id, number FROM numbers")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (id, number) = row?;
        if let Some(i) = at.get(&id) {
            out[*i].numbers.push(digits(&number));
        }
    }
    Ok(out)
}

/// Finds which stored contact an imported one is (see `Store::import`).
struct Matcher<'a> {
    existing: &'a [Identity],
    by_import: std::collections::HashMap<&'a str, usize>,
    by_store: std::collections::HashMap<i64, usize>,
    /// E-mail addresses held by one stored contact and one imported contact only.
    by_mail: std::collections::HashMap<&'a str, usize>,
    by_name: std::collections::HashMap<u64, Vec<usize>>,
    /// The store holds the sample phone book only: a row's id may name a sample
    /// contact, which it then takes over.
    first: bool,
}

impl<'a> Matcher<'a> {
    fn new(existing: &'a [Identity], incoming: &[Contact], first: bool) -> Matcher<'a> {
        let mut m = Matcher {
            first,
            existing,
            by_import: Default::default(),
            by_store: Default::default(),
            by_mail: Default::default(),
            by_name: Default::default(),
        };
        let mut mails: std::collections::HashMap<&str, usize> = Default::default();
        for (i, e) in existing.iter().enumerate() {
            if !e.import_id.is_empty() {
                m.by_import.entry(e.import_id.as_str()).or_insert(i);
            }
            m.by_store.insert(e.id, i);
            if !e.mail.is_empty() {
                *mails.entry(e.mail.as_str()).or_default() += 1;
                m.by_mail.insert(e.mail.as_str(), i);
            }
            if let Some(n) = e.name {
                m.by_name.entry(n).or_default().push(i);
            }
        }
        let mut incoming_mails: std::collections::HashMap<String, usize> = Default::default();
        for c in incoming {
            *incoming_mails
                .entry(c.email.trim().to_lowercase())
                .or_default() += 1;
        }
        m.by_mail.retain(|mail, _| {
            mails.get(mail) == Some(&1) && incoming_mails.get(*mail).copied().unwrap_or(0) <= 1
        });
        m
    }

    fn find(&self, c: &Contact, claimed: &std::collections::HashSet<i64>) -> Option<usize> {
        let free = |at: &usize| !claimed.contains(&self.existing[*at].id);
        let numbers: Vec<String> = c.phones.iter().map(|p| digits(&p.number)).collect();
        let shares_number = |e: &Identity| {
            numbers
                .iter()
                .any(|n| n.len() >= 3 && e.numbers.contains(n))
        };
        let name = crate::directory::merge::name_key(c);
        let mail = c.email.trim().to_lowercase();
        let id = c.id.trim();
        if let Some(at) = self.by_import.get(id).filter(|a| !id.is_empty() && free(a)) {
            return Some(*at);
        }
        // An export imported back: its ids are store ids. Taken for the same contact
        // only when something else agrees (a foreign list may number from 1 too).
        if let Some(at) = id.parse::<i64>().ok().and_then(|n| self.by_store.get(&n)) {
            let e = &self.existing[*at];
            let agrees = (name.is_some() && name == e.name)
                || shares_number(e)
                || (!mail.is_empty() && mail == e.mail);
            if free(at) && (e.import_id.is_empty() || e.import_id == id) && agrees {
                return Some(*at);
            }
            if free(at) && self.first && e.import_id.starts_with(SAMPLE_PREFIX) {
                return Some(*at);
            }
        }
        if let Some(at) = self.by_mail.get(mail.as_str()).filter(|a| free(a)) {
            return Some(*at);
        }
        name.and_then(|n| self.by_name.get(&n))
            .and_then(|ats| {
                ats.iter()
                    .find(|a| free(a) && shares_number(&self.existing[**a]))
            })
            .copied()
    }
}

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        started: r.get(2)?,
        finished: r.get(3)?,
        status: r.get(4)?,
        counts: r.get(5)?,
        message: r.get(6)?,
    })
}

/// The columns `row_to_contact` reads, in its order: the details follow the common
/// names in `Detail::ALL` order, then the photo.
const SELECT: &str = "SELECT id, given_name, surname, display_name, company, department, title, email, cn, description, street, locality, postal_code, state, country, photo FROM contacts";
const SELECT_WITH_IMPORT_ID: &str = "SELECT id, given_name, surname, display_name, company, department, title, email, cn, description, street, locality, postal_code, state, country, photo, import_id FROM contacts";

/// Common names as a column: one per line.
fn cn_column(c: &Contact) -> String {
    c.cn.iter()
        .map(|v| v.replace(['\n', '\r'], " "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn row_to_contact(r: &rusqlite::Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: r.get::<_, i64>(0)?.to_string(),
        given_name: r.get(1)?,
        surname: r.get(2)?,
        display_name: r.get(3)?,
        company: r.get(4)?,
        department: r.get(5)?,
        title: r.get(6)?,
        email: r.get(7)?,
        cn: r
            .get::<_, String>(8)?
            .lines()
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect(),
        description: r.get(9)?,
        street: r.get(10)?,
        locality: r.get(11)?,
        postal_code: r.get(12)?,
        state: r.get(13)?,
        country: r.get(14)?,
        photo: r.get(15)?,
        phones: Vec::new(),
    })
}

/// The columns a contact is written to, in the order of `column_values`.
const COLUMNS: &str = "given_name, surname, display_name, company, department, title, email, cn, description, street, locality, postal_code, state, country, photo";

/// A contact's values for `COLUMNS`; `cn` is its `cn_column`.
fn column_values<'a>(c: &'a Contact, cn: &'a dyn rusqlite::ToSql) -> [&'a dyn rusqlite::ToSql; 15] {
    [
        &c.given_name,
        &c.surname,
        &c.display_name,
        &c.company,
        &c.department,
        &c.title,
        &c.email,
        cn,
        &c.description,
        &c.street,
        &c.locality,
        &c.postal_code,
        &c.state,
        &c.country,
        &c.photo,
    ]
}

/// `?from, ?from+1, ...`: one placeholder for each of `COLUMNS`.
fn placeholders(from: usize) -> String {
    (from..from + 15)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rewrites a contact in place, numbers included.
fn update(tx: &rusqlite::Transaction<'_>, id: i64, c: &Contact) -> Result<(), StoreError> {
    let cn = cn_column(c);
    let values = std::iter::once(&id as &dyn rusqlite::ToSql).chain(column_values(c, &cn));
    tx.prepare_cached(&format!(
        "UPDATE contacts SET ({COLUMNS}) = ({}) WHERE id = ?1",
        placeholders(2)
    ))?
    .execute(rusqlite::params_from_iter(values))?;
    tx.prepare_cached("DELETE FROM numbers WHERE contact_id = ?1")?
        .execute([id])?;
    insert_numbers(tx, id, c)
}

fn insert_numbers(tx: &rusqlite::Transaction<'_>, id: i64, c: &Contact) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO numbers (contact_id, position, kind, number) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (position, phone) in c.phones.iter().enumerate() {
        stmt.execute(params![
            id,
            position as i64,
            phone.kind.as_str(),
            phone.number
        ])?;
    }
    Ok(())
}

fn insert(tx: &rusqlite::Transaction<'_>, c: &Contact) -> Result<i64, StoreError> {
    let cn = cn_column(c);
    tx.prepare_cached(&format!(
        "INSERT INTO contacts ({COLUMNS}) VALUES ({})",
        placeholders(1)
    ))?
    .execute(rusqlite::params_from_iter(column_values(c, &cn)))?;
    let id = tx.last_insert_rowid();
    insert_numbers(tx, id, c)?;
    Ok(id)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::contacts::Detail;

    fn ada() -> Contact {
        Contact {
            given_name: "Ada".into(),
            surname: "Lovelace".into(),
            company: "Analytical Engines".into(),
            phones: vec![
                Phone {
                    kind: PhoneKind::Work,
                    number: "+44 20 7946-0001".into(),
                },
                Phone {
                    kind: PhoneKind::Mobile,
                    number: "+44 7700 900001".into(),
                },
            ],
            ..Contact::default()
        }
    }

    /// A store in `dir` as an earlier version made it (`schema`), holding a contact.
    fn old_store(dir: &tempfile::TempDir, schema: &str, insert: &str) -> std::path::PathBuf {
        let path = dir.path().join("sop.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema).unwrap();
        conn.execute(insert, []).unwrap();
        path
    }

    #[test]
    fn common_names_are_kept_and_a_version_2_store_gains_them() {
        let dir = tempfile::tempdir().unwrap();
        // A store as version 2 made it: no cn column.
        let path = old_store(
            &dir,
            &format!("{SCHEMA} {JOB_ERRORS} PRAGMA user_version = 2;"),
            "INSERT INTO contacts (given_name, surname) VALUES ('Ada', 'Lovelace')",
        );
        let mut store = Store::open(&path).unwrap();
        let old = store.all().unwrap();
        assert_eq!((old.len(), old[0].cn.len()), (1, 0));
        let mut two = ada();
        two.cn = vec!["Ada Lovelace".into(), "Countess of Lovelace".into()];
        let id = store.add(&two).unwrap();
        assert_eq!(store.get(&id).unwrap().unwrap().cn, two.cn);
    }

    #[test]
    fn details_and_photos_are_kept_and_a_version_3_store_gains_them() {
        let dir = tempfile::tempdir().unwrap();
        // A store as version 3 made it: common names, no details.
        let path = old_store(
            &dir,
            &format!("{SCHEMA} {JOB_ERRORS} {COMMON_NAMES} PRAGMA user_version = 3;"),
            "INSERT INTO contacts (given_name, surname, cn) VALUES ('Ada', 'Lovelace', 'Ada L.')",
        );
        let mut store = Store::open(&path).unwrap();
        let old = store.all().unwrap();
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].cn, ["Ada L."]);
        assert!(Detail::ALL.iter().all(|d| old[0].detail(*d).is_empty()));
        assert!(old[0].photo.is_empty());
        let mut placed = ada();
        for (i, d) in Detail::ALL.into_iter().enumerate() {
            *placed.detail_mut(d) = format!("{} {i}", d.name());
        }
        placed.photo = vec![0xff, 0xd8, 0x00, 0xff, 0xd9];
        let id = store.add(&placed).unwrap();
        let back = store.get(&id).unwrap().unwrap();
        assert_eq!(
            back,
            Contact {
                id,
                ..placed.clone()
            }
        );
        // An import that finds the contact updates its details in place.
        let mut moved = placed.clone();
        moved.street = "12 New Street".into();
        moved.photo.clear();
        store.import(&[moved], false, |_| true).unwrap();
        let all = store.all().unwrap();
        let back = all
            .iter()
            .find(|c| c.given_name == "Ada" && !c.street.is_empty());
        assert_eq!(
            back.map(|c| (c.street.as_str(), c.photo.len())),
            Some(("12 New Street", 0))
        );
        drop(store);
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn contacts_round_trip_with_stable_ids_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sop.db")).unwrap();
        let a = store.add(&ada()).unwrap();
        let b = store.add(&ada()).unwrap();
        assert_ne!(a, b);
        let got = store.get(&a).unwrap().unwrap();
        assert_eq!(got.phones, ada().phones);
        assert_eq!(store.count().unwrap(), 2);
        assert!(store.remove(&b).unwrap());
        assert!(!store.remove(&b).unwrap());
        let c = store.add(&ada()).unwrap();
        assert!(
            c.parse::<i64>().unwrap() > b.parse::<i64>().unwrap(),
            "ids are not reused"
        );
        let all = store.all().unwrap();
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|c| c.phones.len() == 2));
        drop(store);
        let store = Store::open(&dir.path().join("sop.db")).unwrap();
        assert_eq!(store.count().unwrap(), 2, "survives a reopen");
    }

    #[test]
    fn search_ignores_case_spaces_and_hyphens() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sop.db")).unwrap();
        store.add(&ada()).unwrap();
        assert_eq!(store.search("LOVE").unwrap().len(), 1);
        assert_eq!(store.search("79460001").unwrap().len(), 1);
        assert_eq!(store.search("nobody").unwrap().len(), 0);
        // A whole name, as typed: each word in a field of its own.
        assert_eq!(store.search("Ada Lovelace").unwrap().len(), 1);
        assert_eq!(store.search("lovelace engines").unwrap().len(), 1);
        assert_eq!(store.search("Ada Byron").unwrap().len(), 0);
    }

    #[test]
    fn replace_is_all_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sop.db")).unwrap();
        let done = store.import(&[ada(), ada()], false, |_| true).unwrap();
        assert_eq!(done.unwrap().added, 2);
        // Refused by the caller (the removal guard): nothing happens.
        assert!(store.import(&[ada()], true, |_| false).unwrap().is_none());
        assert_eq!(store.count().unwrap(), 2);
        let done = store.import(&[ada()], true, |_| true).unwrap().unwrap();
        assert_eq!(
            (done.added, done.updated, done.unchanged, done.removed),
            (0, 0, 1, 1)
        );
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn replace_keeps_the_ids_it_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sop.db")).unwrap();
        store
            .import(&[ada(), ada(), ada()], false, |_| true)
            .unwrap();
        let mut all = store.all().unwrap();
        all[0].surname = "Byron".into();
        all.remove(1);
        // Without an id, but with the name and number of the one taken out.
        all.push(ada());
        let done = store.import(&all, true, |_| true).unwrap().unwrap();
        assert_eq!(
            (done.added, done.updated, done.unchanged, done.removed),
            (0, 1, 2, 0)
        );
        let first = store.get(&all[0].id).unwrap().unwrap();
        assert_eq!(first.surname, "Byron");
        assert_eq!(first.phones, ada().phones);
        assert_eq!(store.count().unwrap(), 3);
    }

    #[test]
    fn jobs_are_recorded_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("sop.db")).unwrap();
        for kind in ["merge", "import"] {
            store
                .record_job(&Job {
                    id: 0,
                    kind: kind.into(),
                    started: 1,
                    finished: 2,
                    status: "ok".into(),
                    counts: "{}".into(),
                    message: String::new(),
                })
                .unwrap();
        }
        let jobs = store.jobs(10).unwrap();
        assert_eq!(jobs[0].kind, "import");
        assert_eq!(jobs.len(), 2);
    }
}
