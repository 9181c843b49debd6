//! Request bodies of whole scenario files: `form` (requests' `data=dict`), `files`
//! (multipart uploads, with `form` fields first), `body_file`, and JSON keys in written
//! order; the bytes and the Content-Type each request carries, the errors at load.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use locust_scenario::{load, load_str, RenderedRequest, Scenarios, UserVars};
use rand::SeedableRng;

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(7)
}

/// The one class's `n`th request (on_start, on_stop, then the tasks'), rendered for user 9.
fn render(s: &Scenarios, n: usize) -> RenderedRequest {
    s.classes[0].requests()[n]
        .render(&mut UserVars::new(9), &mut rng())
        .unwrap()
}

fn body(r: &RenderedRequest) -> String {
    String::from_utf8_lossy(r.body.as_deref().unwrap_or_default()).into_owned()
}

fn content_type(r: &RenderedRequest) -> Option<&str> {
    r.headers.get("content-type").map(|v| v.to_str().unwrap())
}

/// A class `A` whose tasks are these one-line requests.
fn class(requests: &[&str]) -> String {
    let mut text = String::from("[users.A]\n");
    for (i, r) in requests.iter().enumerate() {
        text.push_str(&format!(
            "[[users.A.tasks]]\nname = \"t{i}\"\nrequest = {{ {r} }}\n"
        ));
    }
    text
}

fn err(text: &str) -> String {
    match load_str("s.toml", text) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error for:\n{text}"),
    }
}

/// A folder with `s.toml` and the given files; `load`ed through its path.
struct Dir {
    dir: tempfile::TempDir,
}

impl Dir {
    fn new(files: &[(&str, &[u8])]) -> Dir {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        Dir { dir }
    }

