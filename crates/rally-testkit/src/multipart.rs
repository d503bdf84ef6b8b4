//! Request bodies as the fakes receive them: a small `multipart/form-data` parser (enough for
//! what reqwest sends, which is what teloxide and serenity upload with) and urlencoded form
//! pairs. Both fakes decode uploads here, so a file sent to either is seen the same way.

use axum::http::{HeaderMap, header};

/// One part of a multipart body.
pub(crate) struct Part {
    /// The form field name (`photo`, `files[0]`, `payload_json`, ...).
    pub name: String,
    /// Set for file parts (`filename=` in `Content-Disposition`), `None` for plain fields.
    pub file_name: Option<String>,
    pub data: Vec<u8>,
}

/// A file part of a multipart request, as the fakes record it.
#[derive(Clone, Debug)]
pub struct UploadedFile {
    /// The multipart field name (Telegram: the name `attach://<name>` refers to; Discord:
    /// `files[0]`, ...).
    pub name: String,
    pub file_name: Option<String>,
    pub size: usize,
    /// The bytes as uploaded (tests decode pictures Rally drew).
    pub data: Vec<u8>,
}

impl Part {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    pub fn uploaded(&self) -> UploadedFile {
        UploadedFile {
            name: self.name.clone(),
            file_name: self.file_name.clone(),
            size: self.data.len(),
            data: self.data.clone(),
        }
    }
}

/// The request's `Content-Type`, or `""`.
pub(crate) fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The parts of a `multipart/form-data` request; `None` when the body is something else.
/// A multipart request without a boundary has no parts.
pub(crate) fn parts(headers: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let content_type = content_type(headers);
    // Media types are case-insensitive; the boundary itself is not, so it is read as sent.
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    Some(match boundary(content_type) {
        Some(boundary) => split(body, &boundary),
        None => Vec::new(),
    })
}

/// `key=value` pairs of a urlencoded string (a query string or a form body), decoded.
pub(crate) fn form_pairs(encoded: &str) -> Vec<(String, String)> {
    match reqwest::Url::parse(&format!("http://x/?{encoded}")) {
        Ok(url) => url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|piece| {
        let (key, value) = piece.trim().split_once('=')?;
        key.eq_ignore_ascii_case("boundary")
            .then(|| value.trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > haystack.len() || needle.is_empty() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// Splits a body at `--boundary` lines; stops at the closing `--boundary--` or at the first
/// part it cannot read.
fn split(body: &[u8], boundary: &str) -> Vec<Part> {
    let delimiter = format!("--{boundary}").into_bytes();
    let delimiter_line = [b"\r\n".as_slice(), &delimiter].concat();
    let mut parts = Vec::new();
    let Some(mut at) = find(body, &delimiter, 0) else {
        return parts;
    };
    loop {
        at += delimiter.len();
        if body[at..].starts_with(b"--") {
            break;
        }
        if body[at..].starts_with(b"\r\n") {
            at += 2;
        }
        let Some(headers_end) = find(body, b"\r\n\r\n", at) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[at..headers_end]).into_owned();
        let data_start = headers_end + 4;
        let Some(next) = find(body, &delimiter_line, data_start) else {
            break;
        };
        let (name, file_name) = disposition(&head);
        parts.push(Part {
            name,
            file_name,
            data: body[data_start..next].to_vec(),
        });
        at = next + 2;
    }
    parts
}

/// `name` and `filename` from a part's `Content-Disposition` header.
fn disposition(head: &str) -> (String, Option<String>) {
    let mut name = String::new();
    let mut file_name = None;
    for line in head.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for attr in value.split(';') {
            if let Some((k, v)) = attr.trim().split_once('=') {
                let v = v.trim().trim_matches('"').to_string();
                match k.trim() {
                    "name" => name = v,
                    "filename" => file_name = Some(v),
                    _ => {}
                }
            }
        }
    }
    (name, file_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(content_type).expect("header"),
        );
        headers
    }

    #[test]
    fn fields_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n\
                     --XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\
                     Content-Type: image/jpeg\r\n\r\n\xFF\xD8\r\n\xFF\r\n--XyZ--\r\n";
        let parts =
            parts(&headers("Multipart/Form-Data; boundary=\"XyZ\""), body).expect("multipart");
        assert_eq!(parts.len(), 2);
        assert_eq!(
            (parts[0].name.as_str(), parts[0].text().as_str()),
            ("chat_id", "42")
        );
        assert_eq!(parts[0].file_name, None);
        let file = parts[1].uploaded();
        assert_eq!(file.name, "photo");
        assert_eq!(file.file_name.as_deref(), Some("a.jpg"));
        // CRLF inside the data stays data; only CRLF + delimiter ends a part.
        assert_eq!(parts[1].data, b"\xFF\xD8\r\n\xFF");
    }

    #[test]
    fn not_multipart_or_no_boundary() {
        assert!(parts(&headers("application/json"), b"{}").is_none());
        assert!(parts(&HeaderMap::new(), b"").is_none());
        let empty = parts(&headers("multipart/form-data"), b"--x\r\n").expect("multipart");
        assert!(empty.is_empty());
    }

    #[test]
    fn form_pairs_decode() {
        assert_eq!(
            form_pairs("a=1&text=caf%C3%A9+au+lait"),
            vec![
                ("a".to_string(), "1".to_string()),
                ("text".to_string(), "café au lait".to_string())
            ]
        );
    }
}
