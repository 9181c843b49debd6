//! Checks and extractions end to end: scenario text loaded, a response judged by the
//! step, what the step asks of the engine (`reads_body`), and the variables left for the
//! next steps — the login-with-CSRF flow and the docs-crawling flow of Locust's examples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use locust_scenario::{load_str, Outcome, ResponseView, Step, UserVars};

const LOGIN: &str = r#"
[users.Web]
host = "http://localhost:8080"

[[users.Web.on_start]]
path = "/login"
extract = [{ var = "csrf", css = "input[name=authenticity_token]", attr = "value" }]

[[users.Web.on_start]]
method = "POST"
path = "/login"
body = "authenticity_token={{ csrf }}"
checks = [
  { url_contains = "welcome", message = "Login failed" },
  { cookie = "session" },
]
extract = [{ var = "sid", cookie = "session" }]

[[users.Web.tasks]]
name = "toc"
request = { path = "/docs/", extract = [{ var = "toc_urls", css = "a.internal", attr = "href", all = true }] }

[[users.Web.tasks]]
name = "page"
request = { path = "{{ toc_urls | random }}", name = "/docs/[page]", checks = [{ status = [200, 304] }, { expr = "'<h1>' in text", message = "no title on {{ url }}" }] }

[[users.Web.tasks]]
name = "api"
[users.Web.tasks.request]
path = "/api/items"
checks = [
  { json = "/count", ge = 1, lt = 1000 },
  { json = "/items/0/tags", contains = "new" },
  { header = "Content-Type", matches = "json" },
  { json = "/state", in = ["ok", "degraded"], if = "status == 200" },
]
extract = [{ var = "item", json = "/items/*/id", pick = "random" }]
"#;

fn step(steps: &[locust_scenario::Action], i: usize) -> &Step {
    steps[i].as_request().expect("a request step")
}

fn judge(
    step: &Step,
    status: u16,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    vars: &mut UserVars,
) -> Outcome {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let view = ResponseView {
        status,
        reason: "OK",
        url,
        headers: &map,
        body: body.as_bytes(),
    };
    step.evaluate_named("name", &view, vars)
}

#[test]
fn login_then_crawl() {
    let scenarios = load_str("web.toml", LOGIN).unwrap();
    let web = scenarios.get("Web").unwrap();
    let mut vars = UserVars::new(0);

    // GET /login: the form's token, read from the HTML.
    let form = step(&web.on_start, 0);
    assert!(form.reads_body());
    let page = r#"<form><input type="hidden" name="authenticity_token" value="t0k3n"></form>"#;
    let got = judge(
        form,
        200,
        "http://localhost:8080/login",
        &[],
        page,
        &mut vars,
    );
    assert_eq!(got, Outcome::Success);
    assert_eq!(vars.get("csrf").unwrap().as_str(), Some("t0k3n"));

    // POST /login: judged on the final URL and the cookie, never on the body.
    let login = step(&web.on_start, 1);
    assert!(!login.reads_body());
    let cookie = [("set-cookie", "session=s1; Path=/; HttpOnly")];
    let welcome = "http://localhost:8080/welcome";
    assert_eq!(
        judge(login, 200, welcome, &cookie, "", &mut vars),
        Outcome::Success
    );
    assert_eq!(vars.get("sid").unwrap().as_str(), Some("s1"));
    let back = "http://localhost:8080/login?failed=1";
    assert_eq!(
        judge(login, 200, back, &cookie, "", &mut vars),
        Outcome::Failure("CatchResponseError('Login failed')".into())
    );
    assert!(
        vars.get("sid").is_none(),
        "a failed step drops what it extracts"
    );
    assert_eq!(
        judge(login, 200, welcome, &[], "", &mut vars),
        Outcome::Failure("CatchResponseError('cookie session is not set by the response')".into())
    );

    // The crawl: every internal link, then one page at random.
    let toc = &web.tasks.iter().find(|t| t.name == "toc").unwrap().steps;
    let links = r#"<a class="internal" href="/docs/a.html">A</a> <a href="/x">x</a> <a class="internal" href="/docs/b.html">B</a>"#;
    assert_eq!(
        judge(
            step(toc, 0),
            200,
            "http://localhost:8080/docs/",
            &[],
            links,
            &mut vars
        ),
        Outcome::Success
    );
    assert_eq!(
        vars.get("toc_urls").unwrap().to_string(),
        r#"["/docs/a.html", "/docs/b.html"]"#
    );
    let page_task = web.tasks.iter().find(|t| t.name == "page").unwrap();
    assert!(page_task.runnable(&vars));
    let page = step(&page_task.steps, 0);
    assert!(page.reads_body(), "the expr reads `text`");
    let mut rng = rand::rng();
    let req = page.render(&mut vars, &mut rng).unwrap();
    assert!(
        req.url == "/docs/a.html" || req.url == "/docs/b.html",
        "{}",
        req.url
    );
    let url = "http://localhost:8080/docs/a.html";
    assert_eq!(
        judge(page, 200, url, &[], "<h1>A</h1>", &mut vars),
        Outcome::Success
    );
    assert_eq!(
        judge(page, 302, url, &[], "<h1>A</h1>", &mut vars),
        Outcome::Failure(
            "CatchResponseError('unexpected status code 302, expected 200 or 304')".into()
        )
    );
    assert_eq!(
        judge(page, 200, url, &[], "<p>no title</p>", &mut vars),
        Outcome::Failure(
            "CatchResponseError('no title on http://localhost:8080/docs/a.html')".into()
        )
    );
    // A crawl that finds no link leaves the list unset, and the page task waits.
    assert_eq!(
        judge(
            step(toc, 0),
            200,
            "http://localhost:8080/docs/",
            &[],
            "<p/>",
            &mut vars
        ),
        Outcome::Success
    );
    assert!(!page_task.runnable(&vars));
}

