//! A user's cookie jar seen from the scenario: a request's own cookies joined after the
//! jar's in one Cookie header (requests merges `cookies=` into a copy of the session's
//! jar, so both are sent, the jar's first, even under the same name), and a cookie put
//! into the jar by a `set_cookie` step (`session.cookies.set(name, value, ...)`).

use cookie_store::RawCookie;

use super::UserClient;

/// The Cookie header: the jar's cookies, then the request's own.
pub(super) fn with_own(jar: Option<String>, own: Option<&str>) -> Option<String> {
    match (jar, own) {
        (jar, None) => jar,
        (None, Some(own)) => Some(own.to_string()),
        (Some(mut jar), Some(own)) => {
            jar.push_str("; ");
            jar.push_str(own);
            Some(jar)
        }
    }
}

impl UserClient {
    /// Stores a cookie in this user's jar. Without `domain` it goes to the user's host
    /// only (a host-only cookie, as the host would have set it); with one, to that
    /// domain and its subdomains. It replaces a cookie of the same name, domain and path
    /// (the server's own, say) and lasts as long as the user, unless the server replaces
    /// or deletes it.
    pub fn set_cookie(
        &mut self,
        name: &str,
        value: &str,
        domain: Option<&str>,
        path: &str,
    ) -> Result<(), String> {
        let origin = &self.base.origin;
        // The URL the cookie is stored "from": the host it is for, so that a domain
        // other than the user's host is accepted as a browser accepts its own site's.
        let from = match domain {
            Some(domain) => format!("{}://{domain}{path}", origin.scheme()),
            None => format!("{}{path}", origin.base_url()),
        };
        let url = url::Url::parse(&from).map_err(|e| format!("cannot set cookie {name}: {e}"))?;
        let mut cookie = RawCookie::new(name.to_string(), value.to_string());
        cookie.set_path(path.to_string());
        if let Some(domain) = domain {
            cookie.set_domain(domain.to_string());
        }
        self.cookies
            .get_or_insert_with(Default::default)
            .insert_raw(&cookie, &url)
            .map(|_| ())
            .map_err(|e| format!("cannot set cookie {name}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::http::{ClientFactory, HttpOptions};

    fn client(host: &str) -> UserClient {
        let factory: Arc<ClientFactory> =
            ClientFactory::new(HttpOptions::with_timeout(Duration::from_secs(1))).unwrap();
        UserClient::new(factory, host).unwrap()
    }

    fn header(client: &UserClient, url: &str) -> Option<String> {
        let target = crate::http::target::parse_url(url).unwrap();
        client.cookie_header(&target.origin, &target.path)
    }

    #[test]
    fn own_cookies_follow_the_jars() {
        assert_eq!(with_own(None, None), None);
        assert_eq!(with_own(Some("a=1".into()), None).as_deref(), Some("a=1"));
        assert_eq!(with_own(None, Some("b=2")).as_deref(), Some("b=2"));
        assert_eq!(
            with_own(Some("a=1".into()), Some("a=2; c=3")).as_deref(),
            Some("a=1; a=2; c=3")
        );
    }

    #[test]
    fn a_set_cookie_goes_to_the_users_host_unless_a_domain_is_given() {
        let mut user = client("http://127.0.0.1:8089");
        user.set_cookie("consent", "yes", None, "/").unwrap();
        assert_eq!(
            header(&user, "http://127.0.0.1:8089/any").as_deref(),
            Some("consent=yes")
        );
        assert_eq!(header(&user, "http://localhost:8089/any"), None);
        user.set_cookie("consent", "no", None, "/").unwrap();
        assert_eq!(
            header(&user, "http://127.0.0.1:8089/").as_deref(),
            Some("consent=no"),
            "the same name, domain and path: replaced"
        );
        user.set_cookie("scoped", "1", None, "/api").unwrap();
        let mut both: Vec<String> = header(&user, "http://127.0.0.1:8089/api/x")
            .unwrap()
            .split("; ")
            .map(str::to_string)
            .collect();
        both.sort();
        assert_eq!(both, ["consent=no", "scoped=1"]);
        assert_eq!(
            header(&user, "http://127.0.0.1:8089/other").as_deref(),
            Some("consent=no")
        );
        user.set_cookie("wide", "1", Some("example.com"), "/")
            .unwrap();
        assert_eq!(
            header(&user, "http://shop.example.com/").as_deref(),
            Some("wide=1")
        );
        assert_eq!(header(&user, "http://example.org/"), None);
        // An IP address as the domain: that address only.
        let mut user = client("http://127.0.0.1:8089");
        user.set_cookie("ip", "1", Some("127.0.0.1"), "/").unwrap();
        assert_eq!(
            header(&user, "http://127.0.0.1:8089/").as_deref(),
            Some("ip=1")
        );
        assert_eq!(header(&user, "http://127.0.0.2:8089/"), None);
    }
}
