//! The admin shell: a ratatui menu tree for sysadmins over SSH.
//!
//! Each screen owns its state and handles its keys (`screens/`), reading what
//! the shell shares (`component::Ctx`) and answering with a `Reply`; `App`
//! (`app.rs`) routes keys and results to the screen in force, applies replies
//! and returns effects; this runner performs each effect in a task
//! (`effect.rs`) and feeds its outcome back. One loop waits on the terminal,
//! the results, a slow tick and the signals, handles everything pending, then
//! draws once, and only when something changed.

pub mod action;
pub mod app;
pub mod component;
pub mod effect;
pub mod input;
pub mod keys;
pub mod screens;
pub mod theme;
mod timings;
pub mod view;
pub mod widgets;

use crate::config::Config;
use crate::home::Home;
use app::{Action, App};
use color_eyre::eyre::{Result, WrapErr};
use crossterm::{execute, terminal};
use effect::Effect;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{Stdout, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// How often the clock, the server's status and a followed log are refreshed.
const TICK: Duration = Duration::from_secs(1);

/// Opens the shell on this terminal until the admin quits, the terminal goes
/// away (SIGHUP) or the shell is told to stop (SIGTERM, SIGINT).
pub fn run(home: Home) -> Result<i32> {
    let opened = std::time::Instant::now();
    crate::node::prepare(&home)?;
    log_to_file(&home);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(shell(home, opened));
    // Tasks still waiting on a hung server are not waited for.
    rt.shutdown_timeout(Duration::from_millis(200));
    result.map(|()| 0)
}

/// Puts the terminal back as it was: on every exit, including a panic.
fn restore() {
    let _ = terminal::disable_raw_mode();
    let mut out = std::io::stdout();
    let _ = execute!(out, terminal::LeaveAlternateScreen, crossterm::cursor::Show);
    let _ = out.flush();
}

/// Restores the terminal when dropped.
struct Screen {
    /// Always there until dropped.
    terminal: Option<Terminal<CrosstermBackend<Stdout>>>,
}

impl Screen {
    fn enter() -> Result<Screen> {
        terminal::enable_raw_mode().wrap_err("cannot put the terminal in raw mode")?;
        let mut out = std::io::stdout();
        if let Err(e) = execute!(out, terminal::EnterAlternateScreen) {
            restore();
            return Err(e).wrap_err("cannot open the alternate screen");
        }
        let default_hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            tracing::error!("panic: {info}");
            // Not eprintln!: standard error may be gone with the terminal.
            let _ = writeln!(
                std::io::stderr(),
                "sop: internal error; the details are in the shell log"
            );
            let _ = &default_hook;
        }));
        let terminal = Terminal::new(CrosstermBackend::new(out))?;
        Ok(Screen {
            terminal: Some(terminal),
        })
    }

    fn draw(&mut self, app: &App) -> std::io::Result<()> {
        match &mut self.terminal {
            Some(t) => t.draw(|f| view::draw(app, f)).map(drop),
            None => Ok(()),
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
        // The terminal's own drop prints to standard error when it cannot show the
        // cursor, which panics when the terminal is gone (its window closed, the SSH
        // session dropped): it is let go without its drop then. The process is
        // exiting.
        if let Some(mut t) = self.terminal.take() {
            if t.show_cursor().is_ok() {
                drop(t);
            } else {
                std::mem::forget(t);
            }
        }
    }
}

/// Logs go to `log/shell.log` in the home, never to the terminal the shell draws on.
fn log_to_file(home: &Home) {
    let path = home.log_dir().join("shell.log");
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SOP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
}