#[test]
fn api_checks() {
    let scenarios = load_str("web.toml", LOGIN).unwrap();
    let web = scenarios.get("Web").unwrap();
    let api = step(
        &web.tasks.iter().find(|t| t.name == "api").unwrap().steps,
        0,
    );
    let mut vars = UserVars::new(0);
    let json = [("content-type", "application/json")];
    let good = r#"{"count": 2, "state": "ok", "items": [{"id": 4, "tags": ["new"]}, {"id": 5, "tags": []}]}"#;
    assert_eq!(
        judge(api, 200, "http://h/api/items", &json, good, &mut vars),
        Outcome::Success
    );
    let item = vars.get("item").unwrap().to_string();
    assert!(item == "4" || item == "5", "{item}");
    let cases = [
        (
            good.replace("\"count\": 2", "\"count\": 0"),
            "CatchResponseError('JSON /count is 0, expected >= 1')",
        ),
        (
            good.replace("[\"new\"]", "[\"old\"]"),
            r#"CatchResponseError('JSON /items/0/tags is ["old"], expected to contain "new"')"#,
        ),
        (
            good.replace("\"ok\"", "\"down\""),
            r#"CatchResponseError('JSON /state is "down", expected one of "ok", "degraded"')"#,
        ),
        (
            good.replace("\"id\": 4", "\"x\": 4")
                .replace("\"id\": 5", "\"x\": 5"),
            "CatchResponseError('extract item: no value at JSON pointer /items/*/id')",
        ),
    ];
    for (body, want) in cases {
        assert_eq!(
            judge(api, 200, "http://h/api/items", &json, &body, &mut vars),
            Outcome::Failure(want.into()),
            "{body}"
        );
    }
    assert_eq!(
        judge(
            api,
            200,
            "http://h/api/items",
            &[("content-type", "text/html")],
            good,
            &mut vars
        ),
        Outcome::Failure(
            r#"CatchResponseError('header content-type is "text/html", expected to match "json"')"#
                .into()
        )
    );
}

#[test]
fn load_errors_name_the_key() {
    let bad = |entry: &str| {
        let text = format!("[users.A]\n[[users.A.tasks]]\nrequest = {{ path = \"/\", {entry} }}\n");
        load_str("s.toml", &text).unwrap_err().to_string()
    };
    let e = bad("checks = [{ json = \"/a\", equalz = 1 }]");
    assert!(
        e.starts_with("s.toml:3:50: `users.A.tasks[0].request.checks[0].equalz`: unknown key `equalz` in a check; did you mean `equals`?"),
        "{e}"
    );
    let e = bad("extract = [{ var = \"x\", css = \"a\", atr = \"href\" }]");
    assert!(
        e.starts_with("s.toml:3:60: `users.A.tasks[0].request.extract[0].atr`: unknown key `atr` in an extract; did you mean `attr`?"),
        "{e}"
    );
    let e = bad("checks = [{ expr = \"jsn.a == 1\" }]");
    assert!(e.contains("`users.A.tasks[0].request.checks[0]`: `expr` uses `jsn`, which a check cannot read; did you mean `json`?"), "{e}");
    let e = bad("extract = [{ var = \"x\", json = \"/a\", pick = \"any\" }]");
    assert!(
        e.contains("`pick = \"any\"` is not one of \"first\", \"last\", \"random\""),
        "{e}"
    );
}

const USER_STATE: &str = r#"
[users.U]
host = "http://h"
vars = { want = "ok" }

[[users.U.tasks]]
name = "login"
request = { path = "/login", extract = [{ var = "token", json = "/token" }] }

[[users.U.tasks]]
name = "who"
[users.U.tasks.request]
path = "/me"
checks = [
  { expr = "json.status == want" },
  { expr = "json.token == token", if = "user_id == 0", message = "token {{ json.token }}, expected {{ token }} (user {{ user_id }})" },
]
"#;

