//! One file per screen: its state, what its keys do (`handle`, answering with
//! a `Reply`) and how it is drawn (`draw`, reading a `Ctx`).

pub mod checklist;
pub mod cluster;
pub mod contacts;
pub mod jobs;
pub mod logs;
pub mod modules;
pub mod phone;
pub mod phone_setup;
pub mod server;
pub mod sources;
pub mod ucm_form;
