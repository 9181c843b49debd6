//! End-to-end regression tests of the HTTP client's hardening (issue 9), redirects and
//! request headers: the real binary, headless, against `common::hostile::HostileServer`
//! on 127.0.0.1. One test per defect: redirects (RFC 3986 resolution, method and
//! credential rules, limits), URL credentials, and explicit and default headers.
//!
//! Every run must survive (exit 0 or 1 by Locust's rules, never a panic or an abort),
//! record each failure with Locust's text in `_failures.csv`, and count in `_stats.csv`
//! exactly the requests the server saw. Each scenario sends each route once per user:
//! either one class and `-i 1` (the run ends after that task), or one class per case
//! with `fixed_count = 1`, a 100 s wait and `-t`. Time is only ever bounded from above,
//! generously, where the point of the test is that the run ends on time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hostile::*;
use common::hostile_cases::*;

/// Every value of header `name` the server received, as text, in order.
fn values(request: &ReceivedRequest, name: &str) -> Vec<String> {
    request
        .header_all(name)
        .into_iter()
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .collect()
}

// ---------------------------------------------------------------------------------------
// 5. Redirects
// ---------------------------------------------------------------------------------------

fn redirect_to(status: u16, location: &str) -> Behaviour {
    Behaviour::Redirect {
        status,
        location: location.to_string(),
    }
}

/// Relative locations resolve against the current URL by RFC 3986: a bare name
/// replaces the last segment, `../` climbs, `//host:port/p` keeps only the scheme.
#[tokio::test]
async fn redirect_locations_resolve_by_rfc_3986() {
    let other = HostileServer::start([("/p", Behaviour::Echo)]).await;
    let scheme_relative = format!("//127.0.0.1:{}/p", other.port());
    let server = HostileServer::start([
        ("/sub/rrel", redirect_to(302, "x?y=1")),
        ("/sub/x?y=1", Behaviour::Echo),
        ("/sub/rdot", redirect_to(302, "../echo/dd")),
        ("/echo/dd", Behaviour::Echo),
        ("/rscheme", redirect_to(302, &scheme_relative)),
    ])
    .await;
    let scenario = class(
        "Redirects",
        NO_WAIT,
        &[
            "path = \"/sub/rrel\"",
            "path = \"/sub/rdot\"",
            "path = \"/rscheme\"",
        ],
    );
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    for name in ["/sub/rrel", "/sub/rdot", "/rscheme"] {
        run.assert_succeeded_once("GET", name);
    }
    assert_eq!(server.count("/sub/x?y=1"), 1, "{:?}", server.requests());
    assert_eq!(server.count("/echo/dd"), 1, "{:?}", server.requests());
    assert_eq!(other.count("/p"), 1, "{:?}", other.requests());
    assert_eq!(server.requests().len(), 5, "no other request");
    assert_eq!(other.requests().len(), 1);
}

