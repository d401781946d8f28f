//! File uploads: request bodies read within an explicit limit, and `multipart/form-data`
//! parsed from the (bounded) body.
//!
//! Upload routes (`POST /api/v1/importers/{kind}/imports`, `POST /imports`, a POS batch of up
//! to 10,000 lines `POST /api/v1/sales/batches`, `POST /sales/import`) get the larger limit
//! [`crate::WebSettings::max_upload_bytes`] from [`crate::middleware`]'s body limit, which
//! refuses a too-large `Content-Length` before reading anything and stops a streamed body at
//! the limit; every other route keeps `max_body_bytes`.

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;

use crate::error::envelope;

/// Paths whose POST bodies may be as large as an upload.
pub fn is_upload(path: &str) -> bool {
    (path.starts_with("/api/v1/importers/") && path.ends_with("/imports"))
        || path == "/imports"
        || path == "/api/v1/sales/batches"
        || path == "/sales/import"
        || path == "/api/v1/supplier-invoices/import"
        || path == "/purchasing/invoices/import"
        || (path.starts_with("/q/") && !path.starts_with("/q/t/"))
        || (path.starts_with("/api/v1/maintenance/work-orders/") && path.ends_with("/photos"))
        || (path.starts_with("/maintenance/") && path.ends_with("/photos"))
        || (path.starts_with("/api/v1/maintenance/assets/") && path.ends_with("/files"))
        || (path.starts_with("/maintenance/assets/") && path.ends_with("/files"))
        || path == "/maintenance/work-orders/new"
}

/// The whole body, at most `limit` bytes; 413 in the error envelope beyond.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        let too_large = std::error::Error::source(&e)
            .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
            || e.to_string().contains("length limit");
        if too_large {
            envelope(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                &format!("the upload is larger than {limit} bytes"),
                Vec::new(),
            )
        } else {
            envelope(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request body could not be read",
                Vec::new(),
            )
        }
    })
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

impl Part {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).trim().to_string()
    }
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("boundary"))
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 200)
    })
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        match hay.get(i..)?.iter().position(|b| *b == first) {
            Some(off) => i += off,
            None => return None,
        }
        if hay.get(i..i + needle.len()) == Some(needle) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `name="x"; filename="y"` parameters of a header value.
fn param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').replace("\\\"", "\""))
    })
}

/// Parse a part's header block.
fn part_headers(block: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(block);
    let (mut name, mut file_name, mut content_type) = (None, None, None);
    for line in text.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("content-disposition") {
            name = param(v, "name");
            file_name = param(v, "filename");
        } else if k.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(v.trim().to_string());
        }
    }
    (name, file_name, content_type)
}

/// Every part of a multipart body.
pub fn parse_multipart(body: &Bytes, boundary: &str) -> Result<Vec<Part>, String> {
    let delim = format!("--{boundary}");
    let next_delim = format!("\r\n--{boundary}");
    let mut pos =
        find(body, delim.as_bytes(), 0).ok_or("no multipart boundary in the body")? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body.get(pos..pos + 2) == Some(b"--") {
            return Ok(parts);
        }
        if body.get(pos..pos + 2) != Some(b"\r\n") {
            return Err("malformed multipart body".into());
        }
        let start = pos + 2;
        let head_end = find(body, b"\r\n\r\n", start).ok_or("malformed multipart headers")?;
        let (name, file_name, content_type) =
            part_headers(body.get(start..head_end).unwrap_or_default());
        let data_start = head_end + 4;
        let data_end = find(body, next_delim.as_bytes(), data_start)
            .ok_or("the multipart body is truncated")?;
        parts.push(Part {
            name: name.unwrap_or_default(),
            file_name,
            content_type,
            data: body.slice(data_start..data_end),
        });
        pos = data_end + next_delim.len();
        if parts.len() > 50 {
            return Err("too many multipart parts".into());
        }
    }
}

/// The name and value of the first part, if `prefix` (the beginning of a multipart body) holds
/// it completely. Used by the CSRF check, which reads no more of an upload than this.
pub fn first_field(prefix: &[u8], boundary: &str) -> Option<(String, String)> {
    let delim = format!("--{boundary}\r\n");
    if !prefix.starts_with(delim.as_bytes()) {
        return None;
    }
    let start = delim.len();
    let head_end = find(prefix, b"\r\n\r\n", start)?;
    let (name, _, _) = part_headers(prefix.get(start..head_end)?);
    let value_start = head_end + 4;
    let value_end = find(prefix, format!("\r\n--{boundary}").as_bytes(), value_start)?;
    let value = String::from_utf8_lossy(prefix.get(value_start..value_end)?).into_owned();
    Some((name?, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> Bytes {
        Bytes::from_static(
            b"--XyZ\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\ntok123\r\n\
              --XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nstores\r\n\
              --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\xE9\x97\xA8\xE5\xBA\x97.csv\"\r\n\
              Content-Type: text/csv\r\n\r\ncode,name\r\nS1,--XyZ-ish\r\n\r\n--XyZ--\r\n",
        )
    }

    #[test]
    fn multipart_bodies_are_parsed() {
        assert_eq!(
            boundary("multipart/form-data; boundary=XyZ").as_deref(),
            Some("XyZ")
        );
        assert_eq!(
            boundary("multipart/form-data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
        assert_eq!(boundary("text/csv"), None);
        let parts = parse_multipart(&body(), "XyZ").unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name, "_csrf");
        assert_eq!(parts[0].text(), "tok123");
        assert_eq!(parts[2].file_name.as_deref(), Some("门店.csv"));
        assert_eq!(parts[2].content_type.as_deref(), Some("text/csv"));
        assert_eq!(&parts[2].data[..], b"code,name\r\nS1,--XyZ-ish\r\n");
        assert!(parse_multipart(&Bytes::from_static(b"junk"), "XyZ").is_err());
        assert!(parse_multipart(&body().slice(..60), "XyZ").is_err());
    }

    #[test]
    fn the_first_field_is_found_in_a_prefix() {
        let b = body();
        assert_eq!(
            first_field(&b, "XyZ"),
            Some(("_csrf".to_string(), "tok123".to_string()))
        );
        assert_eq!(first_field(&b[..40], "XyZ"), None);
        assert_eq!(first_field(&b, "other"), None);
    }
}
