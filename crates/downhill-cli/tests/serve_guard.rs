//! `downhill serve` refuses what is not its own page or a local program
//! (issue 16, item 2), over real HTTP: a foreign `Host` (421), a foreign
//! `Origin` or `Sec-Fetch-Site: cross-site` (403), a POST that is not JSON
//! (415), a missing token on a non-loopback address (401); every answer
//! carries the security headers. The page itself keeps working (also in
//! Chromium: `e2e/playground.mjs`).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

/// A running `downhill serve ARGS --port 0`, killed on drop.
struct Server {
    child: Child,
    /// `127.0.0.1:PORT`, whatever address it was bound to.
    local: String,
    /// Its first line's URL.
    url: String,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let (child, url) = common::serve(args, Stdio::piped());
        let port = url.rsplit_once(':').unwrap().1.split('/').next().unwrap();
        Server {
            child,
            local: format!("127.0.0.1:{port}"),
            url,
        }
    }

    /// Sends `method path` with `Host: host` and the extra header lines;
    /// returns the status and the response head.
    fn send(&self, method: &str, path: &str, host: &str, extra: &[&str]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.local).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let body = r#"{"surface":"quartic","optimizers":["adam"],"steps":3}"#;
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for line in extra {
            head += line;
            head += "\r\n";
        }
        if method == "POST" {
            head += &format!("Content-Length: {}\r\n", body.len());
        }
        head += "\r\n";
        stream.write_all(head.as_bytes()).unwrap();
        if method == "POST" {
            stream.write_all(body.as_bytes()).unwrap();
        }
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap();
        let text = String::from_utf8_lossy(&raw).to_string();
        let head = text.split("\r\n\r\n").next().unwrap().to_string();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, head.to_ascii_lowercase())
    }

    /// The server's stderr so far (after killing it).
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let mut text = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const JSON: &str = "Content-Type: application/json";

fn assert_security_headers(head: &str) {
    assert!(
        head.contains("content-security-policy: default-src 'none'; script-src 'self'"),
        "{head}"
    );
    assert!(head.contains("frame-ancestors 'none'"), "{head}");
    assert!(head.contains("x-content-type-options: nosniff"), "{head}");
    assert!(head.contains("referrer-policy: no-referrer"), "{head}");
}

#[test]
fn loopback_server_refuses_foreign_hosts_origins_and_content_types() {
    let s = Server::start(&[]);
    let own = s.local.clone();
    let port = own.rsplit_once(':').unwrap().1.to_string();
    // The page and the API for the server's own names.
    for host in [
        own.clone(),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, head) = s.send("GET", "/", &host, &[]);
        assert_eq!(status, 200, "{host}");
        assert_security_headers(&head);
    }
    let origin = format!("Origin: http://{own}");
    let (status, _) = s.send(
        "POST",
        "/api/run",
        &own,
        &[JSON, &origin, "Sec-Fetch-Site: same-origin"],
    );
    assert_eq!(status, 200, "the page's own request");
    assert_eq!(s.send("POST", "/api/run", &own, &[JSON]).0, 200, "curl");
    // DNS rebinding: a foreign name on the right address and port.
    for host in [
        format!("evil.example:{port}"),
        "127.0.0.1:1".to_string(),
        own.replace(&port, ""),
    ] {
        let (status, head) = s.send("GET", "/", &host, &[]);
        assert_eq!(status, 421, "{host}");
        assert_security_headers(&head);
        assert_eq!(s.send("POST", "/api/run", &host, &[JSON]).0, 421, "{host}");
    }
    // Cross-origin pages, with or without an Origin header.
    for extra in [
        "Origin: http://evil.example",
        "Origin: null",
        "Sec-Fetch-Site: cross-site",
    ] {
        let (status, head) = s.send("POST", "/api/run", &own, &[JSON, extra]);
        assert_eq!(status, 403, "{extra}");
        assert_security_headers(&head);
    }
    // "Simple" requests that need no preflight.
    for kind in [
        "Content-Type: text/plain",
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: multipart/form-data; boundary=x",
    ] {
        assert_eq!(s.send("POST", "/api/run", &own, &[kind]).0, 415, "{kind}");
    }
    assert_eq!(s.send("POST", "/api/run", &own, &[]).0, 415, "no type");
    assert_eq!(
        s.send(
            "POST",
            "/api/run",
            &own,
            &["Content-Type: application/json; charset=utf-8"]
        )
        .0,
        200
    );
}

#[test]
fn a_server_other_machines_can_reach_needs_its_token() {
    let s = Server::start(&["--host", "0.0.0.0"]);
    let token = s
        .url
        .split_once("/?token=")
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| panic!("no token in {}", s.url));
    assert_eq!(token.len(), 32);
    let own = s.local.clone();
    assert_eq!(s.send("GET", "/", &own, &[]).0, 401);
    assert_eq!(s.send("POST", "/api/run", &own, &[JSON]).0, 401);
    let bearer = format!("Authorization: Bearer {token}");
    assert_eq!(s.send("POST", "/api/run", &own, &[JSON, &bearer]).0, 200);
    let wrong = format!("Authorization: Bearer {}", "0".repeat(32));
    assert_eq!(s.send("POST", "/api/run", &own, &[JSON, &wrong]).0, 401);
    // Opening the printed URL gives the page a cookie that carries the token.
    let (status, head) = s.send("GET", &format!("/?token={token}"), &own, &[]);
    assert_eq!(status, 200);
    assert!(
        head.contains(&format!(
            "set-cookie: downhill_token={token}; path=/; httponly; samesite=strict"
        )),
        "{head}"
    );
    let cookie = format!("Cookie: downhill_token={token}");
    let origin = format!("Origin: http://{own}");
    assert_eq!(
        s.send("POST", "/api/run", &own, &[JSON, &cookie, &origin])
            .0,
        200
    );
    // Any IP address of the machine is its own; names are not.
    let port = own.rsplit_once(':').unwrap().1;
    assert_eq!(
        s.send("GET", "/", &format!("evil.example:{port}"), &[&bearer])
            .0,
        421
    );
    assert!(s.stop().is_empty(), "no warning with a token");
}

#[test]
fn no_token_serves_everyone_with_a_warning() {
    let s = Server::start(&["--host", "0.0.0.0", "--no-token"]);
    assert!(!s.url.contains("token"), "{}", s.url);
    let own = s.local.clone();
    assert_eq!(s.send("POST", "/api/run", &own, &[JSON]).0, 200);
    let stderr = s.stop();
    assert!(
        stderr.starts_with("warning: 0.0.0.0:") && stderr.contains("--no-token"),
        "{stderr}"
    );
}
