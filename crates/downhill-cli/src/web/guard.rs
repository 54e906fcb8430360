//! Who may use the server: its own page, and programs on this machine.
//!
//! Every request passes [`check`] before any handler:
//!
//! - `Host` must name the server as it was bound: a loopback name or address
//!   (`localhost`, `127.0.0.1`, `[::1]`), the `--host` given, or, when bound
//!   to all interfaces, any IP address, always with the server's port. A
//!   DNS-rebinding page, whose requests carry its own domain, gets 421.
//! - A request with an `Origin` (browsers send one with every cross-origin
//!   request and every POST) must come from the server's own origin
//!   (`http://` + its `Host`), and `Sec-Fetch-Site: cross-site` is refused:
//!   403. Programs such as curl send neither and are served.
//! - A POST must be `Content-Type: application/json` (415): no "simple"
//!   cross-site form or `text/plain` request can reach the API.
//! - Bound to a non-loopback address, the server needs its token (printed at
//!   start): `Authorization: Bearer TOKEN`, or the cookie the page gets when
//!   opened as `/?token=TOKEN`; else 401.
//!
//! Every answer carries a restrictive `Content-Security-Policy` (scripts,
//! styles and requests from the server itself only; no frames, no inline
//! code), `X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`.

use super::handler::ApiError;
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The policy sent with every answer.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The cookie that carries the token for the page.
const COOKIE: &str = "downhill_token";

/// What [`check`] admits: the server's address, the `--host` it was given and its token.
#[derive(Clone, Debug)]
pub struct Guard {
    address: SocketAddr,
    host: String,
    token: Option<String>,
}

impl Guard {
    /// The guard of a server bound to `address` as `--host host`, needing
    /// `token` (if any) from every request.
    pub fn new(address: SocketAddr, host: &str, token: Option<String>) -> Guard {
        Guard {
            address,
            host: host.to_ascii_lowercase(),
            token,
        }
    }

    /// Whether `value` (a `Host` header) names this server.
    fn admits_host(&self, value: &str) -> bool {
        let value = value.to_ascii_lowercase();
        // `name:port`, `[v6]:port`, or without the port when it is 80.
        let (name, port) = match value.strip_prefix('[') {
            Some(rest) => match rest.split_once(']') {
                Some((inside, "")) => (inside, "80"),
                Some((inside, after)) => match after.strip_prefix(':') {
                    Some(port) => (inside, port),
                    None => return false,
                },
                None => return false,
            },
            None => value.rsplit_once(':').unwrap_or((&value, "80")),
        };
        if name.is_empty() || port != self.address.port().to_string() {
            return false;
        }
        let ip = name.parse::<IpAddr>();
        match ip {
            Ok(ip) => {
                ip.is_loopback() || ip == self.address.ip() || self.address.ip().is_unspecified()
            }
            Err(_) => name == "localhost" || name == self.host,
        }
    }

    /// Whether the request carries the token (always true without one).
    fn has_token(&self, headers: &HeaderMap, query: Option<&str>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = header_text(headers, header::AUTHORIZATION)
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| value);
        [bearer, cookie, query_token(query)]
            .into_iter()
            .flatten()
            .any(|given| same(given.as_bytes(), token.as_bytes()))
    }
}

