//! Locust's `examples/custom_shape/*.py` written as profiles (the mapping in
//! LOAD_TESTING.md "Stages (load shapes)") and played by the engine's shape driver on
//! idle users under tokio's paused clock. Each is checked against the example's own
//! `tick()`, ported to Rust, with the runner moving from its count toward each new
//! target at the tick's spawn rate (the engine's `ramp::Ramp`), one sample just after
//! every whole second.

use std::time::Duration;

use locust_engine::ramp::Ramp;
use locust_engine::{rehearse_shape, RunnerStatus, Stage};

use super::parse;
use crate::config::file::read_project_toml;

/// The stages of profile `name` in a `locust.toml` holding `body`.
fn profile(name: &str, body: &str) -> Vec<Stage> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locust.toml");
    std::fs::write(&path, body).unwrap();
    let config = read_project_toml(&path).unwrap();
    parse(name, &config.profiles[name].stages).unwrap()
}

/// The runner's status just after each whole second while the shape runs, and when
/// the shape ended.
async fn play(classes: &[(&str, f64)], stages: Vec<Stage>) -> (Vec<RunnerStatus>, Duration) {
    rehearse_shape(
        classes,
        stages,
        Duration::from_millis(10),
        Duration::from_secs(1),
    )
    .await
}

async fn user_counts(stages: Vec<Stage>) -> (Vec<u64>, Duration) {
    let (samples, ended) = play(&[("WebsiteUser", 1.0)], stages).await;
    (samples.iter().map(|s| s.user_count).collect(), ended)
}

/// A target of Locust's shape: users, spawn rate, and whether the classes changed to
/// a set without the current users (their users stop at once).
type Tick = Option<(u64, f64, bool)>;

/// Locust's shape loop: `tick(second, current user count)` once a second until it
/// returns None; a target different from the last starts a ramp from the current
/// count. The count just after each tick.
fn locust(mut tick: impl FnMut(u64, u64) -> Tick) -> Vec<u64> {
    let mut ramp: Option<(f64, u64, Ramp)> = None;
    let count_at = |ramp: &Option<(f64, u64, Ramp)>, time: f64| match ramp {
        None => 0,
        Some((start, from, steps)) => (0..steps.len())
            .map_while(|i| steps.step(i))
            .take_while(|s| start + s.offset.as_secs_f64() <= time)
            .last()
            .map_or(*from, |s| s.count),
    };
    let mut last = None;
    let mut samples = Vec::new();
    for second in 0.. {
        let now = second as f64;
        let current = count_at(&ramp, now);
        let Some((users, rate, switched)) = tick(second, current) else {
            break;
        };
        if last != Some((users, rate)) || switched {
            let from = if switched { 0 } else { current };
            ramp = Some((now, from, Ramp::new(from, users, rate)));
            last = Some((users, rate));
        }
        samples.push(count_at(&ramp, now + 0.01));
    }
    samples
}

/// examples/custom_shape/stages.py: `duration` there is the end since the start.
const STAGES: &str = r#"
[profiles.stages]
stages = [
  { until = "60s", users = 10, spawn-rate = 10 },
  { until = "100s", users = 50, spawn-rate = 10 },
  { until = "180s", users = 100, spawn-rate = 10 },
  { until = "220s", users = 30, spawn-rate = 10 },
  { until = "230s", users = 10, spawn-rate = 10 },
  { until = "240s", users = 1, spawn-rate = 1 },
]
"#;

/// (end, users, spawn rate) of stages.py's list.
const STAGES_PY: [(u64, u64, f64); 6] = [
    (60, 10, 10.0),
    (100, 50, 10.0),
    (180, 100, 10.0),
    (220, 30, 10.0),
    (230, 10, 10.0),
    (240, 1, 1.0),
];

#[tokio::test(start_paused = true)]
async fn stages_py() {
    let (ours, ended) = user_counts(profile("stages", STAGES)).await;
    let theirs = locust(|t, _| {
        STAGES_PY
            .iter()
            .find(|(end, ..)| t < *end)
            .map(|&(_, users, rate)| (users, rate, false))
    });
    assert_eq!(ours, theirs);
    assert_eq!((ours[30], ours[62], ours[63], ours[239]), (10, 40, 50, 1));
    assert_eq!(ended, Duration::from_secs(240));
}

