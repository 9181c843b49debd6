//! The `fuzz_*` tests of the configuration's parsers of user input: time spans, Locust
//! conf files, `locust.toml` files (options, profiles, stages, arrival stages, phases,
//! criteria) and whole command lines resolved to `Settings`, under seeded mutations.
//! Every case ends in a value or a clear error (naming the file when a file was read),
//! never a panic or a hang; `make fuzz` runs more cases.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser};
use locust_scenario::fuzz::{cases, mutate, run_case, Rng, Watchdog, HOSTILE_NUMBERS};

use super::cli::Cli;
use super::file::parse_conf;
use super::{apply_entries, resolve, timespan, SettingsError};

/// Time spans as Locust takes them.
const SPANS: &[&str] = &[
    "20", "20s", "3m", "2h", "1h30m", "3h30m10s", "90m", "1h5s", "0", " 5s ", "0s",
];

#[test]
fn fuzz_time_spans() {
    let seeds: Vec<&[u8]> = SPANS.iter().map(|s| s.as_bytes()).collect();
    let snippets = [
        HOSTILE_NUMBERS,
        &["h", "m", "s", "ms", "d", "99999999999999999999h"],
    ]
    .concat();
    let mut rng = Rng(0x6a09_e667_f3bc_c908);
    let watchdog = Watchdog::start("fuzz_time_spans");
    let (mut parsed, mut refused) = (0u64, 0u64);
    for case in 0..cases(30_000, 1) {
        watchdog.case(case);
        let mut data = rng.pick(&seeds).to_vec();
        for _ in 0..1 + rng.below(3) {
            mutate(&mut rng, &mut data, &seeds, &snippets);
        }
        data.truncate(1024);
        let text = String::from_utf8_lossy(&data).into_owned();
        match run_case("fuzz_time_spans", case, &data, || {
            timespan::parse_arg(&text)
        }) {
            Ok(seconds) => {
                parsed += 1;
                // Only digits and h, m, s in that order: the sum of its parts.
                assert!(
                    text.trim()
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"hms".contains(&b)),
                    "case {case}: {text:?} gave {seconds}"
                );
            }
            Err(message) => {
                refused += 1;
                assert_eq!(message, timespan::INVALID, "case {case}");
            }
        }
    }
    eprintln!("fuzz_time_spans: {parsed} parsed, {refused} refused");
    assert!(parsed > 0 && refused > 0);
    // Past u64 is refused, whatever the unit; u64::MAX seconds is a value.
    for text in [
        "99999999999999999999h",
        "5124095576030432h",
        "18446744073709551616",
        "307445734561825861m",
    ] {
        assert_eq!(timespan::parse(text), None, "{text}");
    }
    assert_eq!(timespan::parse("18446744073709551615"), Some(u64::MAX));
}

/// Locust conf files (`key = value`, `key: value`, `--key value`, `[a, b]` lists).
const CONF_FILES: &[&str] = &[
    "# comment\n[section]\nlocustfile = scenarios/\nusers = 5\nspawn-rate: 2\nhost http://x:1\n--headless\ntags = [a, b]\nrun-time = '10s' # trailing\n",
    "headless = true\nusers = 50\nspawn-rate = 5\nrun-time = 5m\nstop-timeout = 10s\ncsv = out\nhtml = report.html\nexclude-tags = [\"slow\", \"admin\"]\nloglevel = WARNING\n",
    "host = https://example.com\nuser-classes = [\"ScalingSystemUser\", \"HighVolumeUser\"]\nvar = [\"TOKEN=abc\", \"N=3\"]\nmax-pool = 100\narrival-rate = 5\nweb-port = 8089\nweb-host = 127.0.0.1\niterations = 10\nreset-stats\nonly-summary = false\n",
];

