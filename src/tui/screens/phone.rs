//! Contacts > Phone view: type as on a phone and see the filter it sends and what it shows.

use super::super::app::App;
use super::super::effect::Effect;
use super::super::keys::Cmd;
use crate::directory::lookup::Found;
use crossterm::event::Event;
use ratatui::Frame;
use ratatui::layout::Rect;

#[derive(Debug, Default)]
pub struct State {
    pub seq: u64,
}

impl State {
    pub fn input(&mut self, _event: &Event) -> bool {
        false
    }
    pub fn search_effect(&mut self) -> Vec<Effect> {
        vec![]
    }
    pub fn found(&mut self, _seq: u64, _result: Result<Found, String>) {}
}

pub fn command(_app: &mut App, _cmd: Cmd) -> Vec<Effect> {
    vec![]
}

pub fn draw(_app: &App, _f: &mut Frame, _area: Rect) {}
