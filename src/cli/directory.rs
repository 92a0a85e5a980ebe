//! `sop directory export`: the published generation, as phones get it.

use super::DirectoryCommand;
use crate::config::Config;
use crate::export::{self, Format};
use crate::home::Home;
use crate::store::generations;
use color_eyre::eyre::{Result, WrapErr, eyre};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub fn run(home: &Home, command: DirectoryCommand) -> Result<i32> {
    match command {
        DirectoryCommand::Export { format, output } => {
            export(home, format, output.as_deref())?;
            Ok(0)
        }
    }
}

fn export(home: &Home, format: Format, output: Option<&Path>) -> Result<()> {
    crate::node::prepare(home)?;
    let config = Config::load(&home.config_file())?;
    let dir = home.generations_dir();
    let loaded = generations::load_current(&dir)?.ok_or_else(|| {
        eyre!(
            "no published generation in {}: this node serves no directory yet; \
             publish one with sop ucm merge",
            dir.display()
        )
    })?;
    for p in &loaded.problems {
        eprintln!("{p}; exporting the newest complete generation instead");
    }
    let generation = &loaded.generation;
    let (base_dn, rules) = (&config.ldap.base_dn, &config.matching);
    match output {
        None => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            export::write(&mut out, format, generation, base_dn, rules)?;
            out.flush()?;
        }
        Some(path) => {
            write_atomically(path, |out| {
                export::write(out, format, generation, base_dn, rules)
            })?;
            eprintln!(
                "exported generation {} ({} contacts) to {}",
                generation.number,
                generation.contacts.len(),
                path.display()
            );
        }
    }
    Ok(())
}

/// Writes beside `path`, syncs, then renames over it: a reader sees the old file or
/// the whole new one, and a failed export leaves no part of one.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let cannot = || format!("cannot write {}", path.display());
    let tmp = tempfile::Builder::new()
        .prefix(".sop-export-")
        .tempfile_in(folder)
        .wrap_err_with(cannot)?;
    let mut out = std::io::BufWriter::new(tmp.as_file());
    write(&mut out).wrap_err_with(cannot)?;
    out.flush().wrap_err_with(cannot)?;
    drop(out);
    // The file keeps the mode it had; a new one gets the mode of a file created
    // here (a temporary file's is private).
    let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode());
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .and_then(|()| tmp.as_file().sync_all())
        .wrap_err_with(cannot)?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .wrap_err_with(cannot)?;
    Ok(())
}