/// The middleware: refuses what the module's doc lists, then adds the headers.
pub async fn check(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let query = request.uri().query().map(str::to_string);
    let opens_page_with_token = request.method() == Method::GET
        && request.uri().path() == "/"
        && guard.token.is_some()
        && query_token(query.as_deref()).is_some();
    let mut response = match refusal(&guard, &request, query.as_deref()) {
        Some(error) => axum::response::IntoResponse::into_response(error),
        None => next.run(request).await,
    };
    let success = response.status().is_success();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if opens_page_with_token && success {
        let token = guard.token.as_deref().unwrap_or_default();
        let cookie = format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// Why `request` is refused, if it is.
fn refusal(guard: &Guard, request: &Request, query: Option<&str>) -> Option<ApiError> {
    let headers = request.headers();
    let host = header_text(headers, header::HOST).unwrap_or_default();
    if !guard.admits_host(host) {
        return Some(ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this server answers requests for {} (or localhost) only, not for Host '{host}'",
                guard.address
            ),
        ));
    }
    let cross_site = header_text(headers, "sec-fetch-site") == Some("cross-site");
    if let Some(origin) = header_text(headers, header::ORIGIN) {
        if !origin.eq_ignore_ascii_case(&format!("http://{host}")) || cross_site {
            return Some(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("cross-origin requests are refused (Origin '{origin}')"),
            ));
        }
    } else if cross_site {
        return Some(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross-site requests are refused",
        ));
    }
    if !guard.has_token(headers, query) {
        return Some(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this server needs its token: open the URL it printed at start \
             (…/?token=TOKEN) or send 'Authorization: Bearer TOKEN'",
        ));
    }
    if request.method() == Method::POST {
        let json = header_text(headers, header::CONTENT_TYPE)
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Some(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the API takes 'Content-Type: application/json' only",
            ));
        }
    }
    None
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The value of `token=` in a query string.
fn query_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "token")
        .map(|(_, value)| value)
}

