//! Contacts: the served directory, searched as you type (the running server
//! answers from its index, so a million contacts stay within a frame); the details
//! of one; adding, editing and removing internal contacts.

use super::super::action::Failure;
use super::super::component::{Ctx, Reply, Screen};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets::{self, Fields};
use crate::contacts::{Contact, Detail, Phone, PhoneKind};
use crate::directory::lookup::{Found, FoundEntry, escape};
use crossterm::event::Event;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// Entries a search lists at most: a few screens' worth; typing narrows.
pub const LIMIT: usize = 200;

/// Number kinds and the attributes they are served as.
pub const PHONE_ATTRS: [(PhoneKind, &str, &str); 7] = [
    (PhoneKind::Work, "telephoneNumber", "Work"),
    (PhoneKind::Mobile, "mobile", "Mobile"),
    (PhoneKind::Home, "homePhone", "Home"),
    (PhoneKind::IpPhone, "ipPhone", "IP phone"),
    (PhoneKind::Other, "otherTelephone", "Other"),
    (PhoneKind::Fax, "facsimileTelephoneNumber", "Fax"),
    (PhoneKind::Pager, "pager", "Pager"),
];

#[derive(Debug, Default)]
pub struct State {
    pub search: Input,
    /// The search box has the focus: letters are typed into it.
    pub typing: bool,
    pub sel: usize,
    /// The sequence number of the last search sent; older answers are dropped.
    pub seq: u64,
    pub found: Option<Found>,
    pub error: Option<String>,
    /// The results are internal contacts from the store (the server is stopped).
    pub internal_only: bool,
    /// The internal contact added or edited.
    pub form: Form,
}

impl State {
    pub fn rows(&self) -> usize {
        self.found.as_ref().map_or(0, |f| f.entries.len())
    }

    /// Returns true when the text changed.
    pub fn input(&mut self, event: &Event) -> bool {
        self.search.handle_event(event).is_some_and(|c| c.value)
    }

    pub fn search_effect(&mut self, running: bool) -> Vec<Effect> {
        self.seq += 1;
        self.sel = 0;
        self.internal_only = !running;
        let text = self.search.value().to_string();
        if running {
            vec![Effect::Search {
                seq: self.seq,
                filter: filter_for(&text),
                limit: LIMIT,
            }]
        } else {
            vec![Effect::SearchInternal {
                seq: self.seq,
                text,
            }]
        }
    }

    pub fn found(&mut self, seq: u64, result: Result<Found, Failure>) {
        if seq != self.seq {
            return;
        }
        match result {
            Ok(f) => {
                self.found = Some(f);
                self.error = None;
            }
            Err(e) => self.error = Some(e.to_string()),
        }
        self.sel = self.sel.min(self.rows().saturating_sub(1));
    }

    pub fn selected(&self) -> Option<&FoundEntry> {
        self.found.as_ref().and_then(|f| f.entries.get(self.sel))
    }
}

/// The filter for typed text: names, company and mail by prefix, numbers by any
/// part. Text starting with `(` is an LDAP filter as it is.
pub fn filter_for(text: &str) -> String {
    let text = text.trim();
    if text.starts_with('(') {
        return text.to_string();
    }
    if text.is_empty() {
        return "(objectClass=*)".to_string();
    }
    let e = escape(text);
    let mut f = format!(
        "(|(cn={e}*)(cn=* {e}*)(sn={e}*)(givenName={e}*)(displayName={e}*)(o={e}*)(mail={e}*)"
    );
    if text.chars().any(|c| c.is_ascii_digit()) {
        for (_, attr, _) in PHONE_ATTRS {
            f.push_str(&format!("({attr}=*{e}*)"));
        }
    }
    f.push(')');
    f
}

/// Internal contacts shown like served entries, when the server is stopped.
pub fn internal_found(contacts: &[Contact], micros: u64) -> Found {
    let entries: Vec<FoundEntry> = contacts
        .iter()
        .take(LIMIT)
        .map(|c| {
            let mut attributes = vec![("uid".to_string(), vec![format!("internal-{}", c.id)])];
            let mut text = |name: &str, v: &str| {
                if !v.is_empty() {
                    attributes.push((name.to_string(), vec![v.to_string()]));
                }
            };
            text("cn", &c.common_name());
            text("sn", &c.surname);
            text("givenName", &c.given_name);
            text("displayName", &c.display_name);
            text("o", &c.company);
            text("ou", &c.department);
            text("title", &c.title);
            text("mail", &c.email);
            for (kind, attr, _) in PHONE_ATTRS {
                let v: Vec<String> = c.numbers(kind).map(str::to_string).collect();
                if !v.is_empty() {
                    attributes.push((attr.to_string(), v));
                }
            }
            FoundEntry {
                dn: format!("uid=internal-{}", c.id),
                attributes,
            }
        })
        .collect();
    Found {
        matched: contacts.len(),
        entries,
        micros,
        fallback: None,
        window: None,
    }
}

