//! Phone setup: for each vendor, the settings to paste for this node.

use super::super::app::App;
use super::super::effect::Effect;
use super::super::keys::Cmd;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Debug, Default)]
pub struct State {
    pub vendor: usize,
    pub scroll: usize,
}

pub fn line_count(_app: &App) -> usize {
    0
}

pub fn command(_app: &mut App, _cmd: Cmd) -> Vec<Effect> {
    vec![]
}

pub fn draw(_app: &App, _f: &mut Frame, _area: Rect) {}
