//! Pieces every screen uses: the status header, the breadcrumb, the footer of key
//! hints, the message line, popups and selectable lists.

use super::app::{App, Level, Popup, ServerView};
use super::keys;
use super::theme::{MARKER, NO_MARKER, Theme};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Gauge, List, ListItem, ListState, Paragraph, Wrap};

/// The status line: node, baseline, server state, listeners, contacts, next jobs.
pub fn header(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let (node, baseline) = match &app.config {
        Ok(c) => (c.node.name.clone(), c.node.baseline.to_string()),
        Err(_) => ("?".to_string(), "?".to_string()),
    };
    let mut spans = vec![
        Span::styled(format!(" {node} "), t.bar().add_modifier(Modifier::BOLD)),
        Span::raw(format!(" baseline {baseline} │ ")),
    ];
    match &app.server {
        ServerView::Running(s) => {
            spans.push(Span::styled("● running", t.good()));
            let listen: Vec<String> = s.listen.iter().chain(&s.ldaps_listen).cloned().collect();
            spans.push(Span::raw(format!(
                " │ LDAP {} │ {} contacts (gen {})",
                if listen.is_empty() {
                    "off".to_string()
                } else {
                    listen.join(" ")
                },
                s.contacts,
                s.generation
            )));
        }
        ServerView::Stopped => spans.push(Span::styled("○ stopped", t.warn())),
        ServerView::Unknown => spans.push(Span::styled("… checking", t.dim())),
        ServerView::Unreachable(_) => spans.push(Span::styled("✗ not answering", t.bad())),
    }
    let mut second = vec![Span::raw(" ")];
    let (import, merge) = next_jobs(app);
    second.push(Span::raw(format!(
        "next import: {import} │ next merge: {merge}"
    )));
    let stage = app
        .running()
        .map(|s| &s.progress)
        .filter(|p| !p.stage.is_empty())
        .map(|p| match p.total {
            0 => format!(": {} {}", p.stage, p.done),
            total => format!(": {} {}%", p.stage, p.done * 100 / total),
        })
        .unwrap_or_default();
    if let Some(b) = &app.busy {
        let secs = (app.now - b.since).num_seconds().max(0);
        second.push(Span::raw(" │ "));
        second.push(Span::styled(
            format!("⟳ {}{stage} ({secs} s)", b.label),
            t.warn(),
        ));
    } else if let Some(job) = app
        .running()
        .and_then(|s| s.jobs.iter().find(|j| j.running))
    {
        // A job the server's schedule started.
        second.push(Span::raw(" │ "));
        second.push(Span::styled(
            format!("⟳ {} running{stage}", job.kind.as_str()),
            t.warn(),
        ));
    }
    let lines = vec![Line::from(spans), Line::from(second)];
    f.render_widget(Paragraph::new(lines), area);
}

/// The next import and merge: from the server when it runs, else from the config.
pub fn next_jobs(app: &App) -> (String, String) {
    let when = |spec: &crate::schedule::Cron| -> String {
        if spec.is_empty() {
            return "on demand".into();
        }
        crate::ucm::next_runs(spec, app.now, 1)
            .first()
            .map(|t| t.format("%a %H:%M").to_string())
            .unwrap_or_else(|| "never".into())
    };
    match &app.config {
        Ok(c) if c.modules.contains("ucm") => {
            let import = if c.ucm.url.is_empty() {
                "no URL".to_string()
            } else {
                when(&c.ucm.cron)
            };
            (import, when(&c.ucm.merge_cron))
        }
        Ok(_) => ("UCM not installed".into(), "-".into()),
        Err(_) => ("?".into(), "?".into()),
    }
}

/// The breadcrumb of the navigation stack.
pub fn breadcrumb(app: &App, f: &mut Frame, area: Rect) {
    let line = Line::from(vec![
        Span::styled(" ◆ ", app.theme.title()),
        Span::styled(app.breadcrumb(), app.theme.title()),
    ]);
    f.render_widget(Paragraph::new(line), area);
}

/// A form's fields, in order: Tab and Shift-Tab move between them, wrapping around.
pub trait Fields: Copy + PartialEq + 'static {
    const ALL: &'static [Self];

    /// The next field, after the last the first.
    fn next(self) -> Self {
        cycle(Self::ALL, self, 1)
    }

    /// The field before, before the first the last.
    fn prev(self) -> Self {
        cycle(Self::ALL, self, Self::ALL.len() - 1)
    }
}

/// The item `step` places after `at` in `all`, wrapping around.
fn cycle<T: Copy + PartialEq>(all: &[T], at: T, step: usize) -> T {
    let i = all.iter().position(|x| *x == at).unwrap_or(0);
    all[(i + step) % all.len()]
}

/// The most rows the message takes above the key hints.
const MESSAGE_ROWS: usize = 4;

/// `text` in lines of at most `width` columns, broken between words (a word
/// longer than a line is broken inside it).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let cols = |s: &str| Span::raw(s).width();
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            let sep = usize::from(!line.is_empty());
            if cols(&line) + sep + cols(word) <= width {
                if sep == 1 {
                    line.push(' ');
                }
                line.push_str(word);
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word wider than a line: as many whole lines of it as it fills.
            for c in word.chars() {
                if cols(&line) + cols(c.encode_utf8(&mut [0; 4])) > width {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
        }
        lines.push(line);
    }
    lines
}

