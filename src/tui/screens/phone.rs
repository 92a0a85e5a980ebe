//! Contacts > Phone view: pick a phone model and type as on the phone; see the
//! filter it sends and what it shows, answered by the running server. Models that
//! browse the phone book (Polycom) can also be browsed as they list it: sorted, a
//! window at a time, jumping to what is typed.

use super::super::action::Failure;
use super::super::component::{Ctx, Reply};
use super::super::effect::Effect;
use super::super::keys::Cmd;
use super::super::widgets;
use super::contacts::clip;
use crate::directory::lookup::{self, Found};
use crate::phones::{PRESETS, Preset, Query};
use crossterm::event::Event;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler;

/// Why the view asks nothing while the server is stopped.
const STOPPED: &str = "The application server is stopped: phones get no answer from this node \
                       (Subsystems > Application Server > Start).";

#[derive(Debug, Default)]
pub struct State {
    /// Index in `PRESETS`.
    pub preset: usize,
    pub typed: Input,
    /// The typed text is a caller's number: looked up as for an incoming call.
    pub incoming: bool,
    /// Browsing the phone book as the model lists it, from `offset` (from 0) when
    /// nothing is typed.
    pub browsing: bool,
    pub offset: usize,
    /// The sequence number of the last search sent; older answers are dropped.
    pub seq: u64,
    /// What the phone sends for the typed text.
    pub query: Option<Query>,
    pub found: Option<Found>,
    /// Why there is nothing to show.
    pub error: Option<String>,
}

