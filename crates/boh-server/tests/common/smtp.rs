//! A tiny SMTP server for tests: it speaks enough SMTP for lettre (220 greeting, EHLO/HELO,
//! MAIL FROM, RCPT TO, DATA … `.`, RSET, NOOP, QUIT) and records every message it accepts.
//! While "down" it answers each connection `421` and closes it, as a server that is not
//! taking mail does. Messages are decoded just enough to check them: unfolded headers,
//! RFC 2047 subjects, base64 / quoted-printable bodies.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The envelope sender and recipients (the addresses inside `<…>`).
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent after DATA, dot-stuffing undone, CRLF line ends.
    pub data: String,
}

impl Mail {
    fn head_and_body(&self) -> (&str, &str) {
        self.data
            .split_once("\r\n\r\n")
            .unwrap_or((self.data.as_str(), ""))
    }

    /// A header's raw value, unfolded (the first one of that name).
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.head_and_body();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    /// Every header name, in order.
    pub fn header_names(&self) -> Vec<String> {
        let (head, _) = self.head_and_body();
        head.split("\r\n")
            .filter(|l| !l.starts_with(' ') && !l.starts_with('\t'))
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
            .collect()
    }

    /// The subject with its encoded words decoded.
    pub fn subject(&self) -> String {
        decode_words(&self.header("Subject").unwrap_or_default())
    }

    /// The body as text, transfer encoding undone, LF line ends.
    pub fn text(&self) -> String {
        let (_, body) = self.head_and_body();
        let cte = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let bytes = match cte.as_str() {
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(body.split_whitespace().collect::<String>())
                .expect("a base64 body"),
            "quoted-printable" => decode_qp(body.replace("=\r\n", "").as_bytes(), false),
            _ => body.as_bytes().to_vec(),
        };
        String::from_utf8(bytes)
            .expect("a UTF-8 body")
            .replace("\r\n", "\n")
    }
}

/// One part of a `multipart/*` message, transfer encoding undone.
#[derive(Debug, Clone)]
pub struct Part {
    pub content_type: String,
    /// The `filename` of an attachment.
    pub filename: Option<String>,
    pub body: Vec<u8>,
}

impl Mail {
    /// The parts of a multipart message (empty for a single-part one).
    pub fn parts(&self) -> Vec<Part> {
        let ct = self.header("Content-Type").unwrap_or_default();
        let Some(b) = ct.split(';').find_map(|p| {
            p.trim()
                .strip_prefix("boundary=")
                .map(|v| v.trim_matches('"').to_string())
        }) else {
            return Vec::new();
        };
        let (_, body) = self.head_and_body();
        let delim = format!("--{b}");
        body.split(delim.as_str())
            .skip(1)
            .filter(|chunk| !chunk.starts_with("--"))
            .filter_map(|chunk| {
                let chunk = chunk.trim_start_matches("\r\n");
                let (head, content) = chunk.split_once("\r\n\r\n")?;
                let head = head.replace("\r\n ", " ").replace("\r\n\t", " ");
                let get = |name: &str| {
                    head.split("\r\n").find_map(|line| {
                        let (k, v) = line.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case(name)
                            .then(|| v.trim().to_string())
                    })
                };
                let cte = get("Content-Transfer-Encoding")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let content = content.strip_suffix("\r\n").unwrap_or(content);
                let body = match cte.as_str() {
                    "base64" => base64::engine::general_purpose::STANDARD
                        .decode(content.split_whitespace().collect::<String>())
                        .expect("a base64 part"),
                    "quoted-printable" => decode_qp(content.replace("=\r\n", "").as_bytes(), false),
                    _ => content.as_bytes().to_vec(),
                };
                let filename = get("Content-Disposition").and_then(|d| {
                    d.split(';').find_map(|p| {
                        p.trim()
                            .strip_prefix("filename=")
                            .map(|v| decode_words(v.trim_matches('"')))
                    })
                });
                Some(Part {
                    content_type: get("Content-Type").unwrap_or_default(),
                    filename,
                    body,
                })
            })
            .collect()
    }
}