#[test]
fn checks_read_the_users_variables() {
    let scenarios = load_str("u.toml", USER_STATE).unwrap();
    let u = scenarios.get("U").unwrap();
    let who = &u.tasks.iter().find(|t| t.name == "who").unwrap().steps;
    let who = step(who, 0);
    // What a check reads is required before the request is sent, as a path's variable.
    assert_eq!(who.needs(), ["token", "want"]);
    let mut vars = UserVars::new(0);
    vars.set("want", "ok");
    vars.set("token", "t1");
    let json = [("content-type", "application/json")];
    let mut at =
        |body: &str, vars: &mut UserVars| judge(who, 200, "http://h/me", &json, body, vars);
    assert_eq!(
        at(r#"{"status": "ok", "token": "t1"}"#, &mut vars),
        Outcome::Success
    );
    assert_eq!(
        at(r#"{"status": "bad", "token": "t1"}"#, &mut vars),
        Outcome::Failure("CatchResponseError('expr `json.status == want` is false')".into())
    );
    assert_eq!(
        at(r#"{"status": "ok", "token": "t2"}"#, &mut vars),
        Outcome::Failure("CatchResponseError('token t2, expected t1 (user 0)')".into())
    );
    let mut other = UserVars::new(1);
    other.set("want", "ok");
    other.set("token", "t1");
    assert_eq!(
        at(r#"{"status": "ok", "token": "t2"}"#, &mut other),
        Outcome::Success,
        "`if` reads user_id"
    );
}

#[test]
fn check_variables_are_validated_at_load() {
    let load = |vars: &str, check: &str| {
        let text = format!(
            "[users.A]\nvars = {{ {vars} }}\n[[users.A.tasks]]\nrequest = {{ path = \"/\", extract = [{{ var = \"got\", json = \"/x\" }}], checks = [{check}] }}\n"
        );
        load_str("s.toml", &text)
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        load("want = 'x'", "{ expr = \"json.a == want and got\" }"),
        Ok(())
    );
    // An unknown name is a template's undefined variable, with a did-you-mean.
    let e = load("want = 'x'", "{ expr = \"json.a == wnat\" }").unwrap_err();
    assert!(
        e.contains("`users.A.tasks[0].request.checks[0].expr`: class A, task "),
        "{e}"
    );
    assert!(
        e.contains("template uses variable `wnat`, which no step of A extracts and which is not a builtin; did you mean `want`?"),
        "{e}"
    );
    let e = load("want = 'x'", "{ json = \"/a\", message = \"{{ nope }}\" }").unwrap_err();
    assert!(e.contains("template uses variable `nope`"), "{e}");
    // A name close to a response name is taken for its typo.
    let e = load("want = 'x'", "{ expr = \"jsn.a == want\" }").unwrap_err();
    assert!(
        e.contains("`expr` uses `jsn`, which a check cannot read; did you mean `json`?"),
        "{e}"
    );
    // A response name wins: a class variable of the same name cannot be read there.
    let e = load("status = 'x'", "{ expr = \"status == 200\" }").unwrap_err();
    assert!(
        e.contains("`users.A.tasks[0].request.checks[0].expr`: `expr` reads `status`, which in a check is the response's `status`"),
        "{e}"
    );
    assert_eq!(
        load("status = 'x'", "{ expr = \"'status' in text\" }"),
        Ok(())
    );
    // `vars.KEY` needs its --var, as in a request template.
    let e = load("want = 'x'", "{ expr = \"json.a == vars.KEY\" }").unwrap_err();
    assert!(e.contains("`vars.KEY` is not set"), "{e}");
    assert_eq!(
        load(
            "want = 'x'",
            "{ expr = \"json.a == vars.KEY | default('k')\" }"
        ),
        Ok(())
    );
    // Expected values are compared as written; the message points at `expr`.
    let e = load("want = 'x'", "{ json = \"/a\", equals = \"{{ want }}\" }").unwrap_err();
    assert!(e.contains("{ expr = \"json.name == me.name\" }"), "{e}");
}

#[test]
fn a_check_reads_the_command_lines_vars() {
    let options = locust_scenario::LoadOptions {
        vars: [("ENV".to_string(), "prod".to_string())].into(),
    };
    let text = "[users.A]\n[[users.A.tasks]]\nrequest = { path = \"/\", checks = [{ expr = \"json.env == vars.ENV\", message = \"env {{ json.env }}, expected {{ vars.ENV }}\" }] }\n";
    let scenarios = locust_scenario::load_str_with("s.toml", text, &options).unwrap();
    let a = scenarios.get("A").unwrap();
    let s = step(&a.tasks[0].steps, 0);
    assert!(s.needs().is_empty(), "`vars` is a builtin");
    let mut vars = UserVars::new(0);
    assert_eq!(
        judge(s, 200, "http://h/", &[], r#"{"env": "prod"}"#, &mut vars),
        Outcome::Success
    );
    assert_eq!(
        judge(s, 200, "http://h/", &[], r#"{"env": "dev"}"#, &mut vars),
        Outcome::Failure("CatchResponseError('env dev, expected prod')".into())
    );
}