impl State {
    pub fn preset(&self) -> &'static Preset {
        &PRESETS[self.preset % PRESETS.len()]
    }

    /// Returns true when the text changed.
    pub fn input(&mut self, event: &Event) -> bool {
        let changed = self.typed.handle_event(event).is_some_and(|c| c.value);
        // A caller's number has no letters: typing a name ends the incoming call.
        if changed && self.typed.value().chars().any(char::is_alphabetic) {
            self.incoming = false;
        }
        changed
    }

    /// The search the phone would send now; `size_cap` is the server's size limit.
    pub fn search_effect(&mut self, running: bool, size_cap: usize) -> Vec<Effect> {
        self.seq += 1;
        self.found = None;
        self.error = None;
        let p = self.preset();
        let typed = self.typed.value().trim().to_string();
        if self.browsing {
            return self.browse_effect(running, size_cap, typed);
        }
        if typed.is_empty() {
            self.query = None;
            return vec![];
        }
        self.query = p.query(&typed, self.incoming).map(|mut q| {
            q.size_limit = q.size_limit.min(size_cap);
            q
        });
        let Some(q) = &self.query else {
            self.error = Some(format!(
                "{} phones do not look numbers up over LDAP: an incoming call shows the number only.",
                p.vendor
            ));
            return vec![];
        };
        if !running {
            self.error = Some(STOPPED.into());
            return vec![];
        }
        vec![Effect::PhoneSearch {
            seq: self.seq,
            filter: q.filter.clone(),
            limit: q.size_limit,
        }]
    }

    /// The window the model lists: from what is typed, or from `offset`.
    fn browse_effect(&mut self, running: bool, size_cap: usize, typed: String) -> Vec<Effect> {
        self.query = None;
        let p = self.preset();
        let Some(browse) = p.browse else {
            self.error = Some(format!(
                "{} phones do not browse the phone book: they search as a name is typed (^B: back to searching).",
                p.vendor
            ));
            return vec![];
        };
        if !running {
            self.error = Some(STOPPED.into());
            return vec![];
        }
        let from = if typed.is_empty() {
            lookup::From::Offset(self.offset)
        } else {
            lookup::From::Value(typed)
        };
        vec![Effect::PhoneBrowse {
            seq: self.seq,
            filter: browse.filter.to_string(),
            sort: browse.sort.iter().map(|s| s.to_string()).collect(),
            from,
            limit: self.window_size(size_cap),
        }]
    }

    /// How many entries a window has: the model's page, within the server's limit.
    fn window_size(&self, size_cap: usize) -> usize {
        self.preset().max_hits.min(size_cap).max(1)
    }

    pub fn found(&mut self, seq: u64, result: Result<Found, Failure>) {
        if seq != self.seq {
            return;
        }
        match result {
            Ok(f) => self.found = Some(f),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// The searches the view sends for its current state.
    pub fn refresh(&mut self, ctx: &Ctx) -> Vec<Effect> {
        let running = ctx.running().is_some();
        let cap = ctx
            .config
            .as_ref()
            .map_or(usize::MAX, |c| c.ldap.size_limit as usize);
        self.search_effect(running, cap)
    }

    pub fn handle(&mut self, ctx: &Ctx, cmd: Cmd) -> Reply {
        let n = PRESETS.len();
        match cmd {
            // Another model starts with a search as typed, not an incoming call.
            Cmd::NextPreset => {
                self.preset = (self.preset + 1) % n;
                self.incoming = false;
            }
            Cmd::PrevField => {
                self.preset = (self.preset + n - 1) % n;
                self.incoming = false;
            }
            Cmd::Incoming => self.incoming = !self.incoming,
            Cmd::Browse => {
                self.browsing = !self.browsing;
                self.incoming = false;
                self.offset = 0;
            }
            // Scrolling goes on from the window shown (a jump to what was typed
            // included): the typed text is done with.
            Cmd::PageDown | Cmd::PageUp if self.browsing => {
                let cap = ctx
                    .config
                    .as_ref()
                    .map_or(usize::MAX, |c| c.ldap.size_limit as usize);
                let size = self.window_size(cap);
                let window = self.found.as_ref().and_then(|f| f.window);
                let first = window.map_or(self.offset, |w| w.first);
                self.offset = match cmd {
                    Cmd::PageDown => {
                        let last_start =
                            window.map_or(usize::MAX, |w| w.total.saturating_sub(size));
                        (first + size).min(last_start)
                    }
                    _ => first.saturating_sub(size),
                };
                self.typed = Input::default();
            }
            Cmd::ClearField => self.typed = Input::default(),
            _ => return Reply::default(),
        }
        Reply::run(self.refresh(ctx))
    }

    pub fn draw(&self, ctx: &Ctx, f: &mut Frame, area: Rect) {
        let t = ctx.theme;
        let s = self;
        let p = s.preset();
        let rows = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(3),
            Constraint::Min(3),
        ])
        .split(area);

        let mut models = vec![Span::styled(" Model   ", t.dim())];
        for (i, preset) in PRESETS.iter().enumerate() {
            if i == s.preset % PRESETS.len() {
                models.push(Span::styled(format!("[{}]", preset.vendor), t.selected()));
            } else {
                models.push(Span::raw(format!(" {} ", preset.vendor)));
            }
            models.push(Span::raw(" "));
        }
        f.render_widget(Paragraph::new(Line::from(models)), rows[0]);
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled("         ", t.dim()),
                Span::styled(p.models.to_string(), t.dim()),
            ])),
            rows[1],
        );

        let label = " Typed   ";
        let mode = match &s.query {
            Some(q) => q.lookup.label(),
            None if s.browsing => "browsing: jumps to what is typed",
            None if s.incoming => "incoming call",
            None => "letters: a name; digits: a number",
        };
        let width = rows[2]
            .width
            .saturating_sub(label.len() as u16 + mode.len() as u16 + 3);
        let scroll = s.typed.visual_scroll(width.max(1) as usize);
        let typed: String = s.typed.value().chars().skip(scroll).collect();
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(label, t.dim()),
                Span::styled(format!("{:<w$}", typed, w = width as usize), t.title()),
                Span::raw("  "),
                Span::styled(mode, t.warn()),
            ])),
            rows[2],
        );
        if !ctx.popup {
            let x = rows[2].x
                + label.len() as u16
                + s.typed.visual_cursor().saturating_sub(scroll) as u16;
            f.set_cursor_position((x, rows[2].y));
        }

        let sends = match &s.query {
            None if s.browsing => vec![
                Line::from(vec![
                    Span::styled(" Sends   ", t.dim()),
                    Span::raw(p.browse.map_or(String::new(), |b| b.filter.to_string())),
                ]),
                Line::from(Span::styled(
                    format!(
                        "         sorted by {}, a window at a time (virtual list view); PgUp PgDn scroll",
                        p.browse.map_or(String::new(), |b| b.sort.join(", "))
                    ),
                    t.dim(),
                )),
            ],
            Some(q) => vec![
                Line::from(vec![
                    Span::styled(" Sends   ", t.dim()),
                    Span::raw(q.filter.clone()),
                ]),
                Line::from(Span::styled(
                    format!(
                        "         size limit {}, attributes {}",
                        q.size_limit,
                        q.attributes.join(" ")
                    ),
                    t.dim(),
                )),
            ],
            None => vec![
                Line::from(vec![
                    Span::styled(" Sends   ", t.dim()),
                    Span::styled(format!("names   {}", p.name_filter), t.dim()),
                ]),
                Line::from(Span::styled(
                    format!(
                        "         numbers {}",
                        p.number_filter.unwrap_or("not looked up")
                    ),
                    t.dim(),
                )),
            ],
        };
        f.render_widget(Paragraph::new(sends).wrap(Wrap { trim: false }), rows[3]);

        let title = match (&s.found, &s.error) {
            (_, Some(_)) | (None, None) => "What the phone shows".to_string(),
            (Some(found), None) if found.window.is_some() => {
                let w = found
                    .window
                    .unwrap_or(lookup::Window { first: 0, total: 0 });
                format!(
                    "What the phone lists: {} to {} of {}, {:.1} ms",
                    w.first + found.entries.len().min(1),
                    w.first + found.entries.len(),
                    w.total,
                    found.micros as f64 / 1000.0
                )
            }
            (Some(found), None) => {
                let more = if found.matched > found.entries.len() {
                    ", more match (size limit)"
                } else {
                    ""
                };
                format!(
                    "What the phone shows: {} entr{}{more}, {:.1} ms",
                    found.entries.len(),
                    if found.entries.len() == 1 { "y" } else { "ies" },
                    found.micros as f64 / 1000.0
                )
            }
        };
        let block = widgets::panel(t, &title);
        let inner = block.inner(rows[4]);
        f.render_widget(block, rows[4]);
        let lines: Vec<Line> = match (&s.found, &s.error) {
            (_, Some(e)) => vec![Line::from(Span::styled(e.clone(), t.bad()))],
            (None, None) if s.query.is_none() && !s.browsing => vec![Line::from(Span::styled(
                "Type as on the phone. Tab: another model; ^N: the typed number as an incoming call; ^B: browse the phone book as the model lists it.",
                t.dim(),
            ))],
            (None, None) => vec![Line::from(Span::styled("searching...", t.dim()))],
            (Some(found), None) if found.entries.is_empty() => vec![Line::from(Span::styled(
                "Nothing: the phone shows no match.",
                t.warn(),
            ))],
            (Some(found), None) => {
                let name_w = (inner.width as usize / 2).clamp(12, 32);
                let fallback = found.fallback.iter().map(|rule| {
                    Line::from(Span::styled(
                        format!("No entry holds the number; the caller-ID fallback's {rule}:"),
                        t.warn(),
                    ))
                });
                fallback
                    .chain(found.entries.iter().map(|e| {
                        let numbers: Vec<String> = p
                            .numbers(e)
                            .iter()
                            .map(|(attr, n)| format!("{n} ({attr})"))
                            .collect();
                        Line::from(vec![
                            Span::raw(format!("{:<name_w$} ", clip(&p.shows(e), name_w))),
                            Span::styled(numbers.join(", "), t.dim()),
                        ])
                    }))
                    .collect()
            }
        };
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }
}
