//! Pieces screens use: selectable lists, panels, form fields, text wrapped at
//! a width, the job's progress gauge, the next scheduled jobs.

use super::component::Ctx;
use super::theme::{MARKER, NO_MARKER, Theme};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, List, ListItem, ListState};

/// The next import and merge: from the server when it runs, else from the config.
pub fn next_jobs(ctx: &Ctx) -> (String, String) {
    let when = |spec: &crate::schedule::Cron| -> String {
        if spec.is_empty() {
            return "on demand".into();
        }
        crate::ucm::next_runs(spec, ctx.now, 1)
            .first()
            .map(|t| t.format("%a %H:%M").to_string())
            .unwrap_or_else(|| "never".into())
    };
    match ctx.config {
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

/// A progress gauge for the running job, if the server reports one.
pub fn progress(ctx: &Ctx, f: &mut Frame, area: Rect) -> bool {
    let Some(s) = ctx.running() else { return false };
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
    let style = if ctx.theme.color {
        ctx.theme.good()
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
