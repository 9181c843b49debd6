//! Request bodies end to end (issue 11): the real binary, headless, sends `form`,
//! `files` (multipart, with `form` fields first), `body_file` and `json` bodies to a
//! `HostileServer` on 127.0.0.1 that echoes and records every request; the bytes it
//! received are compared exactly with what requests sends for the same call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::hostile::*;
use common::{text, write, BIN};

/// An upload with the bytes a multipart parser trips over: CR LF, NUL, 0xFF, a line
/// that starts with `--`.
const PHOTO: &[u8] = b"\x89PNG\r\n\x1a\n\0\xff\r\n--not-a-boundary\r\nend";
/// Sent as is: `{{` is not a template in a `body_file`.
const PAYLOAD: &[u8] = b"{\"raw\": \"{{ kept }}\"}\n";

const SCENARIO: &str = r#"
[users.Bodies]
fixed_count = 1
wait_time = "constant(0)"

[[users.Bodies.tasks]]
name = "bodies"

[[users.Bodies.tasks.requests]]
method = "POST"
path = "/form"
form = { "user[email]" = "{{ 'a' ~ 'b' }}@example.com", password = "p w*~", tag = ["x", "y"] }

[[users.Bodies.tasks.requests]]
method = "POST"
path = "/upload"
form = { title = "My photo", n = 1 }
files = { upload = { path = "data/photo.png", filename = "photo.png", content_type = "image/png" } }

[[users.Bodies.tasks.requests]]
method = "POST"
path = "/upload-templated"
form = { who = "{{ 'a' ~ 'b' }}" }
files = { doc = "data/payload.json" }

[[users.Bodies.tasks.requests]]
method = "PUT"
path = "/raw"
body_file = { path = "data/payload.json", content_type = "application/json" }

[[users.Bodies.tasks.requests]]
method = "POST"
path = "/json"
json = { b = 1, a = 2, nested = { z = "{{ 'a' ~ 'b' }}", y = [2, 1] } }
"#;

const ROUTES: [&str; 5] = ["/form", "/upload", "/upload-templated", "/raw", "/json"];

/// The scenario in `scen/s.toml`, its files in `scen/data/`, run from the folder above:
/// file paths are relative to the scenario file, not to the working directory.
async fn run(host: &str, scenario: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "scen/s.toml", scenario);
    std::fs::create_dir_all(dir.path().join("scen/data")).unwrap();
    std::fs::write(dir.path().join("scen/data/photo.png"), PHOTO).unwrap();
    std::fs::write(dir.path().join("scen/data/payload.json"), PAYLOAD).unwrap();
    let mut command = tokio::process::Command::new(BIN);
    command
        .args(["--headless", "-f", "scen/s.toml", "-H", host])
        .args(["-u", "1", "-r", "1", "-i", "1", "-t", "20s"])
        .current_dir(dir.path())
        .kill_on_drop(true);
    for (key, _) in std::env::vars() {
        if key.starts_with("LOCUST_") || key.to_ascii_lowercase().ends_with("_proxy") {
            command.env_remove(key);
        }
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), command.output())
        .await
        .expect("the run ends within 60 s")
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn header(request: &ReceivedRequest, name: &str) -> String {
    request.header_str(name).unwrap_or_default()
}

/// The boundary of a multipart request: 32 lowercase hex digits, as urllib3 draws.
fn boundary(request: &ReceivedRequest) -> String {
    let ct = header(request, "content-type");
    let b = ct
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {ct:?}"))
        .to_string();
    assert!(
        b.len() == 32 && b.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')),
        "{b:?}"
    );
    b
}

#[tokio::test]
async fn form_multipart_file_and_json_bodies_arrive_byte_for_byte() {
    let server = HostileServer::start(ROUTES.map(|r| (r, Behaviour::Echo))).await;
    let (code, output) = run(&server.url(), SCENARIO).await;
    assert_eq!(code, 0, "{output}");
    for route in ROUTES {
        assert_eq!(server.count(route), 1, "{route}: {:?}", server.requests());
    }
    let got = |route: &str| {
        let r = server.requests_to(route).remove(0);
        assert!(r.body_complete, "{route}");
        assert_eq!(
            header(&r, "content-length"),
            r.body.len().to_string(),
            "{route}"
        );
        r
    };

    // requests.post(url, data={"user[email]": "ab@example.com", "password": "p w*~",
    // "tag": ["x", "y"]})
    let form = got("/form");
    assert_eq!(
        text(&form.body),
        "user%5Bemail%5D=ab%40example.com&password=p+w%2A~&tag=x&tag=y"
    );
    assert_eq!(
        header(&form, "content-type"),
        "application/x-www-form-urlencoded"
    );

    // requests.post(url, data={"title": "My photo", "n": 1},
    //               files={"upload": ("photo.png", open(..., "rb"), "image/png")})
    let upload = got("/upload");
    let b = boundary(&upload);
    let mut expected = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nMy photo\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    expected.extend_from_slice(PHOTO);
    expected.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    assert_eq!(upload.body, expected, "{}", text(&upload.body));

    // requests.post(url, data={"who": "ab"}, files={"doc": open("data/payload.json", "rb")})
    let templated = got("/upload-templated");
    let b2 = boundary(&templated);
    assert_ne!(b, b2, "one boundary per request");
    let expected = format!(
        "--{b2}\r\nContent-Disposition: form-data; name=\"who\"\r\n\r\nab\r\n\
         --{b2}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"payload.json\"\r\n\r\n{}\r\n--{b2}--\r\n",
        text(PAYLOAD)
    );
    assert_eq!(text(&templated.body), expected);

    let raw = got("/raw");
    assert_eq!(raw.method, "PUT");
    assert_eq!(raw.body, PAYLOAD);
    assert_eq!(header(&raw, "content-type"), "application/json");

    let json = got("/json");
    assert_eq!(
        text(&json.body),
        r#"{"b":1,"a":2,"nested":{"z":"ab","y":[2,1]}}"#
    );
    assert_eq!(header(&json, "content-type"), "application/json");
}

/// A file that is not there stops the run at load, naming the file, line and key;
/// nothing is sent.
#[tokio::test]
async fn a_missing_upload_stops_the_run_before_any_request() {
    let server = HostileServer::start(ROUTES.map(|r| (r, Behaviour::Echo))).await;
    let scenario = SCENARIO.replace("data/photo.png", "data/nope.png");
    let (code, output) = run(&server.url(), &scenario).await;
    assert_ne!(code, 0, "{output}");
    // The key of the step list (`requests[1]` or `steps[1]`) is not this test's concern.
    let at = output.find("scen/s.toml:18:20: `users.Bodies.tasks[0].");
    let what = "[1].files.upload`: cannot read file \"data/nope.png\"";
    assert!(
        at.is_some_and(|at| output[at..].lines().next().unwrap().contains(what)),
        "{output}"
    );
    assert!(server.requests().is_empty(), "{:?}", server.requests());
}