/// Keys and values to insert into config files.
const CONF_SNIPPETS: &[&str] = &[
    "\nusers = ",
    "\nspawn-rate = ",
    "\nrun-time = ",
    "\nstop-timeout = ",
    "\nhost = ",
    "\ncriteria = ",
    "\nprofile = ",
    "\nvar = ",
    "\ntags = [",
    "\nweb-port = ",
    "\niterations = ",
    "\nmax-filesize = ",
    "\nconnect-timeout = ",
    "\nrequest-timeout = ",
    "\nload-shape = ",
    "\nusers = \"10 + 5 * sin(t)\"",
    "\nrepeat = ",
    "\nstep = ",
    "\nevery = ",
    "\nuntil = ",
    "\nduration = ",
    "\nramp = \"linear\"",
    "\nstages = [{",
    "\nphases = [\"",
    "\n[profiles.basic]\n",
    "\n[[profiles.spike.stages]]\n",
    "\n[[profiles.ramp.arrival]]\n",
    "\n[tool.locust]\n",
    "= [",
    "]",
    "= {",
    "}",
    "\"",
    "'",
    "\"\"\"",
    "\\u0000",
    "\\uD800",
    "99999999999999999999h",
    "1e308",
    "nan",
    "inf",
    "-1",
    "0",
    "avg < 1e308",
];

#[test]
fn fuzz_conf_files() {
    let seeds: Vec<&[u8]> = CONF_FILES.iter().map(|s| s.as_bytes()).collect();
    let snippets = [CONF_SNIPPETS, HOSTILE_NUMBERS].concat();
    let path = Path::new("/etc/locust/extra.conf");
    let mut rng = Rng(0xbb67_ae85_84ca_a73b);
    let watchdog = Watchdog::start("fuzz_conf_files");
    let (mut applied, mut refused) = (0u64, 0u64);
    for case in 0..cases(15_000, 2) {
        watchdog.case(case);
        let mut data = rng.pick(&seeds).to_vec();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut rng, &mut data, &seeds, &snippets);
        }
        data.truncate(64 * 1024);
        // The file is read as text: not UTF-8 is the reader's error (fuzz_project_files).
        let text = String::from_utf8_lossy(&data).into_owned();
        let result = run_case("fuzz_conf_files", case, &data, || {
            let entries = parse_conf(path, &text);
            let mut cli = Cli::default();
            apply_entries(&mut cli, &entries)
        });
        match result {
            Ok(()) => applied += 1,
            Err(e) => {
                refused += 1;
                let message = e.to_string();
                assert!(
                    message.starts_with("/etc/locust/extra.conf:"),
                    "case {case}: {message}"
                );
            }
        }
    }
    eprintln!("fuzz_conf_files: {applied} applied, {refused} refused");
    assert!(applied > 0 && refused > 0);
}

/// The project files of the repository: `locust.toml` and the examples' config files.
fn project_corpus() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<Vec<u8>> = [
        "locust.toml",
        "examples/custom_shape/locust.toml",
        "examples/stop_on_threshold.conf.toml",
    ]
    .iter()
    .filter_map(|p| std::fs::read(root.join(p)).ok())
    .collect();
    assert_eq!(files.len(), 3, "the project-file corpus is missing");
    files.push(
        b"[tool.locust]\nusers = 3\n\n[profiles.open]\nrun-time = \"60s\"\narrival-rate = 50\nmax-pool = 100\n\n[profiles.ramp]\nmax-pool = 50\n[[profiles.ramp.arrival]]\nduration = \"30s\"\ntarget = 100\n[[profiles.ramp.arrival]]\nduration = \"60s\"\ntarget = 100\n\n[profiles.waves]\n[[profiles.waves.stages]]\nstep = 10\nevery = \"30s\"\nusers = 100\n[[profiles.waves.stages]]\nrepeat = 3\nstages = [\n  { duration = \"1m\", users = 300, ramp = \"smooth\" },\n  { duration = \"1m\", users = 100, ramp = \"smooth\" },\n]\n\n[profiles.sine]\n[[profiles.sine.stages]]\nduration = \"10m\"\nusers = \"50 + 30 * sin(2 * pi * t / 120)\"\nspawn-rate = \"max(1, stage_t / 10)\"\n"
            .to_vec(),
    );
    files.push(b"[tool.black]\nline-length = 88\n\n[tool.locust]\nlocustfile = \"scenarios/\"\nheadless = true\nusers = 10\nspawn-rate = 2\ncriteria = [\"p95 < 500ms\", \"error_rate < 1% abort after 10s\"]\n".to_vec());
    files
}

