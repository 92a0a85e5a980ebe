//! Changing config.toml the way an admin would: in place, keeping their comments,
//! order and layout (toml_edit). The changed file is validated whole before it is
//! written, and written atomically: a refused change leaves the file as it was.

use super::{Config, ConfigError, TEMPLATE};
use std::io::Write;
use std::path::Path;
use toml_edit::{DocumentMut, Item, Table, Value};

/// Applies `change` to the config file at `path` (the template when it does not
/// exist yet), validates the result and writes it. Returns the new config.
pub fn edit(path: &Path, change: impl FnOnce(&mut DocumentMut)) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => TEMPLATE.to_string(),
        Err(e) => {
            return Err(ConfigError::Read {
                file,
                reason: e.to_string(),
            });
        }
    };
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ConfigError::Syntax {
                file: file.clone(),
                reason: e.to_string(),
            })?;
    change(&mut doc);
    let new_text = doc.to_string();
    let config = Config::parse(&new_text, &file)?;
    write_atomically(path, new_text.as_bytes()).map_err(|e| ConfigError::Write {
        file,
        reason: e.to_string(),
    })?;
    Ok(config)
}

/// Sets `key` (dotted: `ucm.merge_cron`) to `value`, creating its tables as needed
/// and keeping the comment above the key.
pub fn set(doc: &mut DocumentMut, key: &str, value: impl Into<Value>) {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else {
        return;
    };
    let mut table: &mut Table = doc.as_table_mut();
    for part in parts {
        if !table.contains_key(part) {
            let mut t = Table::new();
            t.set_implicit(false);
            table.insert(part, Item::Table(t));
        }
        match table.get_mut(part).and_then(Item::as_table_mut) {
            Some(t) => table = t,
            None => return,
        }
    }
    let mut value: Value = value.into();
    match table.get_mut(last) {
        Some(Item::Value(old)) => {
            // Keep the comments and spacing around the old value.
            let decor = old.decor().clone();
            *value.decor_mut() = decor;
            *old = value;
        }
        _ => {
            table.insert(last, Item::Value(value));
        }
    }
}

/// Writes beside the file, syncs, then renames over it, keeping its mode.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("config")
    ));
    let mut f = std::fs::File::create(&tmp)?;
    if let Ok(meta) = std::fs::metadata(path) {
        f.set_permissions(meta.permissions())?;
    }
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_comments_and_refused_edits_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let original = "# my node\n[ldap]\n# phones use this\nsize_limit = 50 # keep small\n";
        std::fs::write(&path, original).unwrap();
        let c = edit(&path, |d| set(d, "ldap.size_limit", 80)).unwrap();
        assert_eq!(c.ldap.size_limit, 80);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "# my node\n[ldap]\n# phones use this\nsize_limit = 80 # keep small\n"
        );
        let e = edit(&path, |d| set(d, "ldap.size_limit", 0)).unwrap_err();
        assert!(e.to_string().contains("size_limit = 0"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        edit(&path, |d| set(d, "node.name", "edge-1")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("[node]\nname = \"edge-1\""), "{text}");
    }
}
