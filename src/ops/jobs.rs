//! Import, merge, rollback and directory-source sync: through the running
//! application server, or here when it is stopped.

use super::{JOB_TIMEOUT, OpsError, SYNC_TIMEOUT, here};
use crate::cluster::push::{self, Outcome};
use crate::config::Config;
use crate::control::{self, CallError, Reply, Request};
use crate::home::Home;
use crate::sources::sync::{self, SyncOptions, SyncReport};
use crate::ucm::import::{self, ImportOptions, ImportReport};
use crate::ucm::{self, MergeOptions, MergeReport, Progress};

/// An import of the external contacts, done or held.
#[derive(Debug, Clone)]
pub struct Imported {
    /// Its job in the history.
    pub job: i64,
    pub report: ImportReport,
    /// The push to the cluster's nodes that followed, when this process made it
    /// (a running server pushes in the background: `sop cluster status`).
    pub pushed: Option<Result<Vec<Outcome>, String>>,
}

pub async fn import(home: &Home, options: ImportOptions) -> Result<Imported, OpsError> {
    let request = Request::Import {
        dry_run: options.dry_run,
        force: options.force,
    };
    match control::call(&home.socket(), &request, JOB_TIMEOUT).await {
        Ok(Reply::Imported { job, report }) => Ok(Imported {
            job,
            report,
            pushed: None,
        }),
        Ok(Reply::Error { message }) => Err(OpsError::failed("import", message)),
        Ok(other) => Err(OpsError::Unexpected(format!("{other:?}"))),
        Err(CallError::NotRunning(_)) => {
            // The config is read once: the import and the push that follows use it.
            let (job, report, config) = here(home, "import", move |h| {
                let config = Config::load(&h.config_file())?;
                let (job, report) = import::run_job(h, &config, options, &Progress::default())?;
                Ok((job, report, config))
            })
            .await?;
            let pushed = if report.applied() {
                push::after_import(home, &config)
                    .await
                    .map(|r| r.map_err(|e| format!("{e:#}")))
            } else {
                None
            };
            Ok(Imported {
                job,
                report,
                pushed,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// A merge published, and whether the application server serves it already.
#[derive(Debug, Clone)]
pub struct Merged {
    pub report: MergeReport,
    /// Merged by the running server, which serves it now; else it is served when
    /// the server starts.
    pub served: bool,
}

pub async fn merge(home: &Home, options: MergeOptions) -> Result<Merged, OpsError> {
    let request = Request::Merge {
        force: options.force,
    };
    match control::call(&home.socket(), &request, JOB_TIMEOUT).await {
        Ok(Reply::Merged(report)) => Ok(Merged {
            report,
            served: true,
        }),
        Ok(Reply::Error { message }) => Err(OpsError::failed("merge", message)),
        Ok(other) => Err(OpsError::Unexpected(format!("{other:?}"))),
        Err(CallError::NotRunning(_)) => here(home, "merge", move |h| {
            let config = Config::load(&h.config_file())?;
            ucm::merge(h, &config, options)
        })
        .await
        .map(|report| Merged {
            report,
            served: false,
        }),
        Err(e) => Err(e.into()),
    }
}

/// The previous generation made current again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolledBack {
    pub generation: u64,
    /// The contacts the running server serves from it now; None when the server
    /// is stopped (it serves it when started).
    pub served: Option<usize>,
}

pub async fn rollback(home: &Home) -> Result<RolledBack, OpsError> {
    let generation = here(home, "rollback", ucm::rollback).await?;
    let served = match control::call(&home.socket(), &Request::Reload, JOB_TIMEOUT).await {
        Ok(Reply::Reloaded { contacts, .. }) => Some(contacts),
        Ok(Reply::Error { message }) => return Err(OpsError::failed("rollback", message)),
        Ok(_) | Err(CallError::NotRunning(_)) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(RolledBack { generation, served })
}

/// A directory source synced, then merged unless the sync was held.
#[derive(Debug, Clone)]
pub struct Synced {
    pub job: i64,
    pub report: SyncReport,
    /// The merge that followed; None when the sync was held.
    pub merged: Option<Merged>,
    /// The push to the cluster's nodes that followed, when this process made it
    /// (a running server pushes in the background: `sop cluster status`).
    pub pushed: Option<Result<Vec<Outcome>, String>>,
}

/// Syncs `name` as a job, then merges and publishes. `force` (apply even a search
/// that returned no entry) runs here, where the admin saw why a sync was held.
pub async fn sync_source(home: &Home, name: &str, force: bool) -> Result<Synced, OpsError> {
    let what = format!("sync of {name}");
    let stays =
        |message: String| OpsError::failed(&what, format!("{message}; the previous contacts stay"));
    let by_server = if force {
        Err(CallError::NotRunning(String::new()))
    } else {
        let request = Request::SyncSource {
            name: name.to_string(),
        };
        control::call(&home.socket(), &request, SYNC_TIMEOUT).await
    };
    let (job, report, merged, config) = match by_server {
        Ok(Reply::SourceSynced {
            job,
            report,
            merged,
        }) => (job, report, merged, None),
        Ok(Reply::Error { message }) => return Err(stays(message)),
        Ok(other) => return Err(OpsError::Unexpected(format!("{other:?}"))),
        Err(CallError::NotRunning(_)) => {
            let name = name.to_string();
            let options = SyncOptions {
                force,
                ..SyncOptions::default()
            };
            // The config is read once: the sync and the push that follows use it.
            let (job, report, config) = here(home, &what, move |h| {
                let config = Config::load(&h.config_file())?;
                let (job, report) =
                    sync::run_job(h, &config, &name, options, &Progress::default())?;
                Ok((job, report, config))
            })
            .await
            .map_err(|e| match e {
                OpsError::Failed { message, .. } => stays(message),
                other => other,
            })?;
            (job, report, None, Some(config))
        }
        Err(e) => return Err(e.into()),
    };
    if report.held.is_some() {
        return Ok(Synced {
            job,
            report,
            merged: None,
            pushed: None,
        });
    }
    // As after an import: what changed goes to the cluster's nodes.
    let pushed = match config {
        Some(config) if report.changed() => push::after_import(home, &config)
            .await
            .map(|r| r.map_err(|e| format!("{e:#}"))),
        _ => None,
    };
    let merged = match merged {
        Some(report) => Merged {
            report,
            served: true,
        },
        None => merge(home, MergeOptions::default()).await?,
    };
    Ok(Synced {
        job,
        report,
        merged: Some(merged),
        pushed,
    })
}