/// The profiles the corpus defines, and a name none does.
const PROFILES: &[&str] = &[
    "basic",
    "stress",
    "cache",
    "spike",
    "all",
    "stages",
    "double-wave",
    "step-load",
    "wait-user-count",
    "staging-user-classes",
    "open",
    "ramp",
    "waves",
    "sine",
    "nope",
];

/// Seeded mutations of project files, read as `locust.toml` or as a `--config` file,
/// resolved with a profile: settings, or an error; an error of the file names it.
#[test]
fn fuzz_project_files() {
    let corpus = project_corpus();
    let seeds: Vec<&[u8]> = corpus.iter().map(Vec::as_slice).collect();
    let snippets = [CONF_SNIPPETS, HOSTILE_NUMBERS].concat();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = dir.path().join("locust.toml");
    let other = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let config = other.path().join("given.toml");
    let conf = other.path().join("given.conf");
    let mut rng = Rng(0x3c6e_f372_fe94_f82b);
    let watchdog = Watchdog::start("fuzz_project_files");
    let (mut resolved, mut refused) = (0u64, 0u64);
    for case in 0..cases(1_500, 50) {
        watchdog.case(case);
        let mut data = rng.pick(&seeds).to_vec();
        for _ in 0..1 + rng.below(2) {
            mutate(&mut rng, &mut data, &seeds, &snippets);
        }
        data.truncate(64 * 1024);
        let profile = rng.pick(PROFILES);
        // As locust.toml, as a TOML --config, or as a conf --config.
        let (written, mut args) = match case % 3 {
            0 => (&project, vec!["x".to_string()]),
            1 => (
                &config,
                vec!["x".into(), "--config".into(), config.display().to_string()],
            ),
            _ => (
                &conf,
                vec!["x".into(), "--config".into(), conf.display().to_string()],
            ),
        };
        if case % 3 != 2 {
            args.extend(["--profile".into(), profile.to_string()]);
        }
        let _ = std::fs::remove_file(&project);
        std::fs::write(written, &data).unwrap_or_else(|e| panic!("{e}"));
        let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| panic!("{e}"));
        let result = run_case("fuzz_project_files", case, &data, || {
            resolve(cli, dir.path()).and_then(|s| {
                // The criteria the file gave are parsed as a run would.
                crate::criteria::parse_all(&s.criteria)
                    .map(|_| ())
                    .map_err(|e| SettingsError::BadFlag {
                        flag: "criteria".into(),
                        message: e.to_string(),
                    })
            })
        });
        match result {
            Ok(()) => resolved += 1,
            Err(e) => {
                refused += 1;
                check_error(case, &e, written);
            }
        }
    }
    eprintln!("fuzz_project_files: {resolved} resolved, {refused} refused");
    assert!(resolved > 0 && refused > 0);
}