/// The internal contact id behind a served entry, if it is an internal one.
pub fn internal_id(e: &FoundEntry) -> Option<String> {
    e.first("uid")
        .strip_prefix("internal-")
        .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string)
}

/// One field of the contact form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Field {
    #[default]
    Given,
    Surname,
    Display,
    /// The common names, separated by semicolons (a name may hold a comma).
    CommonNames,
    Company,
    Department,
    Title,
    Email,
    /// The numbers of one kind, separated by commas.
    Numbers(PhoneKind),
    Detail(Detail),
}

/// The contact form's fields, in order. The photo is not edited here: a contact
/// keeps the one it has.
pub const FORM: [Field; 21] = [
    Field::Given,
    Field::Surname,
    Field::Display,
    Field::CommonNames,
    Field::Company,
    Field::Department,
    Field::Title,
    Field::Email,
    Field::Numbers(PhoneKind::Work),
    Field::Numbers(PhoneKind::Mobile),
    Field::Numbers(PhoneKind::Home),
    Field::Numbers(PhoneKind::IpPhone),
    Field::Numbers(PhoneKind::Other),
    Field::Numbers(PhoneKind::Fax),
    Field::Numbers(PhoneKind::Pager),
    Field::Detail(Detail::Street),
    Field::Detail(Detail::Locality),
    Field::Detail(Detail::PostalCode),
    Field::Detail(Detail::State),
    Field::Detail(Detail::Country),
    Field::Detail(Detail::Description),
];

impl widgets::Fields for Field {
    const ALL: &'static [Field] = &FORM;
}

impl Field {
    /// Its place in [`FORM`] (and its input's in the form).
    fn index(self) -> usize {
        FORM.iter().position(|f| *f == self).unwrap_or(0)
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Given => "Given name",
            Field::Surname => "Surname",
            Field::Display => "Display name",
            Field::CommonNames => "Common names",
            Field::Company => "Company",
            Field::Department => "Department",
            Field::Title => "Title",
            Field::Email => "Email",
            Field::Numbers(kind) => PHONE_ATTRS
                .iter()
                .find(|(k, _, _)| *k == kind)
                .map_or("Number", |(_, _, label)| label),
            Field::Detail(Detail::Street) => "Street",
            Field::Detail(Detail::Locality) => "City",
            Field::Detail(Detail::PostalCode) => "Postal code",
            Field::Detail(Detail::State) => "State",
            Field::Detail(Detail::Country) => "Country",
            Field::Detail(Detail::Description) => "Description",
        }
    }

    /// The field's text for `c`.
    fn value(self, c: &Contact) -> String {
        match self {
            Field::Given => c.given_name.clone(),
            Field::Surname => c.surname.clone(),
            Field::Display => c.display_name.clone(),
            Field::CommonNames => c.cn.join("; "),
            Field::Company => c.company.clone(),
            Field::Department => c.department.clone(),
            Field::Title => c.title.clone(),
            Field::Email => c.email.clone(),
            Field::Numbers(kind) => c.numbers(kind).collect::<Vec<_>>().join(", "),
            Field::Detail(d) => c.detail(d).to_string(),
        }
    }

    /// Sets the field of `c` from its text (trimmed), or says what is wrong.
    fn set(self, c: &mut Contact, text: &str) -> Result<(), String> {
        let text = text.trim();
        let slot = match self {
            Field::Given => &mut c.given_name,
            Field::Surname => &mut c.surname,
            Field::Display => &mut c.display_name,
            Field::Company => &mut c.company,
            Field::Department => &mut c.department,
            Field::Title => &mut c.title,
            Field::Email => &mut c.email,
            Field::Detail(d) => c.detail_mut(d),
            Field::CommonNames => {
                c.cn = split(text, ';');
                return Ok(());
            }
            Field::Numbers(kind) => {
                for number in split(text, ',') {
                    if !number.chars().any(|ch| ch.is_ascii_digit()) {
                        return Err(format!("{}: {number:?} has no digit", self.label()));
                    }
                    c.phones.push(Phone { kind, number });
                }
                return Ok(());
            }
        };
        *slot = text.to_string();
        Ok(())
    }
}

/// The non-empty values of a list typed with `separator` between them.
fn split(text: &str, separator: char) -> Vec<String> {
    text.split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Default)]
pub struct Form {
    /// Empty for a new contact.
    pub id: String,
    /// One input per field of [`FORM`].
    pub inputs: Vec<Input>,
    pub focus: Field,
    original: Vec<String>,
    /// What the contact came with that the form does not edit (its photo): kept
    /// as it was.
    kept: Contact,
}