/// The message line's text and style, when there is one to show.
fn message(app: &App) -> Option<(String, Style)> {
    let t = &app.theme;
    if let Some(m) = &app.message {
        let (style, mark) = match m.level {
            Level::Info => (t.good(), "✓ "),
            Level::Warn => (t.warn(), "! "),
            Level::Error => (t.bad(), "✗ "),
        };
        Some((format!("{mark}{}", m.text), style))
    } else if let ServerView::Unreachable(why) = &app.server {
        Some((format!("✗ application server: {why}"), t.bad()))
    } else {
        None
    }
}

/// The message's lines at `width`: whole, up to [`MESSAGE_ROWS`]; one at least.
fn message_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let Some((text, style)) = message(app) else {
        return vec![Line::from("")];
    };
    let mut lines = wrap(&text, width as usize);
    if lines.len() > MESSAGE_ROWS {
        lines.truncate(MESSAGE_ROWS);
        if let Some(last) = lines.last_mut() {
            let keep = last.chars().count().min((width as usize).saturating_sub(1));
            *last = last.chars().take(keep).collect::<String>() + "…";
        }
    }
    lines
        .into_iter()
        .map(|l| Line::from(Span::styled(l, style)))
        .collect()
}

/// The rows the footer takes at `width`: the message, then the key hints.
pub fn footer_rows(app: &App, width: u16) -> u16 {
    message_lines(app, width).len() as u16 + 1
}

/// The message (wrapped, so that it is read whole) and the key hints of the
/// screen in force.
pub fn footer(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let message = message_lines(app, area.width);
    let rows = Layout::vertical([
        Constraint::Length(message.len() as u16),
        Constraint::Length(1),
    ])
    .split(area);
    f.render_widget(Paragraph::new(message), rows[0]);
    let tables: Vec<&[keys::Binding]> = match &app.popup {
        Some(Popup::Confirm { .. }) => vec![keys::CONFIRM],
        Some(Popup::Info { .. }) => vec![keys::POPUP],
        None => app.screen().bindings(app),
    };
    // The screen's own hints first, the global ones last; when the line is too
    // narrow, screen hints give way so that back, help and quit stay visible.
    let (own, global): (Vec<_>, Vec<_>) = tables
        .iter()
        .partition(|t| !std::ptr::eq(**t, keys::GLOBAL));
    let mut hints = keys::hints(&own);
    if app.busy.as_ref().is_some_and(|b| b.cancellable) {
        hints.insert(0, "^X cancel job");
    }
    let global = keys::hints(&global);
    let width = |h: &[&str]| h.iter().map(|x| x.chars().count() + 2).sum::<usize>();
    while !hints.is_empty() && width(&hints) + width(&global) > area.width as usize {
        hints.pop();
    }
    hints.extend(global);
    let mut spans = Vec::new();
    for h in hints {
        let (k, what) = h.split_once(' ').unwrap_or((h, ""));
        spans.push(Span::styled(format!(" {k}"), t.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), rows[1]);
}

/// A list with a marker glyph before the selected row (readable without colour).
pub fn list(t: &Theme, f: &mut Frame, area: Rect, rows: Vec<Line<'static>>, selected: usize) {
    let items: Vec<ListItem> = rows
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let mark = if i == selected { MARKER } else { NO_MARKER };
            let mut spans = vec![Span::raw(mark)];
            spans.extend(line.spans);
            ListItem::new(Line::from(spans))
        })
        .collect();
    let mut state = ListState::default().with_selected(Some(selected));
    f.render_stateful_widget(
        List::new(items).highlight_style(t.selected()),
        area,
        &mut state,
    );
}

/// "^S save  ^R import now ..." for a screen's actions.
pub fn actions_line(t: &Theme, actions: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (k, what) in actions {
        spans.push(Span::styled(format!("[{k}]"), t.key()));
        spans.push(Span::raw(format!(" {what}  ")));
    }
    Line::from(spans)
}

/// A titled box.
pub fn panel(t: &Theme, title: &str) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(t.dim())
        .title(Span::styled(format!(" {title} "), t.title()))
}

/// A bordered rectangle centred in `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub fn popup(app: &App, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let Some(p) = &app.popup else { return };
    let (title, lines, question) = match p {
        Popup::Confirm { title, lines, .. } => (title, lines, true),
        Popup::Info { title, lines } => (title, lines, false),
    };
    let width = lines
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(20)
        .max(title.chars().count() + 4)
        .max(30) as u16
        + 4;
    let height = lines.len() as u16 + if question { 4 } else { 2 };
    let rect = centered(area, width, height);
    f.render_widget(Clear, rect);
    let mut text: Vec<Line> = lines.iter().map(|l| Line::from(l.clone())).collect();
    if question {
        text.push(Line::from(""));
        text.push(Line::from(vec![
            Span::styled("[y]", t.key()),
            Span::raw(" yes   "),
            Span::styled("[n]", t.key()),
            Span::raw(" no"),
        ]));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if question { t.warn() } else { t.title() })
        .title(Span::styled(format!(" {title} "), t.title()));
    f.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        rect,
    );
}

/// A progress gauge for the running job, if the server reports one.
pub fn progress(app: &App, f: &mut Frame, area: Rect) -> bool {
    let Some(s) = app.running() else { return false };
    if s.progress.stage.is_empty() {
        return false;
    }
    let p = &s.progress;
    let ratio = if p.total > 0 {
        (p.done as f64 / p.total as f64).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let label = if p.total > 0 {
        format!("{}: {} / {}", p.stage, p.done, p.total)
    } else {
        format!("{}: {}", p.stage, p.done)
    };
    let style = if app.theme.color {
        app.theme.good()
    } else {
        Style::new().add_modifier(Modifier::REVERSED)
    };
    f.render_widget(
        Gauge::default()
            .gauge_style(style)
            .ratio(ratio)
            .label(label),
        area,
    );
    true
}