/// With a base path in the host (`-H http://h/api`), an absolute-path Location is
/// taken as it is, not joined to the base path.
#[tokio::test]
async fn an_absolute_path_location_ignores_the_base_path() {
    let server = HostileServer::start([
        ("/api/rabs", redirect_to(302, "/echo/abs")),
        ("/echo/abs", Behaviour::Echo),
    ])
    .await;
    let scenario = class("Base", NO_WAIT, &["path = \"/rabs\""]);
    let host = server.url_for("/api");
    let run = run_once(&scenario, &host, &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/rabs");
    let targets: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/api/rabs", "/echo/abs"], "{}", run.describe());
}

/// 303 turns a POST into a GET without body or Content-Type; 307 repeats the POST
/// with its body and headers.
#[tokio::test]
async fn redirect_303_makes_a_get_and_307_keeps_the_post() {
    let server = HostileServer::start([
        ("/r303", redirect_to(303, "/echo/after303")),
        ("/echo/after303", Behaviour::Echo),
        ("/r307", redirect_to(307, "/echo/after307")),
        ("/echo/after307", Behaviour::Echo),
    ])
    .await;
    let post = |path: &str| {
        format!(
            "method = \"POST\"\npath = \"{path}\"\nbody = \"hello\"\nheaders = {{ Content-Type = \"text/plain\" }}"
        )
    };
    let scenario = class("Post", NO_WAIT, &[&post("/r303"), &post("/r307")]);
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("POST", "/r303");
    run.assert_succeeded_once("POST", "/r307");
    for target in ["/r303", "/r307"] {
        let first = &server.requests_to(target)[0];
        assert_eq!(
            (first.method.as_str(), first.body.as_slice()),
            ("POST", &b"hello"[..])
        );
    }
    let after303 = server.requests_to("/echo/after303");
    assert_eq!(after303.len(), 1, "{:?}", server.requests());
    let get = &after303[0];
    assert_eq!(get.method, "GET");
    assert_eq!(get.body_len, 0);
    assert_eq!(values(get, "Content-Type"), [] as [&str; 0]);
    assert_eq!(values(get, "Content-Length"), [] as [&str; 0]);
    let after307 = server.requests_to("/echo/after307");
    assert_eq!(after307.len(), 1, "{:?}", server.requests());
    let again = &after307[0];
    assert_eq!(again.method, "POST");
    assert_eq!(again.body, b"hello");
    assert_eq!(values(again, "Content-Type"), ["text/plain"]);
}

/// `allow_redirects = false` records the 302 itself as a success, and a check can
/// read its Location; the target is never asked.
#[tokio::test]
async fn allow_redirects_false_records_the_redirect_itself() {
    let server = HostileServer::start([
        ("/rnofollow", redirect_to(302, "/echo/never")),
        ("/echo/never", Behaviour::Echo),
    ])
    .await;
    let scenario = class(
        "NoFollow",
        NO_WAIT,
        &["path = \"/rnofollow\"\nallow_redirects = false\nchecks = [{ header = \"Location\", equals = \"/echo/never\" }]"],
    );
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/rnofollow");
    assert_eq!(server.count("/rnofollow"), 1);
    assert_eq!(server.count("/echo/never"), 0);
}

/// `--max-redirects 3` on a redirect loop: the first request and three redirects are
/// sent (4 on the server), then TooManyRedirects.
#[tokio::test]
async fn max_redirects_bounds_a_redirect_loop() {
    let server = HostileServer::start([("/loop", redirect_to(302, "/loop"))]).await;
    let scenario = class("Loop", NO_WAIT, &["path = \"/loop\""]);
    let run = run_once(&scenario, &server.url(), &["--max-redirects", "3"]).await;
    run.assert_exit(1);
    run.assert_failed_once("GET", "/loop", "TooManyRedirects('Exceeded 3 redirects.')");
    assert_eq!(server.count("/loop"), 4, "{}", run.describe());
}

// ---------------------------------------------------------------------------------------
// 6. Credentials
// ---------------------------------------------------------------------------------------

/// Authorization and Cookie headers set by the request are not sent to another origin
/// after a redirect (another port is another origin); on the same origin they stay.
#[tokio::test]
async fn credentials_stay_with_their_origin_on_redirect() {
    let other = HostileServer::start([("/cred", Behaviour::Echo)]).await;
    let cross = other.url_for("/cred");
    let server = HostileServer::start([
        ("/to-other", redirect_to(302, &cross)),
        ("/to-same", redirect_to(302, "/echo/cred-same")),
        ("/echo/cred-same", Behaviour::Echo),
    ])
    .await;
    let with_secrets = |path: &str| {
        format!(
            "path = \"{path}\"\nheaders = {{ Authorization = \"Bearer s3cret\", Cookie = \"session=abc\" }}"
        )
    };
    let scenario = class(
        "Creds",
        NO_WAIT,
        &[&with_secrets("/to-other"), &with_secrets("/to-same")],
    );
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/to-other");
    run.assert_succeeded_once("GET", "/to-same");
    for target in ["/to-other", "/to-same"] {
        let first = &server.requests_to(target)[0];
        assert_eq!(values(first, "Authorization"), ["Bearer s3cret"]);
        assert_eq!(values(first, "Cookie"), ["session=abc"]);
    }
    let crossed = other.requests_to("/cred");
    assert_eq!(crossed.len(), 1, "{}", run.describe());
    assert_eq!(values(&crossed[0], "Authorization"), [] as [&str; 0]);
    assert_eq!(values(&crossed[0], "Cookie"), [] as [&str; 0]);
    let same = server.requests_to("/echo/cred-same");
    assert_eq!(same.len(), 1, "{}", run.describe());
    assert_eq!(values(&same[0], "Authorization"), ["Bearer s3cret"]);
    assert_eq!(values(&same[0], "Cookie"), ["session=abc"]);
}

/// `-H http://user:p%40ss@host:port`: the user info becomes Basic credentials
/// (percent-decoded: `user:p@ss`), and the Host header carries no user info.
#[tokio::test]
async fn url_user_info_becomes_basic_auth_and_stays_out_of_host() {
    let server = HostileServer::start([("/who", Behaviour::Echo)]).await;
    let scenario = class("Who", NO_WAIT, &["path = \"/who\""]);
    let host = format!("http://user:p%40ss@127.0.0.1:{}", server.port());
    let run = run_once(&scenario, &host, &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/who");
    let seen = server.requests_to("/who");
    assert_eq!(seen.len(), 1);
    assert_eq!(values(&seen[0], "Authorization"), ["Basic dXNlcjpwQHNz"]);
    assert_eq!(
        values(&seen[0], "Host"),
        [format!("127.0.0.1:{}", server.port())]
    );
}

// ---------------------------------------------------------------------------------------
// 7. and 8. Request headers
// ---------------------------------------------------------------------------------------

/// A `Host` header among the request's headers is sent as given, once.
#[tokio::test]
async fn an_explicit_host_header_is_sent_as_given() {
    let server = HostileServer::start([("/vhost", Behaviour::Echo)]).await;
    let scenario = class(
        "VHost",
        NO_WAIT,
        &["path = \"/vhost\"\nheaders = { Host = \"vhost.example:8443\" }"],
    );
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/vhost");
    let seen = server.requests_to("/vhost");
    assert_eq!(seen.len(), 1);
    assert_eq!(values(&seen[0], "Host"), ["vhost.example:8443"]);
}

/// requests' default headers (Accept-Encoding `gzip, deflate, br`, Accept `*/*`) and
/// User-Agent `locust-rs/VERSION`; `--user-agent` replaces the latter; a request's own
/// header replaces a default, or `--user-agent`, and is sent once.
#[tokio::test]
async fn default_headers_user_agent_flag_and_request_overrides() {
    let server =
        HostileServer::start([("/plain", Behaviour::Echo), ("/own", Behaviour::Echo)]).await;
    let scenario = class(
        "Headers",
        NO_WAIT,
        &[
            "path = \"/plain\"",
            "path = \"/own\"\nheaders = { Accept = \"application/json\", User-Agent = \"mine/2\" }",
        ],
    );
    let run = run_once(&scenario, &server.url(), &[]).await;
    run.assert_exit(0);
    run.assert_succeeded_once("GET", "/plain");
    run.assert_succeeded_once("GET", "/own");
    let plain = &server.requests_to("/plain")[0];
    assert_eq!(values(plain, "Accept-Encoding"), ["gzip, deflate, br"]);
    assert_eq!(values(plain, "Accept"), ["*/*"]);
    assert_eq!(
        values(plain, "User-Agent"),
        [format!("locust-rs/{}", env!("CARGO_PKG_VERSION"))]
    );
    let own = &server.requests_to("/own")[0];
    assert_eq!(values(own, "Accept"), ["application/json"]);
    assert_eq!(values(own, "User-Agent"), ["mine/2"]);
    assert_eq!(values(own, "Accept-Encoding"), ["gzip, deflate, br"]);

    let flagged = run_once(&scenario, &server.url(), &["--user-agent", "probe/1.0"]).await;
    flagged.assert_exit(0);
    let plain = server.requests_to("/plain");
    assert_eq!(plain.len(), 2, "{}", flagged.describe());
    assert_eq!(values(&plain[1], "User-Agent"), ["probe/1.0"]);
    let own = server.requests_to("/own");
    assert_eq!(own.len(), 2, "{}", flagged.describe());
    assert_eq!(values(&own[1], "User-Agent"), ["mine/2"]);
}