/// Profiles built to exhaust the stage planner: huge counts, durations and repeats,
/// groups nested deep, formulas nested deep or overflowing. Each resolves or fails with a
/// message naming the file, in bounded time and memory.
#[test]
fn fuzz_profile_hostile_shapes() {
    let huge = "99999999999999999999";
    let nested_groups = format!(
        "[[profiles.p.stages]]\nrepeat = 2\nstages = [{}{{ duration = \"1s\", users = 1 }}{}]\n",
        "{ repeat = 2, stages = [".repeat(200),
        "] }".repeat(200)
    );
    let texts = [
        format!("[[profiles.p.stages]]\nduration = \"{huge}h\"\nusers = 10\n"),
        "[[profiles.p.stages]]\nduration = \"5124095576030431h\"\nusers = 10\nramp = \"linear\"\n".into(),
        "[[profiles.p.stages]]\nduration = \"18446744073709551615\"\nusers = 4294967296\nramp = \"linear\"\n".into(),
        "[[profiles.p.stages]]\nstep = 1\nevery = \"1s\"\nusers = 18446744073709551615\n".into(),
        "[[profiles.p.stages]]\nstep = 1\nevery = \"0s\"\nusers = 1000000000\n".into(),
        "[[profiles.p.stages]]\nrepeat = 4294967296\nduration = \"1s\"\nusers = 1\n".into(),
        "[[profiles.p.stages]]\nrepeat = 1000\nstages = [{ repeat = 1000, stages = [{ duration = \"1s\", users = 1 }] }]\n".into(),
        nested_groups,
        format!("[[profiles.p.stages]]\nduration = \"10s\"\nusers = \"{}t{}\"\n", "(".repeat(10_000), ")".repeat(10_000)),
        "[[profiles.p.stages]]\nduration = \"10s\"\nusers = \"10 ** 10 ** 10\"\n".into(),
        "[[profiles.p.stages]]\nduration = \"10s\"\nusers = \"1e308 * 10\"\nspawn-rate = \"0 / 0\"\n".into(),
        "[[profiles.p.stages]]\nduration = \"10s\"\nusers = 1\nspawn-rate = 1e308\n".into(),
        format!("[profiles.p]\nrun-time = \"1h\"\n[[profiles.p.arrival]]\nduration = \"{huge}h\"\ntarget = 1e308\n"),
        "[profiles.p]\nrun-time = \"1h\"\narrival-rate = 1e308\nmax-pool = 18446744073709551615\n".into(),
        format!("[profiles.p]\nphases = [{}]\n", vec!["\"p\""; 10_000].join(", ")),
        format!("[profiles.p]\ncriteria = [{}]\n", vec!["\"avg < 1\""; 10_000].join(", ")),
    ];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let project = dir.path().join("locust.toml");
    let watchdog = Watchdog::start("fuzz_profile_hostile_shapes");
    for (case, text) in texts.iter().enumerate() {
        let case = case as u64;
        watchdog.case(case);
        let text = format!("[tool.locust]\nheadless = true\n{text}");
        std::fs::write(&project, &text).unwrap_or_else(|e| panic!("{e}"));
        let cli = Cli::try_parse_from(["x", "--profile", "p"]).unwrap_or_else(|e| panic!("{e}"));
        let result = run_case("hostile profiles", case, text.as_bytes(), || {
            resolve(cli, dir.path()).map(|s| s.spec.stages.map_or(0, |st| st.len()))
        });
        match result {
            Ok(stages) => assert!(stages <= 100_000, "case {case}: {stages} stages"),
            Err(e) => check_error(case, &e, &project),
        }
    }
}

/// An error says something; an error of a file's text names the file.
fn check_error(case: u64, e: &SettingsError, file: &Path) {
    let message = e.to_string();
    assert!(!message.trim().is_empty(), "case {case}: an empty message");
    let of_file = matches!(
        e,
        SettingsError::File(_) | SettingsError::UnknownKey { .. } | SettingsError::BadValue { .. }
    );
    if of_file {
        assert!(
            message.contains(&file.display().to_string()),
            "case {case}: the message does not name {}: {message}",
            file.display()
        );
    }
}