async fn shell(home: Home, opened: std::time::Instant) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let config = Config::load(&home.config_file()).map_err(|e| e.to_string());
    let mut app = App::new(
        home.root().display().to_string(),
        config,
        chrono::Local::now(),
    );
    app.theme = theme::Theme::from_env();
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut resized = signal(SignalKind::window_change())?;

    let mut screen = Screen::enter()?;
    tracing::info!(home = %home.root().display(), "shell opened");
    let (tx, mut rx) = mpsc::unbounded_channel::<Action>();
    let runner = Runner {
        home: home.clone(),
        tx,
        status_in_flight: Arc::new(AtomicBool::new(false)),
    };
    for e in app.start() {
        runner.spawn(e);
    }
    let mut keys = input::Keys::open()?;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    screen.draw(&app)?;
    let mut timings = timings::Timings::default();
    timings.first_frame = Some(opened.elapsed());
    loop {
        let first = tokio::select! {
            key = keys.next() => match key {
                Ok(k) => Action::Key(k),
                // The terminal is gone (an SSH session that dropped).
                Err(_) => Action::Quit,
            },
            _ = resized.recv() => Action::Redraw,
            Some(a) = rx.recv() => a,
            _ = tick.tick() => Action::Tick(chrono::Local::now()),
            _ = hup.recv() => Action::Quit,
            _ = term.recv() => Action::Quit,
            _ = int.recv() => Action::Quit,
        };
        let arrived = std::time::Instant::now();
        let key = matches!(first, Action::Key(_));
        let mut found = Vec::new();
        let seq = app.contacts.seq;
        let mut changed = apply(&mut app, &runner, first, &mut found);
        // Everything pending, then one draw.
        while let Ok(a) = rx.try_recv() {
            changed |= apply(&mut app, &runner, a, &mut found);
        }
        if app.quit {
            break;
        }
        if app.contacts.seq != seq {
            timings.search_sent(app.contacts.seq, arrived);
        }
        if changed {
            screen.draw(&app)?;
            let drawn = std::time::Instant::now();
            if key {
                timings.key(arrived, drawn);
            }
            for seq in found {
                timings.search_drawn(seq, drawn);
            }
        }
    }
    drop(screen);
    tracing::info!("shell closed; {}", timings.summary());
    Ok(())
}

/// Updates the app; says whether the screen may have changed.
fn apply(app: &mut App, runner: &Runner, action: Action, found: &mut Vec<u64>) -> bool {
    if let Action::Found { seq, .. } = &action {
        found.push(*seq);
    }
    let unchanged_status = match &action {
        Action::Status(r) => status_same(&app.server, r),
        Action::Tick(_) => true,
        _ => false,
    };
    if let Action::Status(_) = action {
        runner.status_in_flight.store(false, Ordering::Relaxed);
    }
    let tick_minute = match &action {
        Action::Tick(now) => now.format("%H:%M").to_string() != app.now.format("%H:%M").to_string(),
        _ => false,
    };
    let busy = app.busy.is_some();
    for e in app.update(action) {
        runner.spawn(e);
    }
    // Ticks only redraw when the minute turns or long work shows its seconds.
    !unchanged_status || tick_minute || busy
}

fn status_same(
    old: &app::ServerView,
    new: &Result<Option<Box<crate::control::Status>>, action::Failure>,
) -> bool {
    match (old, new) {
        (app::ServerView::Running(a), Ok(Some(b))) => a == b,
        (app::ServerView::Stopped, Ok(None)) => true,
        (app::ServerView::Unreachable(a), Err(b)) => *a == b.to_string(),
        _ => false,
    }
}

/// Performs effects in tasks and sends their outcome back.
struct Runner {
    home: Home,
    tx: mpsc::UnboundedSender<Action>,
    /// One status call at a time: a hung server does not pile them up.
    status_in_flight: Arc<AtomicBool>,
}

impl Runner {
    fn spawn(&self, effect: Effect) {
        if effect == Effect::Status && self.status_in_flight.swap(true, Ordering::Relaxed) {
            return;
        }
        let home = self.home.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            if let Some(a) = effect::perform(home, effect, &tx).await {
                let _ = tx.send(a);
            }
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests;