/// `=XX` escapes (and `_` for a space in an encoded word).
fn decode_qp(s: &[u8], underscore_is_space: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        match b {
            b'=' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b),
                }
            }
            b'_' if underscore_is_space => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// Decode RFC 2047 encoded words; the white space between two encoded words goes.
fn decode_words(value: &str) -> String {
    let mut out: Vec<u8> = Vec::new();
    let mut last_encoded = false;
    for token in value.split_whitespace() {
        let word = token
            .strip_prefix("=?")
            .and_then(|t| t.strip_suffix("?="))
            .and_then(|t| {
                let mut p = t.splitn(3, '?');
                Some((p.next()?, p.next()?, p.next()?))
            });
        match word {
            Some((charset, enc, text)) => {
                assert!(charset.eq_ignore_ascii_case("utf-8"), "charset {charset}");
                if !out.is_empty() && !last_encoded {
                    out.push(b' ');
                }
                match enc {
                    "b" | "B" => out.extend(
                        base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .expect("a base64 encoded word"),
                    ),
                    _ => out.extend(decode_qp(text.as_bytes(), true)),
                }
                last_encoded = true;
            }
            None => {
                if !out.is_empty() {
                    out.push(b' ');
                }
                out.extend(token.as_bytes());
                last_encoded = false;
            }
        }
    }
    String::from_utf8(out).expect("a UTF-8 subject")
}

/// The SMTP sink; stops when dropped.
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Mail>>>,
    down: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the SMTP sink");
        let addr = listener.local_addr().expect("sink address");
        let received: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let down = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let (rec, dn, conns) = (received.clone(), down.clone(), connections.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                conns.fetch_add(1, Ordering::SeqCst);
                let (rec, down) = (rec.clone(), dn.load(Ordering::SeqCst));
                tokio::spawn(async move {
                    let _ = session(sock, rec, down).await;
                });
            }
        });
        SmtpSink {
            addr,
            received,
            down,
            connections,
            task,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answer new connections `421` (true) or serve them (false).
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    /// Connections accepted so far (also those refused while down).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn received(&self) -> Vec<Mail> {
        self.received.lock().expect("sink lock").clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The address inside `<…>` of `MAIL FROM:<a> …` / `RCPT TO:<a>`.
fn path_of(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_string()
}

async fn session(
    sock: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Mail>>>,
    down: bool,
) -> std::io::Result<()> {
    let (read, mut write) = sock.into_split();
    if down {
        write
            .write_all(b"421 4.3.2 sink is not taking mail\r\n")
            .await?;
        return write.shutdown().await;
    }
    write.write_all(b"220 sink ESMTP test\r\n").await?;
    let mut lines = BufReader::new(read);
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    loop {
        let mut raw = Vec::new();
        if lines.read_until(b'\n', &mut raw).await? == 0 {
            return Ok(());
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\r', '\n']);
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink greets you\r\n250 HELP\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = path_of(&line["MAIL FROM:".len()..]);
            to.clear();
            b"250 2.1.0 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(path_of(&line["RCPT TO:".len()..]));
            b"250 2.1.5 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                let mut raw = Vec::new();
                if lines.read_until(b'\n', &mut raw).await? == 0 {
                    return Ok(());
                }
                let l = String::from_utf8_lossy(&raw).into_owned();
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            received.lock().expect("sink lock").push(Mail {
                mail_from: std::mem::take(&mut from),
                rcpt_to: std::mem::take(&mut to),
                data: data.strip_suffix("\r\n").unwrap_or(&data).to_string(),
            });
            b"250 2.0.0 queued\r\n"
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return write.shutdown().await;
        } else {
            // HELO, NOOP and anything else.
            b"250 OK\r\n"
        };
        write.write_all(reply).await?;
    }
}