/// examples/custom_shape/staging_user_classes.py.
const STAGING_USER_CLASSES: &str = r#"
[[profiles.staging.stages]]
until = "60s"
users = 10
spawn-rate = 10
user-classes = ["WebsiteUserA"]
[[profiles.staging.stages]]
until = "100s"
users = 50
spawn-rate = 10
user-classes = ["WebsiteUserB"]
[[profiles.staging.stages]]
until = "180s"
users = 100
spawn-rate = 10
user-classes = ["WebsiteUserA"]
[[profiles.staging.stages]]
until = "220s"
users = 30
spawn-rate = 10
[[profiles.staging.stages]]
until = "230s"
users = 10
spawn-rate = 10
[[profiles.staging.stages]]
until = "240s"
users = 1
spawn-rate = 1
"#;

#[tokio::test(start_paused = true)]
async fn staging_user_classes_py() {
    let classes = [("WebsiteUserA", 1.0), ("WebsiteUserB", 1.0)];
    let (samples, ended) = play(&classes, profile("staging", STAGING_USER_CLASSES)).await;
    let ours: Vec<u64> = samples.iter().map(|s| s.user_count).collect();
    // Switching from A only to B only (and back) stops the other class's users at
    // once; the switch to every class keeps them.
    let theirs = locust(|t, _| {
        STAGES_PY
            .iter()
            .find(|(end, ..)| t < *end)
            .map(|&(_, users, rate)| (users, rate, t == 60 || t == 100))
    });
    assert_eq!(ours, theirs);
    let classes_at = |t: usize| {
        let counts = &samples[t].class_counts;
        (counts["WebsiteUserA"], counts["WebsiteUserB"])
    };
    assert_eq!(classes_at(30), (10, 0));
    assert_eq!(classes_at(60), (0, 10), "B only: A stopped, B ramping");
    assert_eq!(classes_at(90), (0, 50));
    assert_eq!(classes_at(150), (100, 0));
    assert_eq!(classes_at(210), (15, 15), "every class again, by weight");
    assert_eq!(ended, Duration::from_secs(240));
}

/// examples/custom_shape/step_load.py: 10 users more every 30 s at 10/s, for 600 s.
const STEP_LOAD: &str = r#"
[[profiles.step-load.stages]]
step = 10
every = "30s"
spawn-rate = 10
duration = "10m"
"#;

#[tokio::test(start_paused = true)]
async fn step_load_py() {
    let (ours, ended) = user_counts(profile("step-load", STEP_LOAD)).await;
    // `run_time > time_limit`: Locust's run time is a little past each tick, so the
    // tick at 600 s already stops.
    let theirs = locust(|t, _| (t < 600).then_some(((t / 30 + 1) * 10, 10.0, false)));
    assert_eq!(ours, theirs);
    assert_eq!((ours[0], ours[29], ours[30], ours[599]), (10, 10, 20, 200));
    assert_eq!(ended, Duration::from_secs(600));

    // "10 users every 30 s up to 100": the stage lasts until the last step has held
    // 30 s (10 steps, 300 s).
    let capped = profile(
        "p",
        "[profiles.p]\nstages = [{ step = 10, every = \"30s\", users = 100 }]\n",
    );
    let (ours, ended) = user_counts(capped).await;
    assert_eq!(ended, Duration::from_secs(300));
    assert_eq!(
        (ours[0], ours[269], ours[270], ours[299]),
        (10, 90, 100, 100)
    );
}

/// examples/custom_shape/double_wave.py: two bells (60 users at 200 s, 40 at 400 s)
/// over 20, Locust's formula of the rounded run time, the count also the spawn rate.
const DOUBLE_WAVE: &str = r#"
[profiles.double-wave]
stages = [
  { until = "600s", users = "40 * e ** -((round(t) / 40 - 5) ** 2) + 20 * e ** -((round(t) / 40 - 10) ** 2) + 20", spawn-rate = "users" },
]
"#;

