//! `locust-rs convert`, part 4: `--check` prints the converted scenario's task ratios
//! beside the ones the Python declares (exit 0 when the mix is the same); a LoadTestShape
//! becomes a profile in `locust.toml` next to the output (added to an existing file,
//! never replacing a profile); `-o` into another folder keeps a CSV feeder's path right.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::convert::*;
use common::*;

#[tokio::test]
async fn check_shows_both_ratios_side_by_side() {
    let dir = folder_with("crud_api.py", &[]);
    let out = convert_in(dir.path(), &["crud_api.py", "--check"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains("Python (declared) | converted scenario"),
        "{stdout}"
    );
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}:\n{stdout}"))
            .to_string()
    };
    // read_user: 5 of 11 in Crud.
    assert!(
        row("read_user").contains("45.5 |    45.5"),
        "{}",
        row("read_user")
    );
    assert!(row("Admin").contains("100.0 |   100.0"), "{}", row("Admin"));
    assert!(stdout.contains("runs the same task mix"), "{stdout}");
}

/// unsupported.py's class `Walker` (a MarkovTaskSet) is left out of the scenario, so
/// the mix differs: `--check` marks the row and exits 3.
#[tokio::test]
async fn check_fails_when_the_converted_mix_differs() {
    let dir = folder_with("unsupported.py", &[]);
    let out = convert_in(dir.path(), &["unsupported.py", "--check"]).await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    let walker = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Walker"))
        .unwrap();
    assert!(walker.contains("|       -  <- differs"), "{walker}");
    assert!(stdout.contains("The task mix differs"), "{stdout}");
    // The same file with a weight changed on both sides still matches.
    let py = fixture("fast_client.py").replace("@task(2)", "@task(3)");
    write(dir.path(), "changed.py", &py);
    let out = convert_in(dir.path(), &["changed.py", "--check"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("75.0 |    75.0"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn a_shape_becomes_a_profile_next_to_the_scenario() {
    let dir = folder_with("stages_shape.py", &[]);
    write(
        dir.path(),
        "locust.toml",
        "[tool.locust]\nheadless = true\n",
    );
    let out = convert_in(dir.path(), &["stages_shape.py"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let config = std::fs::read_to_string(dir.path().join("locust.toml")).unwrap();
    assert!(
        config.starts_with("[tool.locust]\nheadless = true\n"),
        "{config}"
    );
    assert!(config.contains("[profiles.ramp-shape]"), "{config}");
    assert!(
        config.contains("{ until = \"90s\", users = 20, spawn-rate = 2 }"),
        "{config}"
    );
    // A second conversion leaves the profile as it is.
    let again = convert_in(dir.path(), &["stages_shape.py"]).await;
    assert!(text(&again.stderr).contains("already has [profiles.ramp-shape]"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("locust.toml")).unwrap(),
        config
    );
    // The profile is valid: the run takes its stages (the shape ends the run at 120 s;
    // -t 1s ends it first).
    let server = demo().await;
    let run = run_in(
        dir.path(),
        &[
            "-f",
            "stages_shape.toml",
            "--profile",
            "ramp-shape",
            "-H",
            &server.base_url(),
            "-t",
            "1s",
            "--exit-code-on-error",
            "0",
        ],
    )
    .await;
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("Shape test updating to 5 users"),
        "{}",
        text(&run.stderr)
    );
}

#[tokio::test]
async fn a_csv_feeder_keeps_its_file_when_written_elsewhere() {
    let dir = folder_with("csv_feeder.py", &["accounts.csv"]);
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    let out = convert_in(
        dir.path(),
        &["csv_feeder.py", "-o", "scenarios/members.toml"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let toml = std::fs::read_to_string(dir.path().join("scenarios/members.toml")).unwrap();
    assert!(toml.contains("file = \"../accounts.csv\""), "{toml}");
    assert!(
        toml.contains("columns = [\"username\", \"password\"]"),
        "{toml}"
    );
    let server = demo().await;
    let run = run_in(
        dir.path(),
        &[
            "-f",
            "scenarios/members.toml",
            "--headless",
            "-H",
            &server.base_url(),
            "-u",
            "1",
            "-i",
            "3",
            "--csv",
            "out",
        ],
    )
    .await;
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let rows = csv_rows(&dir.path().join("out_stats.csv"));
    assert!(
        rows.iter()
            .any(|r| r[0] == "POST" && r[1] == "/users" && r[2] == "3"),
        "{rows:?}"
    );
}
