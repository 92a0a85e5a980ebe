//! Fetching a local file. Its size and modification time are its validators.

use super::{Document, FetchError, FetchOptions, Fetched, Validators, clean_file_name};
use chrono::{DateTime, Utc};
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;
use std::time::UNIX_EPOCH;

pub(super) fn fetch(
    path: &Path,
    opts: &FetchOptions,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<Fetched, FetchError> {
    let error = |e: std::io::Error| FetchError::file(path.to_path_buf(), &e);
    let meta = fs::metadata(path).map_err(error)?;
    if meta.is_dir() {
        return Err(FetchError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let size = meta.len();
    let validators = validators(size, meta.modified().ok().map(DateTime::<Utc>::from));
    if opts.previous.as_ref() == Some(&validators) {
        return Ok(Fetched::Unchanged);
    }
    let too_large = |declared| FetchError::TooLarge {
        url: path.display().to_string(),
        max: opts.max_bytes,
        declared,
    };
    if size > opts.max_bytes {
        return Err(too_large(Some(size)));
    }
    let file = File::open(path).map_err(error)?;
    let mut reader = file.take(opts.max_bytes.saturating_add(1));
    let mut body = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = reader.read(&mut buf).map_err(error)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
        // The file grew while being read.
        if body.len() as u64 > opts.max_bytes {
            return Err(too_large(None));
        }
        progress(body.len() as u64, Some(size));
    }
    Ok(Fetched::Document(Document {
        body,
        file_name: path
            .file_name()
            .and_then(|n| clean_file_name(&n.to_string_lossy())),
        content_type: content_type(path).map(str::to_string),
        validators,
        url: path.display().to_string(),
    }))
}

/// Size and modification time: as an entity tag, and as an HTTP date.
fn validators(size: u64, modified: Option<DateTime<Utc>>) -> Validators {
    let nanos = modified
        .and_then(|m| {
            m.signed_duration_since(DateTime::<Utc>::from(UNIX_EPOCH))
                .num_nanoseconds()
        })
        .unwrap_or_default();
    Validators {
        etag: Some(format!("\"{size}-{nanos:x}\"")),
        last_modified: modified.map(|m| m.format("%a, %d %b %Y %H:%M:%S GMT").to_string()),
    }
}

/// A Content-Type for the formats the node imports, from the file's extension.
fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    Some(match ext.as_str() {
        "csv" => "text/csv",
        "vcf" | "vcard" => "text/vcard",
        "ldif" => "text/x-ldif",
        "json" => "application/json",
        "xml" => "application/xml",
        "html" | "htm" => "text/html",
        "txt" => "text/plain",
        _ => return None,
    })
}