/// Values worth giving any flag.
const VALUES: &[&str] = &[
    "10",
    "1",
    "0",
    "-1",
    "2.5",
    "1h30m",
    "3h30m10s",
    "60s",
    "http://localhost:8080",
    "https://h:1/p",
    "localhost",
    "ftp://x",
    "INFO",
    "debug",
    "a,b",
    "A=1",
    "=",
    "K=",
    "true",
    "false",
    "500K",
    "64M",
    "1GiB",
    "8089",
    "65536",
    "127.0.0.1",
    "::1",
    "out",
    "basic",
    "p95 < 500ms",
    "avg < 1e308s abort after 1h",
    "",
    " ",
    "\u{0}",
    "é",
];

/// Seeded command lines: Locust's flags with hostile values, random words and bytes that
/// are not UTF-8, parsed by clap and resolved to `Settings` as `main` does: settings, a
/// clap error, or a settings error, each with a message.
#[test]
fn fuzz_command_lines() {
    use std::os::unix::ffi::OsStringExt;
    let command = Cli::command();
    let flags: Vec<String> = command
        .get_arguments()
        .flat_map(|a| {
            let long = a.get_long().map(|l| format!("--{l}"));
            let short = a.get_short().map(|s| format!("-{s}"));
            long.into_iter().chain(short)
        })
        .filter(|f| {
            !matches!(
                f.as_str(),
                "--help" | "-h" | "--version" | "-V" | "--config"
            )
        })
        .collect();
    assert!(flags.len() > 40, "{} flags", flags.len());
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let values: Vec<&str> = VALUES.iter().chain(HOSTILE_NUMBERS).copied().collect();
    let seeds: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    let mut rng = Rng(0xa54f_f53a_5f1d_36f1);
    let watchdog = Watchdog::start("fuzz_command_lines");
    let (mut resolved, mut clap_errors, mut refused) = (0u64, 0u64, 0u64);
    for case in 0..cases(3_000, 10) {
        watchdog.case(case);
        let mut args: Vec<OsString> = vec!["locust-rs".into()];
        for _ in 0..1 + rng.below(6) {
            match rng.below(8) {
                // A flag and a value, maybe mutated (into bytes that are not UTF-8 too).
                0..=4 => {
                    args.push(flags[rng.below(flags.len() as u64) as usize].clone().into());
                    let mut value = rng.pick(&seeds).to_vec();
                    if rng.below(2) == 0 {
                        mutate(&mut rng, &mut value, &seeds, &[]);
                        value.truncate(4096);
                    }
                    args.push(OsString::from_vec(value));
                }
                5 => args.push(flags[rng.below(flags.len() as u64) as usize].clone().into()),
                6 => args.push(
                    format!(
                        "{}={}",
                        flags[rng.below(flags.len() as u64) as usize],
                        rng.pick(&values)
                    )
                    .into(),
                ),
                _ => {
                    let n = rng.below(12) as usize;
                    args.push(OsString::from_vec(
                        (0..n).map(|_| rng.next_u64() as u8).collect(),
                    ));
                }
            }
        }
        let shown: Vec<u8> = args
            .iter()
            .flat_map(|a| a.as_encoded_bytes().iter().copied().chain([b' ']))
            .collect();
        let outcome = run_case(
            "fuzz_command_lines",
            case,
            &shown,
            || match Cli::try_parse_from(&args) {
                Err(e) if e.use_stderr() => Err(Some(e.to_string())),
                // --help or --version reached through an abbreviation: printed, not an error.
                Err(_) => Ok(()),
                Ok(cli) => resolve(cli, dir.path()).map(|_| ()).map_err(|e| {
                    assert!(
                        !e.to_string().trim().is_empty(),
                        "case {case}: an empty message"
                    );
                    None
                }),
            },
        );
        match outcome {
            Ok(()) => resolved += 1,
            Err(None) => refused += 1,
            Err(Some(message)) => {
                clap_errors += 1;
                assert!(message.starts_with("error: "), "case {case}: {message}");
            }
        }
    }
    eprintln!(
        "fuzz_command_lines: {resolved} resolved, {clap_errors} clap errors, {refused} refused"
    );
    assert!(resolved > 0 && clap_errors > 0 && refused > 0);
}
