//! Unit tests of the body module: form encoding against Python's `urlencode`, how a
//! body's Content-Type meets the request's headers, and per-request multipart rendering.

use super::*;

fn no_templates() -> (Environment<'static>, Value) {
    (Environment::new(), Value::UNDEFINED)
}

/// `urllib.parse.urlencode({"a b": "*~ é+&=/", "user[email]": "x@y"})` in Python 3.
#[test]
fn form_encoding_is_pythons_urlencode() {
    let fields = [("a b", "*~ é+&=/"), ("user[email]", "x@y")];
    assert_eq!(
        form::encode(&fields),
        "a+b=%2A~+%C3%A9%2B%26%3D%2F&user%5Bemail%5D=x%40y"
    );
    assert_eq!(form::encode::<&str>(&[]), "");
    assert_eq!(form::encode(&[("k", "")]), "k=");
}

#[test]
fn a_default_content_type_yields_to_any_header() {
    let json = HeaderValue::from_static("application/json");
    let mut headers = HeaderMap::new();
    let mut dynamic = Vec::new();
    ContentType::Default(json.clone()).apply(&mut headers, &mut dynamic, false);
    assert_eq!(headers[CONTENT_TYPE], "application/json");

    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    ContentType::Default(json.clone()).apply(&mut headers, &mut dynamic, false);
    assert_eq!(headers[CONTENT_TYPE], "text/plain");

    let mut headers = HeaderMap::new();
    let mut dynamic = vec![(CONTENT_TYPE, Template::Dynamic("t".into()))];
    ContentType::Default(json.clone()).apply(&mut headers, &mut dynamic, false);
    assert!(headers.get(CONTENT_TYPE).is_none());
    assert_eq!(dynamic.len(), 1);

    let mut headers = HeaderMap::new();
    ContentType::Default(json).apply(&mut headers, &mut Vec::new(), true);
    assert!(
        headers.get(CONTENT_TYPE).is_none(),
        "set by a header kept elsewhere"
    );
}

#[test]
fn a_replacing_content_type_takes_the_place_of_class_headers() {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let mut dynamic = vec![(CONTENT_TYPE, Template::Dynamic("t".into()))];
    ContentType::Replace(HeaderValue::from_static("image/png")).apply(
        &mut headers,
        &mut dynamic,
        true,
    );
    assert_eq!(headers[CONTENT_TYPE], "image/png");
    assert!(dynamic.is_empty());

    let mut dynamic = vec![(CONTENT_TYPE, Template::Dynamic("t".into()))];
    ContentType::PerRequest.apply(&mut headers, &mut dynamic, false);
    assert!(headers.get(CONTENT_TYPE).is_none() && dynamic.is_empty());

    let mut headers = HeaderMap::new();
    ContentType::None.apply(&mut headers, &mut Vec::new(), false);
    assert!(headers.is_empty());
}

#[test]
fn a_templated_multipart_body_gets_a_fresh_boundary_each_request() {
    let mut env = Environment::new();
    env.add_template("v", "{{ who }}").unwrap();
    let ctx = minijinja::context! { who => "me" };
    let mut parts = Multipart::default();
    parts.field("who", Template::Dynamic("v".into()));
    parts.file("f", "a.txt", Some("text/plain"), Bytes::from_static(b"A"));
    let body = Body::Multipart(parts);
    assert!(!body.is_static());

    let mut seen = Vec::new();
    for _ in 0..2 {
        let mut headers = HeaderMap::new();
        let bytes = body.render(&env, &ctx, &mut headers).unwrap().unwrap();
        let ct = headers[CONTENT_TYPE].to_str().unwrap().to_string();
        let boundary = ct
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap()
            .to_string();
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"who\"\r\n\r\nme\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nA\r\n--{boundary}--\r\n"
        );
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
        seen.push(boundary);
    }
    assert_ne!(seen[0], seen[1]);
}

#[test]
fn static_and_templated_bodies_render() {
    let (env, ctx) = no_templates();
    let mut headers = HeaderMap::new();
    assert_eq!(Body::None.render(&env, &ctx, &mut headers).unwrap(), None);
    let fixed = Bytes::from_static(b"x");
    let out = Body::Static(fixed.clone())
        .render(&env, &ctx, &mut headers)
        .unwrap()
        .unwrap();
    assert_eq!(out.as_ptr(), fixed.as_ptr(), "shared, not copied");
    let form = Body::Form(vec![
        ("a b".into(), Template::Static("1 2".into())),
        ("a b".into(), Template::Static("~*".into())),
    ]);
    let out = form.render(&env, &ctx, &mut headers).unwrap().unwrap();
    assert_eq!(&out[..], b"a+b=1+2&a+b=~%2A");
    assert!(
        headers.is_empty(),
        "only a multipart body sets a header when rendered"
    );
}
