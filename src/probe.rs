//! The start-up reachability check: before the first user starts, one TCP connect to
//! each target host, or to the proxy that reaches it (a short timeout). A refused,
//! unresolvable or silent target stops the run with exit code 4 and one clear line,
//! instead of a run made only of errors.

use std::time::Duration;

/// How long one connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Connects once to each distinct `http(s)://host[:port]` — or to its proxy, which
/// `proxy_for(tls, host, port)` names — and the first failure is the error, worded for
/// people.
pub async fn check(
    hosts: &[String],
    proxy_for: impl Fn(bool, &str, u16) -> Option<(String, u16)>,
) -> Result<(), String> {
    let mut seen = Vec::new();
    for host in hosts {
        let url = url::Url::parse(host)
            .map_err(|e| format!("the target {host} is not a valid URL: {e}"))?;
        let name = url
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_string();
        let port = url.port_or_known_default().unwrap_or(80);
        let proxy = proxy_for(url.scheme() == "https", &name, port);
        let (name, port, what) = match proxy {
            Some((proxy, proxy_port)) => (proxy, proxy_port, format!("the proxy for {host}")),
            None => (name, port, format!("the target {host}")),
        };
        if seen.contains(&(name.clone(), port)) {
            continue;
        }
        seen.push((name.clone(), port));
        let connect = tokio::net::TcpStream::connect((name.as_str(), port));
        let why = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(_)) => continue,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused".to_string()
            }
            Ok(Err(e)) => format!("{e}"),
            Err(_) => format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        };
        return Err(format!(
            "{what} is not reachable ({why} on {name}:{port}); is the system running? No user was started"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_ports_pass_and_closed_ones_are_named() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = format!("http://{}", listener.local_addr().unwrap());
        let direct = |_: bool, _: &str, _: u16| None;
        assert_eq!(check(&[open.clone(), open.clone()], direct).await, Ok(()));
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = check(&[format!("http://127.0.0.1:{port}")], direct)
            .await
            .unwrap_err();
        assert!(err.contains("connection refused"), "{err}");
        let err = check(&["http://no-such-host.invalid".into()], direct)
            .await
            .unwrap_err();
        assert!(err.contains("not reachable"), "{err}");
        // Through a proxy only the proxy has to answer, and it is named when it does not.
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy_port = proxy.local_addr().unwrap().port();
        let via = |_: bool, _: &str, _: u16| Some(("127.0.0.1".to_string(), proxy_port));
        assert_eq!(
            check(&["http://no-such-host.invalid".into()], via).await,
            Ok(())
        );
        drop(proxy);
        let err = check(&["http://no-such-host.invalid".into()], via)
            .await
            .unwrap_err();
        assert!(
            err.starts_with("the proxy for http://no-such-host.invalid is not reachable"),
            "{err}"
        );
    }
}
