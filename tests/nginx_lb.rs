//! Through a real nginx (Debian's package; `make test` installs it) in front of three
//! standalone demo-target instances, the tool sees all three instance ids — the
//! docker-compose topology of the seed, on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;

/// Kills the child process when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx_binary() -> String {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("nginx is not installed: run `make test` (it installs nginx-light) or apt-get install nginx-light");
}

/// Starts `locust-rs --serve-demo 127.0.0.1:0 --demo-instance ID`; returns its port.
fn instance(id: &str) -> (Guard, u16) {
    let mut child = Command::new(BIN)
        .args(["--serve-demo", "127.0.0.1:0", "--demo-instance", id])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap();
    (Guard(child), port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nginx_conf(dir: &Path, port: u16, apps: &[u16]) -> String {
    let d = dir.display();
    let upstreams: String = apps
        .iter()
        .map(|p| format!("server 127.0.0.1:{p};\n"))
        .collect();
    let pinned: String = apps
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "location /app{}/ {{ proxy_pass http://127.0.0.1:{p}/; }}\n",
                i + 1
            )
        })
        .collect();
    format!(
        // One process (no master/worker split): killing it when the test ends leaves no
        // orphaned worker behind.
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n\
         upstream apps {{\n{upstreams} keepalive 16;\n}}\n\
         server {{\n listen 127.0.0.1:{port};\n\
         location = /gateway-health {{ default_type application/json; return 200 '{{\"status\":\"healthy\",\"service\":\"gateway\"}}'; }}\n\
         {pinned}\
         location / {{ proxy_pass http://apps; proxy_http_version 1.1; proxy_set_header Connection \"\"; }}\n}}\n}}\n"
    )
}

const LB: &str = r#"
[users.Balancer]
wait_time = "constant(0.01)"

[[users.Balancer.tasks]]
name = "spread"
requests = [
  { path = "/health", name = "/health", extract = [{ var = "instance", header = "X-Instance-ID" }] },
  { path = "/gateway-health", name = "/gateway-health after {{ instance }}" },
]

[[users.Balancer.tasks]]
name = "pinned"
requests = [
  { path = "/app1/health", checks = [{ json = "/instance", equals = "app1" }] },
  { path = "/app2/health", checks = [{ json = "/instance", equals = "app2" }] },
  { path = "/app3/health", checks = [{ json = "/instance", equals = "app3" }] },
]
"#;

#[tokio::test]
async fn nginx_spreads_the_load_over_three_instances() {
    let nginx = nginx_binary();
    let dir = tempfile::tempdir().unwrap();
    let (_a, p1) = instance("app1");
    let (_b, p2) = instance("app2");
    let (_c, p3) = instance("app3");
    let port = free_port();
    let conf = write(
        dir.path(),
        "nginx.conf",
        &nginx_conf(dir.path(), port, &[p1, p2, p3]),
    );
    let _nginx = Guard(
        Command::new(nginx)
            .args([
                "-c",
                conf.to_str().unwrap(),
                "-p",
                dir.path().to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let gateway = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("{gateway}/gateway-health"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        up,
        "nginx did not come up: {}",
        std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
    );

    write(dir.path(), "lb.toml", LB);
    let output = run_headless(
        dir.path(),
        "lb.toml",
        &gateway,
        &["-u", "4", "-r", "4", "-t", "3s", "--csv", "lb"],
    )
    .await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let rows = csv_rows(&dir.path().join("lb_stats.csv"));
    for id in ["app1", "app2", "app3"] {
        let name = format!("/gateway-health after {id}");
        let row = rows.iter().find(|r| r[1] == name);
        assert!(row.is_some(), "no request was answered by {id}: {rows:?}");
        assert!(row.unwrap()[2].parse::<u64>().unwrap() > 0);
    }
    for pinned in ["/app1/health", "/app2/health", "/app3/health"] {
        let row = rows.iter().find(|r| r[1] == pinned).expect(pinned);
        assert_eq!(row[3], "0", "{pinned} answered by the wrong instance");
    }
}
