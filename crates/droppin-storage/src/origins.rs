//! Which web pages may use a gateway: any page, or the pages of named origins.
//!
//! CORS alone cannot keep a page of another site from writing: a form post needs no CORS
//! permission, only its answer is hidden. A gateway that names its origins therefore also
//! refuses any upload whose `Origin` header is not one of them. Requests that carry no
//! `Origin` (the CLI, scripts) do not come from a page, and are served.

use std::str::FromStr;

use url::Url;

/// A web page's origin as browsers send it in the `Origin` header: `scheme://host[:port]`, the
/// default port left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin(String);

impl Origin {
    /// The origin as a browser serializes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A text that names no web origin.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{text:?} is not a web origin (http[s]://host[:port], nothing after it): {reason}")]
pub struct InvalidOrigin {
    text: String,
    reason: &'static str,
}

impl FromStr for Origin {
    type Err = InvalidOrigin;

    /// Parses `http[s]://host[:port]` (a trailing `/` is allowed) into the form browsers send.
    fn from_str(text: &str) -> Result<Self, InvalidOrigin> {
        let invalid = |reason| InvalidOrigin {
            text: text.to_owned(),
            reason,
        };
        let url = Url::parse(text).map_err(|_| invalid("not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("it has a path, a query or a fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("it names a user"));
        }
        Ok(Origin(url.origin().ascii_serialization()))
    }
}

/// The pages a gateway serves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PageOrigins {
    /// Any page: the app may be served from anywhere, and the upload quota bounds what a page
    /// of another site can write.
    #[default]
    Any,
    /// Only pages of these origins.
    Only(Vec<Origin>),
}

impl PageOrigins {
    /// Whether a request whose `Origin` header is `origin` (none: not sent by a page) may use
    /// the gateway.
    pub fn allow(&self, origin: Option<&[u8]>) -> bool {
        match (self, origin) {
            (PageOrigins::Any, _) | (PageOrigins::Only(_), None) => true,
            (PageOrigins::Only(origins), Some(origin)) => origins
                .iter()
                .any(|allowed| allowed.as_str().as_bytes() == origin),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_to_what_browsers_send() {
        for (text, origin) in [
            ("https://app.example", "https://app.example"),
            ("https://App.Example/", "https://app.example"),
            ("https://app.example:443", "https://app.example"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(text.parse::<Origin>().unwrap().as_str(), origin, "{text}");
        }
        for (text, reason) in [
            ("app.example", "not a URL"),
            ("ftp://app.example", "scheme"),
            ("https://app.example/node", "path"),
            ("https://app.example/?round=1", "query"),
            ("https://user@app.example", "user"),
        ] {
            let error = text.parse::<Origin>().unwrap_err().to_string();
            assert!(error.contains(reason) && error.contains(text), "{error}");
        }
    }

    #[test]
    fn named_origins_admit_their_pages_and_requests_from_no_page() {
        let only = PageOrigins::Only(vec!["https://app.example".parse().unwrap()]);
        assert!(only.allow(Some(b"https://app.example")));
        assert!(!only.allow(Some(b"https://elsewhere.example")));
        assert!(!only.allow(Some(b"null")), "a sandboxed page or a file");
        assert!(only.allow(None), "the CLI sends no origin");
        assert!(PageOrigins::Any.allow(Some(b"https://elsewhere.example")));
    }
}