impl Form {
    pub fn new(c: &Contact) -> Form {
        let values: Vec<String> = FORM.iter().map(|f| f.value(c)).collect();
        Form {
            id: c.id.clone(),
            inputs: values.iter().cloned().map(Input::new).collect(),
            focus: Field::Given,
            original: values,
            kept: Contact {
                phones: Vec::new(),
                ..c.clone()
            },
        }
    }

    pub fn is_dirty(&self) -> bool {
        self.inputs
            .iter()
            .zip(&self.original)
            .any(|(i, o)| i.value() != o)
    }

    pub fn input(&mut self, event: &Event) {
        if let Some(i) = self.inputs.get_mut(self.focus.index()) {
            i.handle_event(event);
        }
    }

    /// The contact, or what is wrong with it.
    pub fn contact(&self) -> Result<Contact, String> {
        let mut c = Contact {
            id: self.id.clone(),
            phones: Vec::new(),
            ..self.kept.clone()
        };
        for (field, input) in FORM.iter().zip(&self.inputs) {
            field.set(&mut c, input.value())?;
        }
        if !c.is_servable() {
            return Err("a contact needs a name, a company or a number".into());
        }
        Ok(c)
    }
}

impl Form {
    /// The keys of the contact form.
    pub fn handle(&mut self, cmd: Cmd) -> Reply {
        let mut r = Reply::default();
        match cmd {
            Cmd::NextField => self.focus = self.focus.next(),
            Cmd::PrevField => self.focus = self.focus.prev(),
            Cmd::ClearField => {
                if let Some(i) = self.inputs.get_mut(self.focus.index()) {
                    i.reset();
                }
            }
            Cmd::Save => match self.contact() {
                Ok(c) => {
                    *self = Form::default();
                    return r.back().begin(
                        "Saving the contact",
                        false,
                        Effect::SaveContact(Box::new(c)),
                    );
                }
                Err(e) => r.error(format!("not saved: {e}")),
            },
            _ => {}
        }
        r
    }
}

impl State {
    pub fn handle(&mut self, ctx: &Ctx, cmd: Cmd) -> Reply {
        let mut r = Reply::default();
        let running = ctx.running().is_some();
        match cmd {
            Cmd::Search => self.typing = true,
            Cmd::Open if self.typing => self.typing = false,
            Cmd::Open => {
                if let Some(e) = self.selected() {
                    let mut lines = vec![e.dn.clone()];
                    for (name, values) in &e.attributes {
                        for v in values {
                            lines.push(format!("{name:<26} {v}"));
                        }
                    }
                    r.show(e.first("cn"), lines);
                }
            }
            Cmd::ClearField => {
                self.search.reset();
                return Reply::run(self.search_effect(running));
            }
            Cmd::Back if self.typing => self.typing = false,
            Cmd::Add => {
                self.form = Form::new(&Contact::default());
                return r.open(Screen::ContactForm);
            }
            Cmd::Edit | Cmd::Delete => {
                let Some(e) = self.selected() else {
                    r.error("no contact selected");
                    return r;
                };
                let Some(id) = internal_id(e) else {
                    r.error(format!(
                    "{} comes from an import or a directory, not from the internal contacts: change it at its source",
                    e.first("cn")
                ));
                    return r;
                };
                if cmd == Cmd::Edit {
                    return Reply::run(vec![Effect::LoadContact(id)]);
                }
                r.confirm(
                    "Remove contact",
                    vec![
                        format!("Remove {} (internal contact {id})?", e.first("cn")),
                        "Phones stop seeing it after the merge that follows.".into(),
                    ],
                    Effect::RemoveContact(id),
                );
            }
            Cmd::Refresh => return Reply::run(self.search_effect(running)),
            Cmd::PhoneView => return r.open(Screen::Phone),
            _ => {}
        }
        r
    }

