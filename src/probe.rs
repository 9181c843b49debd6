//! The start-up reachability check: before the first user starts, one TCP connect to
//! each target host (a short timeout). A refused, unresolvable or silent target stops
//! the run with exit code 4 and one clear line, instead of a run made only of errors.

use std::time::Duration;

/// How long one connect may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Connects once to each distinct `http(s)://host[:port]`; the first failure is the
/// error, worded for people.
pub async fn check(hosts: &[String]) -> Result<(), String> {
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
            "the target {host} is not reachable ({why} on {name}:{port}); is the system running? No user was started"
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
        assert_eq!(check(&[open.clone(), open.clone()]).await, Ok(()));
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let err = check(&[format!("http://127.0.0.1:{port}")])
            .await
            .unwrap_err();
        assert!(err.contains("connection refused"), "{err}");
        let err = check(&["http://no-such-host.invalid".into()])
            .await
            .unwrap_err();
        assert!(err.contains("not reachable"), "{err}");
    }
}
