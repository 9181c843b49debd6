//! Every case of the Locust failure-text interop test: reason phrases and status lines,
//! bodies cut short, conflicting lengths, closes and resets, header limits, read
//! timeouts, compressed bodies, redirects, an early 413, a refused port and an
//! unresolvable host, each with the answer its route gives.

use std::time::Duration;

use super::super::hostile::{brotli, deflate_raw, deflate_zlib, gzip, Behaviour};
use super::*;

/// Every case; `dead` is a 127.0.0.1 port nothing listens on.
pub fn table(dead: u16) -> Table {
    let body = b"hello world ".repeat(10);
    let gz = gzip(&body);
    let mut t = Table::default();

    // Reason phrases and status codes (the research's `R()` answers, body `abc`).
    t.get("/s/200", r(b"HTTP/1.1 200 OK", &[], b"hello"), OK);
    t.get("/s/404", status(b"HTTP/1.1 404 File not found"), FAIL);
    t.get("/s/404?x=1", status(b"HTTP/1.1 404 File not found"), FAIL);
    t.get("/s/404n", status(b"HTTP/1.1 404 File not found"), FAIL)
        .name = Some("custom-name");
    t.get("/s/503q", status(b"HTTP/1.1 503 Oops, \"bad\""), FAIL);
    t.get("/s/500nr", status(b"HTTP/1.1 500"), FAIL);
    t.get("/s/500sp", status(b"HTTP/1.1 500 "), FAIL);
    t.get("/s/418", status(b"HTTP/1.1 418 I'm a teapot"), FAIL);
    t.get("/s/esc2", status(b"HTTP/1.1 400 it's"), FAIL);
    t.get("/s/latin1", status(b"HTTP/1.1 404 Caf\xe9 \xa0x"), FAIL);
    t.get("/s/utf8", status(b"HTTP/1.1 404 Caf\xc3\xa9"), FAIL);
    t.get(
        "/s/esc",
        status(b"HTTP/1.1 400 a\\b\tc'd\"e\x01f\x7fg"),
        FAIL,
    );
    t.get("/s/spaced", status(b"HTTP/1.1 404   Spaced  out  "), FAIL);
    t.get("/s/dblspace", status(b"HTTP/1.1  404 X"), FAIL);
    t.get("/s/tabreason", status(b"HTTP/1.1 404\tTabbed"), FAIL);
    t.get("/s/http10", status(b"HTTP/1.0 404 Not Found"), FAIL);
    let www = b"WWW-Authenticate: Basic realm=\"x\"".as_slice();
    t.get(
        "/s/401",
        r(b"HTTP/1.1 401 Unauthorized", &[www], b"abc"),
        FAIL,
    );
    t.get("/s/599", status(b"HTTP/1.1 599 Custom"), FAIL);
    t.get("/s/600", status(b"HTTP/1.1 600 Six hundred"), OK);
    t.get("/s/999", status(b"HTTP/1.1 999 Nine"), OK);
    t.get("/s/http11_lower_ok", status(b"HTTP/1.1 200 ok"), OK);
    t.get("/s/204", head(b"HTTP/1.1 204 No Content", &[], None), OK);
    t.get("/s/304", head(b"HTTP/1.1 304 Not Modified", &[], None), OK);
    let cont = b"HTTP/1.1 100 Continue\r\n\r\n".as_slice();
    t.get(
        "/s/100then200",
        cat(&[cont, &status(b"HTTP/1.1 200 OK")]),
        OK,
    );
    let hints = b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n".as_slice();
    t.get(
        "/s/103then200",
        cat(&[hints, &status(b"HTTP/1.1 200 OK")]),
        OK,
    )
    .ours = Some(Ours::Size("3.0"));
    t.get("/s/100_then_close", cont, FAIL);
    let head_404 = head(b"HTTP/1.1 404 Not Found", &[b"Content-Length: 9"], None);
    t.case("HEAD", "/s/404head", Behaviour::raw_close(head_404), FAIL);

    // Status-line garbage.
    t.get("/s/1000", status(b"HTTP/1.1 1000 Thousand"), FAIL);
    t.get("/s/099", status(b"HTTP/1.1 099 Low"), FAIL);
    t.get("/s/abc", status(b"HTTP/1.1 abc OK"), FAIL);
    t.get("/s/lower", status(b"http/1.1 200 OK"), FAIL);
    t.get("/s/http2", status(b"HTTP/2 200 OK"), FAIL);
    t.get("/g/nothttp", b"NOT HTTP\r\n\r\n", FAIL);
    t.get("/g/hello", b"hello", FAIL);
    t.get("/c/partial_status", b"HTTP/1.1 20", FAIL);
    t.get("/c/half_head", b"HTTP/1.1 200 OK\r\nContent-", OK);
    t.get("/c/status_only", b"HTTP/1.1 200 OK\r\n", OK);
    t.get("/c/head_no_body", b"HTTP/1.1 200 OK\r\n\r\n", OK);

    // Bodies cut short or malformed.
    let ok = b"HTTP/1.1 200 OK\r\n".as_slice();
    let te = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".as_slice();
    t.get(
        "/b/cl_short",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345",
        FAIL,
    );
    t.get(
        "/b/cl_short_404",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n12345",
        FAIL,
    );
    let x20000 = vec![b'x'; 20_000];
    t.get(
        "/b/cl_cut_big",
        cat(&[b"HTTP/1.1 200 OK\r\nContent-Length: 30000\r\n\r\n", &x20000]),
        FAIL,
    );
    t.get(
        "/b/cl_huge",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000000\r\n\r\nhello",
        FAIL,
    );
    t.get("/b/chunk_cut", cat(&[te, b"a\r\n01234"]), FAIL);
    t.get(
        "/b/chunk_cut_2nd",
        cat(&[te, b"5\r\nhello\r\na\r\n01234"]),
        FAIL,
    );
    t.get("/b/chunk_big_cut", cat(&[te, b"7530\r\n", &x20000]), FAIL);
    t.get(
        "/b/chunk_10240_cut",
        cat(&[te, b"2800\r\n", &[b'x'; 100]]),
        FAIL,
    );
    t.get(
        "/b/chunk_huge",
        cat(&[te, b"ffffffffffffffff\r\nhello"]),
        FAIL,
    );
    t.get("/b/chunk_cut_size", cat(&[te, b"5\r\nhello\r\n"]), FAIL);
    t.get(
        "/b/chunk_badsize",
        cat(&[te, b"zz\r\nhello\r\n0\r\n\r\n"]),
        FAIL,
    );
    t.get(
        "/b/chunk_empty_line",
        cat(&[te, b"\r\nhello\r\n0\r\n\r\n"]),
        FAIL,
    );
    let chunk_ok = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n".as_slice();
    t.get("/b/chunk_ok", cat(&[te, chunk_ok]), OK);
    t.get("/b/chunk_nocrlf", cat(&[te, b"5\r\nhelloXX0\r\n\r\n"]), OK);
    let gzip_head =
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 100\r\n\r\n".as_slice();
    t.get("/z/gzip_cl_short", cat(&[gzip_head, &gz[..20]]), FAIL);
    let cl = |lines: &[u8]| cat(&[ok, lines, b"Connection: close\r\n\r\nhello"]);
    t.get(
        "/b/cl_two_diff",
        cl(b"Content-Length: 5\r\nContent-Length: 6\r\n"),
        FAIL,
    );
    t.get("/b/cl_comma_diff", cl(b"Content-Length: 5, 6\r\n"), FAIL);
    t.get(
        "/b/cl_two_same",
        cl(b"Content-Length: 5\r\nContent-Length: 5\r\n"),
        OK,
    );
    t.get("/b/cl_comma_same", cl(b"Content-Length: 5, 5\r\n"), OK);
    t.get("/b/cl_abc", cl(b"Content-Length: abc\r\n"), OK);
    t.get("/b/cl_neg", cl(b"Content-Length: -5\r\n"), OK);
    t.get("/b/cl_long_body", cl(b"Content-Length: 3\r\n"), OK);
    t.get(
        "/b/te_gzip_only",
        cl(b"Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"),
        OK,
    );
    let te_cl = b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    t.get("/b/te_and_cl", cat(&[ok, te_cl]), OK);

    // Closes and resets.
    t.case("GET", "/c/close", Behaviour::CloseSilently, FAIL);
    t.request("POST", "/c/close", FAIL).body = Some(Body::Text("abc"));
    t.case("GET", "/c/rst_before", Behaviour::ResetSilently, FAIL);
    let mid = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec();
    t.case("GET", "/c/rst_mid", Behaviour::RawReset(mid), FAIL);
    t.case(
        "GET",
        "/c/rst_mid_chunked",
        Behaviour::RawReset(cat(&[te, b"a\r\n01234"])),
        FAIL,
    );

    // Header lines: no colon, too long, too many.
    let abcdef = b"Connection: close\r\n\r\nabcdef".as_slice();
    t.get(
        "/g/nocolon_first",
        cat(&[ok, b"badheader\r\nContent-Length: 3\r\n", abcdef]),
        OK,
    );
    t.get(
        "/g/nocolon_last",
        cat(&[
            ok,
            b"Content-Length: 3\r\nConnection: close\r\nbadheader\r\n\r\nabcdef",
        ]),
        OK,
    );
    t.get(
        "/g/space_colon",
        cat(&[ok, b"Content-Length : 3\r\n", abcdef]),
        OK,
    );
    let long = vec![b'a'; 100_000];
    t.get(
        "/g/longheader",
        cat(&[ok, b"X-Long: ", &long, b"\r\nContent-Length: 3\r\n\r\nabc"]),
        FAIL,
    );
    let long_status = vec![b'O'; 70_000];
    t.get(
        "/g/longstatus",
        cat(&[
            b"HTTP/1.1 200 ",
            &long_status,
            b"\r\nContent-Length: 3\r\n\r\nabc",
        ]),
        FAIL,
    );
    let length3 = b"Content-Length: 3\r\n\r\nabc".as_slice();
    t.get(
        "/g/manyheaders",
        cat(&[ok, &many_headers(200), length3]),
        FAIL,
    );
    t.get(
        "/g/101headers",
        cat(&[ok, &many_headers(100), length3]),
        FAIL,
    );
    t.get(
        "/g/100headers",
        cat(&[ok, &many_headers(99), length3]),
        FAIL,
    );
    t.get("/g/99headers", cat(&[ok, &many_headers(98), length3]), OK);
    t.get(
        "/g/http10_close",
        b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body",
        OK,
    );
    let switching =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    t.get("/g/101", switching, OK);
    t.get(
        "/g/lf_only",
        b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc",
        OK,
    );
    t.get(
        "/g/obsfold",
        cat(&[
            ok,
            b"X-Fold: a\r\n b\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
        ]),
        OK,
    );

    // Read timeouts: no head within 0.5 s, and a body that stalls after 5 of 10 bytes.
    let slow = Behaviour::Delay(Duration::from_secs(2), status(b"HTTP/1.1 200 OK"));
    t.case("GET", "/t/slow", slow, FAIL).timeout = Some(Timeout::Both("0.5"));
    let split = t.request("GET", "/t/slow", FAIL);
    split.name = Some("/t/slow (5,0.5)");
    split.timeout = Some(Timeout::Split("5", "0.5"));
    let stall = Behaviour::Drip {
        head: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345".to_vec(),
        byte: b'6',
        every: Duration::from_secs(2),
    };
    t.case("GET", "/t/slowbody", stall, FAIL).timeout = Some(Timeout::Both("0.5"));

    // Compressed bodies, good and corrupt (`body` is 120 bytes).
    let enc = |encoding: &str, bytes: &[u8]| {
        let header = format!("Content-Encoding: {encoding}");
        r(b"HTTP/1.1 200 OK", &[header.as_bytes()], bytes)
    };
    t.get("/z/gzip", enc("gzip", &gz), OK);
    t.get("/z/GZIP_upper", enc("GZIP", &gz), OK);
    t.get("/z/deflate", enc("deflate", &deflate_zlib(&body)), OK);
    t.get("/z/rawdeflate", enc("deflate", &deflate_raw(&body)), OK);
    t.get("/z/br", enc("br", &brotli(&body)), OK);
    t.get("/z/gzip_gzip", enc("gzip, gzip", &gzip(&gz)), OK);
    t.get("/z/gzip_trunc", enc("gzip", &gz[..gz.len() / 2]), OK);
    t.get("/z/foo", enc("foo", &body), OK);
    t.get("/z/zstd", enc("zstd", b"(\xb5/\xfd-zstd-not-really"), OK);
    let chunked_gz = cat(&[
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        format!("{:x}\r\n", gz.len()).as_bytes(),
        &gz,
        b"\r\n0\r\n\r\n",
    ]);
    t.get("/z/gzip_chunked", chunked_gz, OK);
    t.get("/z/gzip_identity", enc("gzip", &gz), OK).headers = &[("Accept-Encoding", "identity")];
    let gzip_404 = r(b"HTTP/1.1 404 Not Found", &[b"Content-Encoding: gzip"], &gz);
    t.get("/z/gzip_404", gzip_404, FAIL);
    t.get(
        "/z/gzip_corrupt",
        enc("gzip", b"\x1f\x8b\x08\x00garbage-garbage-garbage"),
        FAIL,
    );
    t.get("/z/gzip_notgzip", enc("gzip", b"plain text body"), FAIL);
    t.get(
        "/z/deflate_corrupt",
        enc("deflate", b"garbage-garbage-garbage"),
        FAIL,
    );
    t.get("/z/br_corrupt", enc("br", b"garbage-garbage-garbage"), FAIL);

    // Redirects.
    t.get("/r/loop", redirect(302, b"/r/loop"), FAIL);
    let chain = t.get("/r/chain", chain_hop(0), FAIL);
    chain.recorded = Some("/r/chain?n=30".into());
    chain.ours = Some(Ours::Name("/r/chain"));
    for n in 1..=30 {
        t.route(
            format!("/r/chain?n={n}"),
            Behaviour::raw_close(chain_hop(n)),
        );
    }
    t.get("/r/to404", redirect(302, b"/s/404"), FAIL);
    let to_close = t.get("/r/toclose", redirect(302, b"/c/close2"), FAIL);
    to_close.recorded = Some("/c/close2".into());
    to_close.ours = Some(Ours::Name("/r/toclose"));
    t.route("/c/close2", Behaviour::CloseSilently);
    let dead_x = format!("http://127.0.0.1:{dead}/x");
    let to_dead = t.get("/r/todead", redirect(302, dead_x.as_bytes()), FAIL);
    to_dead.recorded = Some("/x".into());
    to_dead.ours = Some(Ours::Name("/r/todead"));
    t.get("/r/toclshort", redirect(302, b"/b/cl_short2"), FAIL);
    t.route(
        "/b/cl_short2",
        Behaviour::raw_close(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345"),
    );
    let moved = r(b"HTTP/1.1 302 Redirect", &[b"Location: /echo/nr"], b"moved");
    t.get("/r/noredir", moved, OK).allow_redirects = Some(false);
    t.get("/r/noloc", r(b"HTTP/1.1 302 Found", &[], b"noloc"), OK);
    t.get("/r/empty_loc", redirect(302, b""), OK);
    t.get("/sub/rrel", redirect(302, b"x?y=1"), OK);
    t.route("/sub/x?y=1", Behaviour::raw_close(landing()));
    t.get("/r/nonascii", redirect(302, b"/echo/caf\xc3\xa9"), OK);
    t.route("/echo/caf%C3%A9", Behaviour::raw_close(landing()));
    t.get("/r/space", redirect(302, b"/echo/a b"), OK);
    t.route("/echo/a%20b", Behaviour::raw_close(landing()));
    t.get("/r/fragment", redirect(302, b"/echo/f#frag"), OK);
    t.route("/echo/f", Behaviour::raw_close(landing()));
    t.get("/r/query", redirect(302, b"/echo/q?a=1&b=%41"), OK);
    t.route("/echo/q?a=1&b=A", Behaviour::raw_close(landing()));
    t.case(
        "GET",
        "/r/schemerel",
        redirect_via_host("//", "/echo/sr"),
        OK,
    );
    t.route("/echo/sr", Behaviour::raw_close(landing()));
    t.case(
        "GET",
        "/r/sameorigin",
        redirect_via_host("http://", "/echo/same"),
        OK,
    );
    t.route("/echo/same", Behaviour::raw_close(landing()));
    for code in [303, 307] {
        let from = format!("/r/post{code}");
        let to = format!("/echo/after{code}");
        let post = t.case(
            "POST",
            &from,
            Behaviour::raw_close(redirect(code, to.as_bytes())),
            OK,
        );
        post.body = Some(Body::Text("a=1"));
        t.route(to, Behaviour::raw_close(landing()));
    }

    // A 413 sent as soon as the head of a 2 MB upload arrived: the server then drains
    // the upload, or resets the connection with the upload unread.
    let too_big = r(b"HTTP/1.1 413 Payload Too Large", &[], b"too big");
    let early = t.case(
        "POST",
        "/p/413",
        Behaviour::AnswerEarly(too_big.clone()),
        FAIL,
    );
    early.body = Some(Body::Repeat('x', 2_000_000));
    let early = t.case(
        "POST",
        "/p/413rst",
        Behaviour::AnswerEarlyReset(too_big),
        FAIL,
    );
    early.body = Some(Body::Repeat('x', 2_000_000));

    // Nothing listening, and a name that does not resolve.
    t.request("GET", format!("http://127.0.0.1:{dead}/refused"), FAIL);
    t.request("GET", "http://nonexistent.invalid/dns", FAIL);
    t
}

/// Hop `n` of `/r/chain`: a 302 to `?n=n+1`.
fn chain_hop(n: u32) -> Vec<u8> {
    let location = format!("Location: /r/chain?n={}", n + 1);
    r(b"HTTP/1.1 302 Found", &[location.as_bytes()], b"")
}