    /// An internal contact loaded for editing.
    pub fn loaded(&mut self, result: Result<Contact, Failure>) -> Reply {
        let mut r = Reply::default();
        match result {
            Ok(c) => {
                self.form = Form::new(&c);
                return r.open(Screen::ContactForm);
            }
            Err(e) => r.error(e.to_string()),
        }
        r
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let s = self;
        let parts = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(1),
            Constraint::Min(1),
        ])
        .split(area);
        let block = widgets::panel(
            t,
            if s.typing {
                "Search (typing)"
            } else {
                "Search (/ to type)"
            },
        )
        .border_style(if s.typing { t.title() } else { t.dim() });
        let inner = block.inner(parts[0]);
        let width = inner.width.max(1) as usize;
        let scroll = s.search.visual_scroll(width);
        f.render_widget(
            Paragraph::new(s.search.value())
                .scroll((0, scroll as u16))
                .block(block),
            parts[0],
        );
        if s.typing && !ctx.popup {
            let x = inner.x + (s.search.visual_cursor().saturating_sub(scroll)) as u16;
            f.set_cursor_position((x, inner.y));
        }
        let summary = match (&s.found, &s.error) {
            (_, Some(e)) => Span::styled(e.clone(), t.bad()),
            (None, None) => Span::styled("searching...", t.dim()),
            (Some(found), None) => {
                let count = if found.truncated() {
                    format!(
                        "first {} {}",
                        found.entries.len(),
                        plural(found.entries.len(), "match", "matches")
                    )
                } else {
                    format!(
                        "{} {}",
                        found.matched,
                        plural(found.matched, "match", "matches")
                    )
                };
                let origin = if s.internal_only {
                    " (application server stopped: internal contacts from the store)"
                } else {
                    ""
                };
                Span::styled(
                    format!("{count} in {:.1} ms{origin}", found.micros as f64 / 1000.0),
                    t.dim(),
                )
            }
        };
        f.render_widget(Paragraph::new(Line::from(summary)), parts[1]);
        let rows: Vec<Line<'static>> = s
            .found
            .as_ref()
            .map(|found| {
                found
                    .entries
                    .iter()
                    .map(|e| {
                        let number = PHONE_ATTRS
                            .iter()
                            .find_map(|(_, a, _)| e.get(a).first().cloned())
                            .unwrap_or_default();
                        let company = e.first("o");
                        let mut line = vec![
                            Span::raw(format!("{:<32} ", clip(e.first("cn"), 32))),
                            Span::raw(format!("{:<20} ", clip(&number, 20))),
                            Span::styled(format!("{:<24}", clip(company, 24)), t.dim()),
                        ];
                        let books = phonebooks_of(ctx, &e.dn);
                        if !books.is_empty() {
                            line.push(Span::styled(
                                format!(" also in {}", books.join(", ")),
                                t.dim(),
                            ));
                        }
                        Line::from(line)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if rows.is_empty() {
            f.render_widget(Paragraph::new("").style(Style::new()), parts[2]);
        } else {
            widgets::list(t, f, parts[2], rows, s.sel);
        }
    }
}

/// The other phone books (`[[phonebooks]]`) a served entry is in, by the source
/// its uid names.
fn phonebooks_of<'a>(ctx: &'a Ctx, dn: &str) -> Vec<&'a str> {
    let uid = dn
        .split(',')
        .next()
        .and_then(|rdn| rdn.strip_prefix("uid="))
        .unwrap_or_default();
    let source = crate::directory::books::source_of(uid);
    ctx.config.as_ref().map_or(Vec::new(), |c| {
        c.phonebooks
            .iter()
            .filter(|b| b.sources.iter().any(|s| s == source))
            .map(|b| b.name.as_str())
            .collect()
    })
}

/// At most `n` characters.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

impl Form {
    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let form = self;
        let title = if form.id.is_empty() {
            "New internal contact".to_string()
        } else {
            format!("Internal contact {}", form.id)
        };
        let block = widgets::panel(t, &title);
        let inner = block.inner(area);
        f.render_widget(block, area);
        let label_w = 14u16;
        // The rows above the note; when the fields do not all fit, they scroll so
        // that the focused one is shown.
        let rows = inner.height.saturating_sub(1) as usize;
        let first = (form.focus.index() + 1).saturating_sub(rows);
        for (i, input) in form.inputs.iter().enumerate().skip(first).take(rows) {
            let y = inner.y + (i - first) as u16;
            let focused = i == form.focus.index();
            let mark = if focused {
                super::super::theme::MARKER
            } else {
                super::super::theme::NO_MARKER
            };
            let label = Paragraph::new(Line::from(Span::styled(
                format!("{mark}{}", FORM.get(i).map_or("", |f| f.label())),
                if focused { t.title() } else { Style::new() },
            )));
            f.render_widget(label, Rect::new(inner.x, y, label_w, 1));
            let w = inner.width.saturating_sub(label_w + 1);
            let scroll = input.visual_scroll(w.max(1) as usize);
            f.render_widget(
                Paragraph::new(input.value()).scroll((0, scroll as u16)),
                Rect::new(inner.x + label_w + 1, y, w, 1),
            );
            if focused && !ctx.popup {
                let x = inner.x + label_w + 1 + input.visual_cursor().saturating_sub(scroll) as u16;
                f.set_cursor_position((x, y));
            }
        }
        let note_y = inner.y + inner.height.saturating_sub(1);
        f.render_widget(
            Paragraph::new(Span::styled(
                "Several numbers: commas between them; several names: semicolons. ^S saves.",
                t.dim(),
            )),
            Rect::new(inner.x, note_y, inner.width, 1),
        );
    }
}

/// `one` for 1, else `many`: "1 match", "2 matches".
fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}