    fn scenario(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// The loaded scenario, or the error's text.
    fn load(&self, text: &str) -> Result<Scenarios, String> {
        load(&[self.scenario(text)]).map_err(|e| e.to_string())
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The boundary of a multipart Content-Type.
fn boundary(r: &RenderedRequest) -> String {
    content_type(r)
        .and_then(|ct| ct.strip_prefix("multipart/form-data; boundary="))
        .unwrap_or_else(|| panic!("not multipart: {:?}", r.headers))
        .to_string()
}

// ---------------------------------------------------------------------------------------
// form
// ---------------------------------------------------------------------------------------

/// As `requests.post(url, data={...})`: written order, quote_plus, lists repeated.
#[test]
fn a_form_is_urlencoded_in_written_order_like_requests() {
    let s = load_str(
        "s.toml",
        &class(&[
            r#"method = "POST", path = "/login", form = { "user[email]" = "a b@x.org", password = "p*~w", n = 1, ok = true, tag = ["a", "b"] }"#,
        ]),
    )
    .unwrap();
    let r = render(&s, 0);
    assert_eq!(
        body(&r),
        "user%5Bemail%5D=a+b%40x.org&password=p%2A~w&n=1&ok=true&tag=a&tag=b"
    );
    assert_eq!(content_type(&r), Some("application/x-www-form-urlencoded"));
    let again = render(&s, 0);
    assert_eq!(
        again.body.as_ref().unwrap().as_ptr(),
        r.body.as_ref().unwrap().as_ptr(),
        "a form without templates is encoded once at load"
    );
}

#[test]
fn form_values_are_templates() {
    let s = load_str(
        "s.toml",
        &class(&[r#"method = "POST", path = "/f", form = { email = "{{ user_id }}@x.org", n = "{{ counter() }} {{ counter() }}", fixed = "a&b" }"#]),
    )
    .unwrap();
    let r = render(&s, 0);
    assert_eq!(body(&r), "email=9%40x.org&n=1+2&fixed=a%26b");
    assert_eq!(content_type(&r), Some("application/x-www-form-urlencoded"));
}

/// A class or request Content-Type header wins over the form's, as in requests.
#[test]
fn a_content_type_header_wins_over_the_forms() {
    let text = format!(
        "[users.A]\nheaders = {{ Content-Type = \"text/x-class\" }}\n{}",
        class(&[
            r#"path = "/a", form = { a = "1" }"#,
            r#"path = "/b", form = { a = "1" }, headers = { content-type = "text/x-request" }"#,
        ])
        .trim_start_matches("[users.A]\n")
    );
    let s = load_str("s.toml", &text).unwrap();
    assert_eq!(content_type(&render(&s, 0)), Some("text/x-class"));
    assert_eq!(content_type(&render(&s, 1)), Some("text/x-request"));
}

/// A templated class Content-Type counts as a header that sets it (json keeps it), and
/// still gives way to the multipart type of an upload.
#[test]
fn a_templated_class_content_type() {
    let dir = Dir::new(&[("f.bin", b"F")]);
    let text = format!(
        "[users.A]\nheaders = {{ Content-Type = \"application/vnd.u{{{{ user_id }}}}+json\" }}\n{}",
        class(&[
            r#"method = "POST", path = "/j", json = { a = 1 }"#,
            r#"method = "POST", path = "/f", form = { a = 1 }"#,
            r#"method = "POST", path = "/u", files = { f = "f.bin" }"#,
        ])
        .trim_start_matches("[users.A]\n")
    );
    let s = dir.load(&text).unwrap();
    assert_eq!(
        content_type(&render(&s, 0)),
        Some("application/vnd.u9+json")
    );
    assert_eq!(
        content_type(&render(&s, 1)),
        Some("application/vnd.u9+json")
    );
    let upload = render(&s, 2);
    assert_eq!(upload.headers.get_all("content-type").iter().count(), 1);
    boundary(&upload);
}

/// requests sends no body and no Content-Type for `data={}`.
#[test]
fn an_empty_form_sends_no_body() {
    let s = load_str(
        "s.toml",
        &class(&[r#"method = "POST", path = "/", form = {}"#]),
    )
    .unwrap();
    let r = render(&s, 0);
    assert!(r.body.is_none());
    assert_eq!(content_type(&r), None);
}

#[test]
fn form_errors_name_line_and_key() {
    let e = err(&class(&[r#"path = "/", form = { a = { b = 1 } }"#]));
    assert!(
        e.starts_with("s.toml:4:38: `users.A.tasks[0].request.form.a`: a form value is a string, number or boolean, or a list of them"),
        "{e}"
    );
    let e = err(&class(&[r#"path = "/", form = { a = "{{ nope }}" }"#]));
    assert!(
        e.contains(
            "`users.A.tasks[0].request.form.a`: class A, task t0: template uses variable `nope`"
        ),
        "{e}"
    );
    let e = err(&class(&[
        r#"path = "/", json = { a = 1 }, form = { a = "1" }"#,
    ]));
    assert!(
        e.starts_with(
            "s.toml:4:50: `users.A.tasks[0].request.form`: use either `json` or `form`, not both"
        ),
        "{e}"
    );
    let e = err(&class(&[r#"path = "/", form = { a = "1" }, body = "x""#]));
    assert!(
        e.contains("`users.A.tasks[0].request.body`: use either `form` or `body`, not both"),
        "{e}"
    );
    let e = err(&class(&[r#"path = "/", json = { a = 1 }, body = "x""#]));
    assert!(e.contains("use either `json` or `body`, not both"), "{e}");
}

// ---------------------------------------------------------------------------------------
// files
// ---------------------------------------------------------------------------------------

/// `requests.post(url, data={"title": "a b", "n": "1"}, files={"upload": ("photo.png",
/// open("data/photo.png", "rb"), "image/png")})`: fields first, then the file.
#[test]
fn files_are_multipart_with_form_fields_first_like_requests() {
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\xffbinary";
    let dir = Dir::new(&[("data/photo.png", png)]);
    let s = dir
        .load(&class(&[
            r#"method = "POST", path = "/upload", files = { upload = { path = "data/photo.png", filename = "photo.png", content_type = "image/png" } }, form = { title = "a b", n = 1 }"#,
        ]))
        .unwrap();
    let r = render(&s, 0);
    let b = boundary(&r);
    assert_eq!(b.len(), 32, "{b}");
    assert!(b
        .bytes()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let mut expected = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\na b\r\n--{b}\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n1\r\n--{b}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"photo.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    expected.extend_from_slice(png);
    expected.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    assert_eq!(r.body.as_deref().unwrap(), &expected[..]);

    let again = render(&s, 0);
    assert_eq!(boundary(&again), b, "built once at load");
    assert_eq!(
        again.body.as_ref().unwrap().as_ptr(),
        r.body.as_ref().unwrap().as_ptr(),
        "and shared by every request"
    );
}

/// A path alone (filename: its last part, no part Content-Type, as requests sends an
/// opened file), a list (the field once per file), paths relative to the scenario's
/// folder, the same file read once for several requests.
#[test]
fn file_entries_in_short_and_list_form() {
    let dir = Dir::new(&[("in/a.txt", b"AAA"), ("b.csv", b"x,y\n")]);
    let s = dir
        .load(&class(&[
            r#"method = "POST", path = "/1", files = { doc = "in/a.txt" }"#,
            r#"method = "POST", path = "/2", files = { docs = ["in/a.txt", { path = "b.csv", content_type = "text/csv" }], other = { path = "in/a.txt", filename = "renamed \"x\".txt" } }"#,
        ]))
        .unwrap();
    let r = render(&s, 0);
    let b = boundary(&r);
    assert_eq!(
        body(&r),
        format!("--{b}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.txt\"\r\n\r\nAAA\r\n--{b}--\r\n")
    );
    let r = render(&s, 1);
    let b = boundary(&r);
    assert_eq!(
        body(&r),
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"docs\"; filename=\"a.txt\"\r\n\r\nAAA\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"docs\"; filename=\"b.csv\"\r\nContent-Type: text/csv\r\n\r\nx,y\n\r\n\
             --{b}\r\nContent-Disposition: form-data; name=\"other\"; filename=\"renamed %22x%22.txt\"\r\n\r\nAAA\r\n--{b}--\r\n"
        )
    );
}

/// With a templated field the body is built per request, each with its own boundary.
#[test]
fn templated_form_fields_make_a_body_per_request() {
    let dir = Dir::new(&[("f.bin", b"F")]);
    let s = dir
        .load(&class(&[
            r#"method = "POST", path = "/u", form = { n = "{{ counter() }}" }, files = { f = "f.bin" }"#,
        ]))
        .unwrap();
    let step = s.classes[0].requests()[0];
    let mut vars = UserVars::new(0);
    let mut boundaries = Vec::new();
    for n in 1..=2 {
        let r = step.render(&mut vars, &mut rng()).unwrap();
        let b = boundary(&r);
        assert_eq!(
            body(&r),
            format!("--{b}\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n{n}\r\n--{b}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"f.bin\"\r\n\r\nF\r\n--{b}--\r\n")
        );
        boundaries.push(b);
    }
    assert_ne!(
        boundaries[0], boundaries[1],
        "a fresh boundary per request, as requests"
    );
}

/// A class Content-Type (an API's `application/json`) does not break an upload: the
/// multipart type replaces it; a request's own Content-Type header is an error.
#[test]
fn the_multipart_content_type_replaces_a_class_header() {
    let dir = Dir::new(&[("f.bin", b"F")]);
    let text = format!(
        "[users.A]\nheaders = {{ Content-Type = \"application/json\", X-Tenant = \"t{{{{ user_id }}}}\" }}\n{}",
        class(&[
            r#"method = "POST", path = "/static", files = { f = "f.bin" }"#,
            r#"method = "POST", path = "/dynamic", files = { f = "f.bin" }, form = { u = "{{ user_id }}" }"#,
        ])
        .trim_start_matches("[users.A]\n")
    );
    let s = dir.load(&text).unwrap();
    for n in 0..2 {
        let r = render(&s, n);
        assert_eq!(r.headers.get_all("content-type").iter().count(), 1);
        boundary(&r);
        assert_eq!(r.headers["x-tenant"], "t9");
    }
    let e = dir
        .load(&class(&[
            r#"method = "POST", path = "/", files = { f = "f.bin" }, headers = { Content-Type = "multipart/form-data" }"#,
        ]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(":4:94: `users.A.tasks[0].request.headers.Content-Type`: this request's Content-Type is set by its body: `files` sets it"),
        "{e}"
    );
}

#[test]
fn file_errors_name_file_line_key_and_path() {
    let dir = Dir::new(&[("there.bin", b"x")]);
    let e = dir
        .load(&class(&[
            r#"path = "/", files = { upload = { path = "data/missing.png" } }"#,
        ]))
        .unwrap_err()
        .to_string();
    let folder = dir.path().display().to_string();
    assert!(
        e.contains(&format!(
            "s.toml:4:44: `users.A.tasks[0].request.files.upload`: cannot read file \"data/missing.png\" ({folder}/data/missing.png): No such file or directory"
        )),
        "{e}"
    );
    assert!(
        e.ends_with("a path is relative to the folder of the scenario file"),
        "{e}"
    );
    let e = dir
        .load(&class(&[
            r#"path = "/", files = { upload = { path = "there.bin", filenme = "x" } }"#,
        ]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`users.A.tasks[0].request.files.upload.filenme`: unknown key `filenme`; did you mean `filename`? expected one of: path, filename, content_type"),
        "{e}"
    );
    let e = dir
        .load(&class(&[
            r#"path = "/", files = { upload = { filename = "x" } }"#,
        ]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`users.A.tasks[0].request.files.upload`: `path` is missing"),
        "{e}"
    );
    let e = dir
        .load(&class(&[r#"path = "/", files = { upload = 3 }"#]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`users.A.tasks[0].request.files.upload`: give a path"),
        "{e}"
    );
    let e = dir
        .load(&class(&[
            r#"path = "/", files = { u = { path = "there.bin", content_type = "a\nb" } }"#,
        ]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`users.A.tasks[0].request.files.u.content_type`: invalid content_type"),
        "{e}"
    );
    let e = dir
        .load(&class(&[r#"path = "/", files = {}"#]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`users.A.tasks[0].request.files`: `files` is empty"),
        "{e}"
    );
    let e = dir
        .load(&class(&[
            r#"path = "/", files = { u = "there.bin" }, json = { a = 1 }"#,
        ]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`users.A.tasks[0].request.json`: use either `files` or `json`, not both"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------
// body_file
// ---------------------------------------------------------------------------------------

/// The file's bytes as they are: not a template, no Content-Type unless given.
#[test]
fn body_file_is_sent_as_is() {
    let raw: &[u8] = b"{\"a\": \"{{ not a template }}\"}\n\xff";
    let dir = Dir::new(&[("payload.json", raw)]);
    let text = format!(
        "[users.A]\nheaders = {{ Content-Type = \"text/x-class\" }}\n{}",
        class(&[
            r#"method = "PUT", path = "/1", body_file = "payload.json""#,
            r#"method = "PUT", path = "/2", body_file = { path = "payload.json", content_type = "application/json" }"#,
        ])
        .trim_start_matches("[users.A]\n")
    );
    let s = dir.load(&text).unwrap();
    let (one, two) = (render(&s, 0), render(&s, 1));
    assert_eq!(one.body.as_deref().unwrap(), raw);
    assert_eq!(two.body.as_deref().unwrap(), raw);
    assert_eq!(
        one.body.as_ref().unwrap().as_ptr(),
        two.body.as_ref().unwrap().as_ptr(),
        "read once"
    );
    assert_eq!(content_type(&one), Some("text/x-class"));
    assert_eq!(content_type(&two), Some("application/json"));

    let s = dir
        .load(&class(&[r#"path = "/", body_file = "payload.json""#]))
        .unwrap();
    assert_eq!(content_type(&render(&s, 0)), None);
}

#[test]
fn body_file_errors() {
    let dir = Dir::new(&[("p.bin", b"x")]);
    let e = dir
        .load(&class(&[r#"path = "/", body_file = "nope.bin""#]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "s.toml:4:37: `users.A.tasks[0].request.body_file`: cannot read file \"nope.bin\""
        ),
        "{e}"
    );
    let e = dir
        .load(&class(&[
            r#"path = "/", body_file = { path = "p.bin", filename = "x" }"#,
        ]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`users.A.tasks[0].request.body_file.filename`: unknown key `filename`; expected one of: path, content_type"), "{e}");
    let e = dir
        .load(&class(&[r#"path = "/", body_file = { path = "p.bin", content_type = "a/b" }, headers = { Content-Type = "c/d" }"#]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`users.A.tasks[0].request.headers.Content-Type`: this request's Content-Type is set by its body: `body_file.content_type` sets it"), "{e}");
    let e = dir
        .load(&class(&[r#"path = "/", body_file = "p.bin", body = "x""#]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("use either `body_file` or `body`, not both"),
        "{e}"
    );
    let e = dir
        .load(&class(&[r#"path = "/", body_file = """#]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`users.A.tasks[0].request.body_file`: the path is empty"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------
// json
// ---------------------------------------------------------------------------------------

/// Keys go out in written order, as a Python dict does (they came out sorted before).
#[test]
fn json_keys_keep_their_written_order() {
    let s = load_str(
        "s.toml",
        &class(&[
            r#"method = "POST", path = "/s", json = { b = 1, a = 2 }"#,
            r#"method = "POST", path = "/d", json = { z = "{{ user_id }}", a = { y = 1, b = [2, { d = 3, c = 4 }] } }"#,
        ]),
    )
    .unwrap();
    assert_eq!(body(&render(&s, 0)), r#"{"b":1,"a":2}"#);
    assert_eq!(
        body(&render(&s, 1)),
        r#"{"z":"9","a":{"y":1,"b":[2,{"d":3,"c":4}]}}"#
    );

    let text = "[users.A]\n[[users.A.tasks]]\nname = \"t\"\n[users.A.tasks.request]\npath = \"/\"\n[users.A.tasks.request.json]\nzeta = 1\nalpha = { gamma = 2, beta = 3 }\n";
    let s = load_str("s.toml", text).unwrap();
    assert_eq!(
        body(&render(&s, 0)),
        r#"{"zeta":1,"alpha":{"gamma":2,"beta":3}}"#
    );
}

#[test]
fn json_dates_are_text_and_nan_is_refused() {
    let s = load_str(
        "s.toml",
        &class(&[r#"path = "/", json = { at = 1979-05-27T07:32:00Z, day = 1979-05-27 }"#]),
    )
    .unwrap();
    assert_eq!(
        body(&render(&s, 0)),
        r#"{"at":"1979-05-27T07:32:00Z","day":"1979-05-27"}"#
    );
    let e = err(&class(&[r#"path = "/", json = { x = nan }"#]));
    assert!(
        e.contains("`users.A.tasks[0].request.json.x`: NaN is not a JSON number"),
        "{e}"
    );
}