#[tokio::test(start_paused = true)]
async fn double_wave_py() {
    let (ours, ended) = user_counts(profile("double-wave", DOUBLE_WAVE)).await;
    let (min_users, peak_one, peak_two, time_limit) = (20.0, 60.0, 40.0, 600.0);
    let e = std::f64::consts::E;
    // Python's arithmetic: `x ** 2` is pow(), round() halves to even.
    let count = |t: u64| {
        let run_time = (t as f64).round_ties_even();
        let x = run_time / (time_limit / 10.0 * 2.0 / 3.0);
        let user_count = (peak_one - min_users) * e.powf(-((x - 5.0).powf(2.0)))
            + (peak_two - min_users) * e.powf(-((x - 10.0).powf(2.0)))
            + min_users;
        user_count.round_ties_even()
    };
    let theirs =
        locust(|t, _| ((t as f64) < time_limit).then(|| (count(t) as u64, count(t), false)));
    assert_eq!(ours, theirs);
    // Every tick's target is the formula's, exactly.
    let stages = profile("double-wave", DOUBLE_WAVE);
    for t in 0..600 {
        let target = stages[0]
            .curve
            .target_at(
                20,
                Duration::from_secs(600),
                Duration::ZERO,
                Duration::from_secs(t),
            )
            .unwrap();
        assert_eq!(target.users, count(t) as u64, "at {t} s");
        assert_eq!(target.spawn_rate, Some(count(t)), "at {t} s");
    }
    assert_eq!((ours[200], ours[400]), (60, 40));
    assert_eq!((ours[0], ours[599]), (20, 20));
    assert_eq!(ended, Duration::from_secs(600));
}

/// examples/custom_shape/wait_user_count.py: (10 users, 10 s), (20, 15 s), (10, 10 s),
/// each held once the count is there.
fn wait_user_count(spawn_rate: u32) -> String {
    let stage = |users, duration| {
        format!(
            "[[profiles.wait.stages]]\nusers = {users}\nspawn-rate = {spawn_rate}\n\
             wait-for-users = true\nduration = \"{duration}s\"\n"
        )
    };
    [stage(10, 10), stage(20, 15), stage(10, 10)].concat()
}

#[tokio::test(start_paused = true)]
async fn wait_user_count_py() {
    // As written (spawn rate 100): every count is there at once, no wait.
    let (ours, ended) = user_counts(profile("wait", &wait_user_count(100))).await;
    assert_eq!(ended, Duration::from_secs(35));
    assert_eq!((ours[0], ours[9], ours[10], ours[25]), (10, 10, 20, 10));

    // The example's users are slow to start; at 1 user a second, each count is there
    // 9 s after its stage begins, and its time starts then.
    let (ours, ended) = user_counts(profile("wait", &wait_user_count(1))).await;
    let expected: Vec<u64> = (0..62u64)
        .map(|t| match t {
            0..9 => t + 1,
            9..19 => 10,
            19..28 => t - 8,
            28..43 => 20,
            43..52 => 62 - t,
            _ => 10,
        })
        .collect();
    assert_eq!(ours, expected);
    assert_eq!(ended, Duration::from_secs(62));
    // The example's tick() polls the count once a second, and the tick that finds the
    // dwell over still returns the old target: each of its three steps moves on 1 s
    // later than the driver's, through the same counts.
    let targets = [(10, 10), (20, 15), (10, 10)];
    let (mut step, mut since) = (0, None);
    let theirs = locust(|t, users| {
        let &(target, dwell) = targets.get(step)?;
        if users == target {
            let reached = *since.get_or_insert(t);
            // `run_time > dwell`, with Locust's run time a little past the tick.
            if t - reached >= dwell {
                step += 1;
                since = None;
            }
        }
        Some((target, 1.0, false))
    });
    assert_eq!(theirs.len(), ours.len() + 3);
    let mut ours = ours;
    let mut theirs = theirs;
    ours.dedup();
    theirs.dedup();
    assert_eq!(ours, theirs);
}