/// Equality that takes the same time wherever the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A random token of 32 hexadecimal digits (128 bits from the OS's generator).
pub fn new_token() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(address: &str, host: &str, token: Option<&str>) -> Guard {
        Guard::new(address.parse().unwrap(), host, token.map(String::from))
    }

    #[test]
    fn hosts_are_the_bound_address_or_loopback_with_the_port() {
        let g = guard("127.0.0.1:8123", "127.0.0.1", None);
        for ok in [
            "127.0.0.1:8123",
            "localhost:8123",
            "LOCALHOST:8123",
            "[::1]:8123",
        ] {
            assert!(g.admits_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8123",
            "127.0.0.1:80",
            "127.0.0.1",
            "localhost",
            "",
            "10.0.0.1:8123",
            "localhost.evil.example:8123",
        ] {
            assert!(!g.admits_host(bad), "{bad}");
        }
        let lan = guard("0.0.0.0:9000", "0.0.0.0", Some("t"));
        assert!(lan.admits_host("192.168.1.5:9000") && lan.admits_host("localhost:9000"));
        assert!(!lan.admits_host("rebind.example:9000"));
        let named = guard("192.168.1.5:9000", "box.lan", Some("t"));
        assert!(named.admits_host("box.lan:9000") && named.admits_host("192.168.1.5:9000"));
        assert!(!named.admits_host("192.168.1.6:9000"));
        let web = guard("127.0.0.1:80", "127.0.0.1", None);
        assert!(
            web.admits_host("localhost")
                && web.admits_host("[::1]")
                && web.admits_host("127.0.0.1:80")
        );
        assert!(!web.admits_host("[::1]x") && !web.admits_host("[::1") && !web.admits_host(":80"));
    }

    #[test]
    fn the_token_comes_by_header_cookie_or_query() {
        let g = guard("0.0.0.0:9000", "0.0.0.0", Some("abc123"));
        let mut headers = HeaderMap::new();
        assert!(!g.has_token(&headers, None));
        assert!(g.has_token(&headers, Some("x=1&token=abc123")));
        assert!(!g.has_token(&headers, Some("token=abc124")));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc123"),
        );
        assert!(g.has_token(&headers, None));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; downhill_token=abc123"),
        );
        assert!(g.has_token(&headers, None));
        assert!(guard("127.0.0.1:1", "127.0.0.1", None).has_token(&HeaderMap::new(), None));
    }

    #[test]
    fn tokens_are_random_hex() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"abc", b"ab"));
    }

    /// Fuzzing the guard (issue 16, item 4): requests built from every kind
    /// of Host, Origin, Sec-Fetch-Site, Content-Type and token, each kind
    /// with arbitrary text as one choice, against what the module's doc
    /// promises. Arbitrary text never passes where a header is checked.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A header value that is either one of the listed texts or arbitrary.
        fn text(listed: &'static [&'static str]) -> impl Strategy<Value = String> {
            prop_oneof![
                3 => proptest::sample::select(listed).prop_map(String::from),
                1 => "[ -~]{0,40}",
            ]
        }

        const TOKEN: &str = "0123456789abcdef0123456789abcdef";

        fn request(
            method: &Method,
            host: Option<&str>,
            headers: &[(&str, Option<String>)],
        ) -> Option<Request> {
            let mut builder = Request::builder().method(method.clone()).uri("/api/run");
            if let Some(h) = host {
                builder = builder.header(header::HOST, HeaderValue::from_str(h).ok()?);
            }
            for (name, value) in headers {
                if let Some(v) = value {
                    builder = builder.header(*name, HeaderValue::from_str(v).ok()?);
                }
            }
            builder.body(axum::body::Body::empty()).ok()
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

            #[test]
            fn only_the_servers_own_requests_pass(
                lan in any::<bool>(),
                post in any::<bool>(),
                host in proptest::option::of(text(&["127.0.0.1:8123", "localhost:8123", "[::1]:8123", "evil.example:8123", "127.0.0.1:80", "localhost"])),
                origin in proptest::option::of(prop_oneof![Just("same".to_string()), text(&["http://evil.example", "null", "https://127.0.0.1:8123"])]),
                site in proptest::option::of(text(&["same-origin", "cross-site", "none", "same-site"])),
                content_type in proptest::option::of(text(&["application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded"])),
                bearer in proptest::option::of(prop_oneof![Just(TOKEN.to_string()), "[0-9a-f]{0,32}"]),
            ) {
                let g = if lan {
                    guard("0.0.0.0:8123", "0.0.0.0", Some(TOKEN))
                } else {
                    guard("127.0.0.1:8123", "127.0.0.1", None)
                };
                let origin = origin.map(|o| match (o.as_str(), &host) {
                    ("same", Some(h)) => format!("http://{h}"),
                    _ => o,
                });
                let method = if post { Method::POST } else { Method::GET };
                let headers = [
                    ("origin", origin.clone()),
                    ("sec-fetch-site", site.clone()),
                    ("content-type", content_type.clone()),
                    ("authorization", bearer.as_ref().map(|t| format!("Bearer {t}"))),
                ];
                let Some(req) = request(&method, host.as_deref(), &headers) else {
                    return Ok(()); // not a valid header value at all: hyper refuses it first
                };
                let status = refusal(&g, &req, None).map(|e| axum::response::IntoResponse::into_response(e).status());
                // The oracle: what the doc says, from the kinds chosen above.
                let host_ok = host.as_deref().is_some_and(|h| {
                    ["127.0.0.1:8123", "localhost:8123", "[::1]:8123"].contains(&h.to_ascii_lowercase().as_str())
                        || (lan && h.rsplit_once(':').is_some_and(|(ip, port)| port == "8123" && ip.parse::<std::net::Ipv4Addr>().is_ok()))
                });
                let same_origin = origin.as_deref().is_none_or(|o| host.as_deref().is_some_and(|h| o.eq_ignore_ascii_case(&format!("http://{h}"))));
                let cross = site.as_deref() == Some("cross-site");
                let token_ok = !lan || bearer.as_deref() == Some(TOKEN);
                let json = content_type.as_deref().is_some_and(|c| {
                    c.split(';').next().unwrap().trim().eq_ignore_ascii_case("application/json")
                });
                let expected = if !host_ok {
                    Some(StatusCode::MISDIRECTED_REQUEST)
                } else if !same_origin || cross {
                    Some(StatusCode::FORBIDDEN)
                } else if !token_ok {
                    Some(StatusCode::UNAUTHORIZED)
                } else if post && !json {
                    Some(StatusCode::UNSUPPORTED_MEDIA_TYPE)
                } else {
                    None
                };
                prop_assert_eq!(status, expected, "host {:?} origin {:?} site {:?} type {:?}", host, origin, site, content_type);
            }
        }
    }
}
