//! The server's own base URL, as pages show it (the Python snippet's `url=`, the token
//! page): the operator's `--public-url` when set; otherwise the request's `Host`, with the
//! scheme from `X-Forwarded-Proto` only when the operator said a proxy is trusted
//! (`--trust-proxy`), else `http`. A client can send any header, so without a trusted proxy
//! in front `X-Forwarded-Proto` is ignored.

use axum::http::{HeaderMap, header};

use crate::Config;

/// Where the server listens by default, for a request without a usable `Host`.
const FALLBACK_HOST: &str = "127.0.0.1:8080";

fn plausible_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
}

/// The base URL (no trailing slash) for a request with `headers`.
pub fn base_url(config: &Config, headers: &HeaderMap) -> String {
    if let Some(u) = &config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .filter(|h| plausible_host(h))
        .unwrap_or(FALLBACK_HOST);
    let scheme = if config.trust_proxy {
        headers
            .get("x-forwarded-proto")
            .and_then(|h| h.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| v == "https" || v == "http")
            .unwrap_or_else(|| "http".to_string())
    } else {
        "http".to_string()
    };
    format!("{scheme}://{host}")
}

/// Checks an operator's `--public-url`: `http://` or `https://` and a host; the trailing
/// slash is dropped.
pub fn parse_public_url(url: &str) -> Result<String, String> {
    let u = url.trim().trim_end_matches('/');
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    match rest {
        Some(r) if plausible_host(r.split('/').next().unwrap_or("")) => Ok(u.to_string()),
        _ => Err(format!(
            "the public URL {url:?} must be http:// or https:// followed by a host, as users type it \
             (https://mlroots.example.org)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(host: &str, proto: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(p) = proto {
            h.insert("x-forwarded-proto", HeaderValue::from_str(p).unwrap());
        }
        h
    }

    #[test]
    fn public_url_wins_then_host_with_a_trusted_proxy_scheme() {
        let mut c = Config::new("x.db");
        let h = headers("site.test:8443", Some("https"));
        assert_eq!(base_url(&c, &h), "http://site.test:8443", "the header is not trusted");
        c.trust_proxy = true;
        assert_eq!(base_url(&c, &h), "https://site.test:8443");
        assert_eq!(base_url(&c, &headers("a.test", Some("https, http"))), "https://a.test");
        assert_eq!(base_url(&c, &headers("a.test", Some("gopher"))), "http://a.test");
        assert_eq!(base_url(&c, &headers("a.test", None)), "http://a.test");
        assert_eq!(base_url(&c, &headers("a\"b", None)), "http://127.0.0.1:8080");
        c.public_url = Some("https://ml.example.org".into());
        assert_eq!(base_url(&c, &h), "https://ml.example.org");
    }

    #[test]
    fn public_urls_are_checked() {
        assert_eq!(parse_public_url("https://ml.example.org/").unwrap(), "https://ml.example.org");
        assert_eq!(parse_public_url("http://10.0.0.1:8080").unwrap(), "http://10.0.0.1:8080");
        assert!(parse_public_url("ml.example.org").is_err());
        assert!(parse_public_url("https://").is_err());
        assert!(parse_public_url("javascript:alert(1)").is_err());
    }
}
