//! The stage tables of a profile parsed into stages, and their errors.

use super::*;
use crate::config::file::read_project_toml;
use locust_engine::{Easing, Formula};

fn stages(body: &str) -> Result<Vec<Stage>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("locust.toml");
    std::fs::write(&path, format!("[profiles.p]\nheadless = true\n{body}"))
        .map_err(|e| e.to_string())?;
    let config = read_project_toml(&path).map_err(|e| e.to_string())?;
    parse("p", &config.profiles["p"].stages).map_err(|e| e.to_string())
}

const S: &str = "[[profiles.p.stages]]\n";

#[test]
fn durations_and_until_add_up() {
    let got = stages(&format!(
        "{S}duration = \"10s\"\nusers = 1\nspawn-rate = 1\n{S}until = \"1m\"\nusers = 50\nspawn-rate = 12.5\n"
    ))
    .unwrap();
    assert_eq!(got[0].end, Duration::from_secs(10));
    assert_eq!(got[1].end, Duration::from_secs(60));
    assert_eq!((got[1].users, got[1].spawn_rate), (50, 12.5));
}

#[test]
fn bad_stages_name_file_line_and_key() {
    let cases = [
        // (body, expected fragments)
        (
            format!("{S}until = \"20s\"\nusers = 1\nspawn-rate = 1\n{S}until = \"10s\"\nusers = 2\nspawn-rate = 1\n"),
            vec!["locust.toml:8", "stages[1].until", "move forward"],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = -3\nspawn-rate = 1\n"),
            vec!["locust.toml:5", "stages[0].users", "negative"],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = 3\nspawn-rate = -1\n"),
            vec!["locust.toml:6", "stages[0].spawn-rate", "> 0"],
        ),
        (
            format!("{S}duraton = \"5s\"\nusers = 3\nspawn-rate = 1\n"),
            vec!["locust.toml:4", "unknown key", "did you mean `duration`"],
        ),
        (
            format!("{S}duration = \"5s\"\nuntil = \"9s\"\nusers = 3\nspawn-rate = 1\n"),
            vec!["locust.toml:3", "not both"],
        ),
        (
            format!("{S}duration = \"5x\"\nusers = 3\nspawn-rate = 1\n"),
            vec!["locust.toml:4", "Invalid time span"],
        ),
        (
            format!("{S}users = 3\nspawn-rate = 1\n"),
            vec!["locust.toml:3", "needs `duration` or `until`"],
        ),
    ];
    for (body, fragments) in cases {
        let err = stages(&body).unwrap_err();
        for fragment in fragments {
            assert!(err.contains(fragment), "{fragment:?} not in {err}");
        }
    }
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// (end in s, users, curve) of each stage.
fn plan(body: &str) -> Vec<(u64, u64, Curve)> {
    stages(body)
        .unwrap()
        .iter()
        .map(|s| (s.end.as_secs(), s.users, s.curve.clone()))
        .collect()
}

fn linear(from: u64) -> Curve {
    Curve::Ramp {
        from,
        easing: Easing::Linear,
    }
}

#[test]
fn ramps_start_from_the_previous_stage_or_from() {
    let got = stages(&format!(
        "{S}duration = \"1m\"\nusers = 100\nramp = \"linear\"\n\
         {S}duration = \"30s\"\nusers = 10\nramp = \"smooth\"\nspawn-rate = 2\n\
         {S}duration = \"10s\"\nfrom = 50\nusers = 0\nramp = \"linear\"\n"
    ))
    .unwrap();
    let curves: Vec<(u64, u64, Curve, f64)> = got
        .iter()
        .map(|s| (s.end.as_secs(), s.users, s.curve.clone(), s.spawn_rate))
        .collect();
    assert_eq!(
        curves,
        [
            // Without spawn-rate: each tick's change at once (100 users over 60 s:
            // 2 at most a tick).
            (60, 100, linear(0), 2.0),
            (
                90,
                10,
                Curve::Ramp {
                    from: 100,
                    easing: Easing::Smooth
                },
                2.0
            ),
            (100, 0, linear(50), 5.0),
        ]
    );
    assert!(got.iter().all(|s| !s.wait_for_users));
}

#[test]
fn steps_last_until_their_last_step_has_held_unless_timed() {
    let steps = |from, step, every| Curve::Steps {
        from,
        step,
        every: secs(every),
    };
    // 10 users every 30 s up to 100: 10 steps, 300 s; then down to 40 by 20s every
    // 5 s (3 steps, 15 s); then uncapped for a minute: 6 steps of 5 from 40.
    let got = stages(&format!(
        "{S}step = 10\nevery = \"30s\"\nusers = 100\n\
         {S}step = 20\nevery = \"5s\"\nusers = 40\nspawn-rate = 100\n\
         {S}step = 5\nevery = \"10s\"\nduration = \"1m\"\n"
    ))
    .unwrap();
    let summary: Vec<(u64, u64, Curve, f64)> = got
        .iter()
        .map(|s| (s.end.as_secs(), s.users, s.curve.clone(), s.spawn_rate))
        .collect();
    assert_eq!(
        summary,
        [
            (300, 100, steps(0, 10, 30), 10.0),
            (315, 40, steps(100, 20, 5), 100.0),
            (375, 70, steps(40, 5, 10), 5.0),
        ]
    );
}

#[test]
fn groups_and_repeated_stages_expand_in_order() {
    let wave = "{S}repeat = 3\nstages = [\n  { duration = \"20s\", users = 50, ramp = \"linear\" },\n  { duration = \"10s\", users = 10, ramp = \"linear\" },\n]\n";
    let got = plan(&format!(
        "{S}duration = \"5s\"\nusers = 10\nspawn-rate = 10\n{}",
        wave.replace("{S}", S)
    ));
    let mut want = vec![(5, 10, Curve::Hold)];
    for i in 0..3 {
        want.push((5 + 30 * i + 20, 50, linear(10)));
        want.push((5 + 30 * i + 30, 10, linear(50)));
    }
    assert_eq!(got, want);

    // The same group as sub-tables, nested in another, and a repeated single stage
    // (a sawtooth: `from` each time).
    let got = plan(&format!(
        "{S}repeat = 2\n\
         [[profiles.p.stages.stages]]\nrepeat = 2\n\
         [[profiles.p.stages.stages.stages]]\nduration = \"4s\"\nusers = 8\nspawn-rate = 8\n\
         [[profiles.p.stages.stages]]\nduration = \"2s\"\nusers = 0\nspawn-rate = 8\n\
         {S}repeat = 2\nduration = \"3s\"\nfrom = 0\nusers = 3\nramp = \"linear\"\n"
    ));
    assert_eq!(
        got,
        [
            (4, 8, Curve::Hold),
            (8, 8, Curve::Hold),
            (10, 0, Curve::Hold),
            (14, 8, Curve::Hold),
            (18, 8, Curve::Hold),
            (20, 0, Curve::Hold),
            (23, 3, linear(0)),
            (26, 3, linear(0)),
        ]
    );
}

/// The examples of LOAD_TESTING.md "Ramps, steps, waits and repeats".
#[test]
fn documented_profiles_read_as_described() {
    let soak = plan(
        "stages = [\n  { duration = \"5m\", users = 100, ramp = \"linear\" },\n  \
         { duration = \"10m\", users = 100, spawn-rate = 10 },\n  \
         { duration = \"2m\", users = 0, ramp = \"linear\" },\n]\n",
    );
    assert_eq!(
        soak,
        [
            (300, 100, linear(0)),
            (900, 100, Curve::Hold),
            (1020, 0, linear(100))
        ]
    );
    let waves = plan(&format!(
        "{S}step = 10\nevery = \"30s\"\nusers = 100\n{S}repeat = 3\nstages = [\n  \
         {{ duration = \"1m\", users = 300, ramp = \"smooth\" }},\n  \
         {{ duration = \"1m\", users = 100, ramp = \"smooth\" }},\n]\n"
    ));
    let smooth = |from| Curve::Ramp {
        from,
        easing: Easing::Smooth,
    };
    let mut want = vec![(
        300,
        100,
        Curve::Steps {
            from: 0,
            step: 10,
            every: secs(30),
        },
    )];
    for wave in 0..3 {
        want.push((360 + 120 * wave, 300, smooth(100)));
        want.push((420 + 120 * wave, 100, smooth(300)));
    }
    assert_eq!(waves, want);
}

#[test]
fn wait_for_users_is_kept_and_until_still_works_before_it() {
    let got = stages(&format!(
        "{S}until = \"10s\"\nusers = 1\nspawn-rate = 1\n\
         {S}users = 10\nspawn-rate = 100\nwait-for-users = true\nduration = \"10s\"\n\
         {S}users = 20\nspawn-rate = 100\nwait-for-users = false\nduration = \"15s\"\n"
    ))
    .unwrap();
    let waits: Vec<(u64, bool)> = got
        .iter()
        .map(|s| (s.end.as_secs(), s.wait_for_users))
        .collect();
    assert_eq!(waits, [(10, false), (20, true), (35, false)]);
}

#[test]
fn formula_stages_compile_their_expressions() {
    let got = stages(&format!(
        "{S}duration = \"10s\"\nusers = 5\nspawn-rate = 5\n\
         {S}until = \"1m\"\nusers = \"5 + t / 2 + stage_t\"\nspawn-rate = \"t\"\n\
         {S}duration = \"10s\"\nusers = \"max(0, 10 - stage_t)\"\nspawn-rate = 2.5\n\
         {S}duration = \"10s\"\nusers = 0\nramp = \"linear\"\n"
    ))
    .unwrap();
    let Curve::Formula { users, spawn_rate } = &got[1].curve else {
        panic!("{:?}", got[1].curve);
    };
    assert_eq!(users.source(), "5 + t / 2 + stage_t");
    assert_eq!(spawn_rate.as_ref().map(Formula::source), Some("t"));
    assert_eq!(users.eval(20.0, 10.0, 0.0), Ok(25.0));
    // `users`: where the formula stands at the stage's end (60 s, 50 s into it);
    // the spawn rate until the expression gives one: its value at the start.
    assert_eq!(
        (got[1].end.as_secs(), got[1].users, got[1].spawn_rate),
        (60, 85, 10.0)
    );
    assert!(matches!(
        &got[2].curve,
        Curve::Formula {
            spawn_rate: None,
            ..
        }
    ));
    assert_eq!((got[2].users, got[2].spawn_rate), (0, 2.5));
    // The next ramp starts where the formula ended.
    assert_eq!(got[3].curve, linear(0));

    // LOAD_TESTING.md "Formula stages".
    let sine = stages(&format!(
        "{S}duration = \"10m\"\nusers = \"50 + 30 * sin(2 * pi * t / 120)\"\nspawn-rate = 10\n"
    ))
    .unwrap();
    let at = |t: u64| {
        let target = sine[0]
            .curve
            .target_at(0, secs(600), secs(0), secs(t))
            .unwrap();
        target.users
    };
    assert_eq!(
        (at(0), at(30), at(60), at(90), at(120)),
        (50, 80, 50, 20, 50)
    );
}

#[test]
fn bad_formulas_name_file_line_and_key() {
    let formula =
        |users: &str, more: &str| format!("{S}duration = \"5s\"\nusers = \"{users}\"\n{more}");
    let cases = [
        (
            formula("40 * e ** -tt", "spawn-rate = 1\n"),
            vec![
                "locust.toml:5",
                "stages[0].users",
                "unknown name `tt` (did you mean `t`?",
            ],
        ),
        (
            formula("exp(t", "spawn-rate = 1\n"),
            vec![
                "locust.toml:5",
                "stages[0].users",
                "\"exp(t\" is not a valid expression: syntax error",
            ],
        ),
        (
            formula("t - 'x'", "spawn-rate = 1\n"),
            vec![
                "locust.toml:5",
                "stages[0].users",
                "\"t - 'x'\" at t = 0 s: invalid operation",
            ],
        ),
        (
            formula("t", ""),
            vec!["locust.toml:3", "stages[0]`", "needs `spawn-rate`"],
        ),
        (
            formula("t", "spawn-rate = \"t\"\n"),
            vec![
                "locust.toml:6",
                "stages[0].spawn-rate",
                "gives 0 at the stage's start (t = 0 s)",
                "> 0",
            ],
        ),
        (
            formula("t", "spawn-rate = \"rat\"\n"),
            vec![
                "locust.toml:6",
                "stages[0].spawn-rate",
                "unknown name `rat`",
            ],
        ),
        (
            formula("t", "spawn-rate = 1\nramp = \"linear\"\n"),
            vec!["locust.toml:7", "stages[0].ramp", "takes no `ramp`"],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = 5\nspawn-rate = \"t + 1\"\n"),
            vec![
                "locust.toml:6",
                "stages[0].spawn-rate",
                "give `users` as an expression too",
            ],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = 2.5\nspawn-rate = 1\n"),
            vec!["locust.toml:5", "stages[0].users", "whole number"],
        ),
        (
            formula("t", "spawn-rate = 1\nwait-for-users = true\n"),
            vec![
                "locust.toml:7",
                "stages[0].wait-for-users",
                "holds its users",
            ],
        ),
    ];
    for (body, fragments) in cases {
        let err = stages(&body).unwrap_err();
        for fragment in fragments {
            assert!(err.contains(fragment), "{fragment:?} not in {err}\n{body}");
        }
    }
}

#[test]
fn bad_new_keys_name_file_line_and_key() {
    let group = |inner: &str| format!("{S}repeat = 2\nstages = [\n  {inner},\n]\n");
    let cases = [
        (
            format!("{S}duration = \"5s\"\nusers = 3\nramp = \"linaer\"\n"),
            vec!["locust.toml:6", "stages[0].ramp", "did you mean `linear`"],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = 3\nspawn_rate = 1\n"),
            vec!["locust.toml:6", "unknown key", "did you mean `spawn-rate`"],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = 3\nfrom = 1\nspawn-rate = 1\n"),
            vec!["locust.toml:6", "stages[0].from", "ramp = \"linear\""],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = 3\nevery = \"1s\"\nspawn-rate = 1\n"),
            vec!["locust.toml:6", "stages[0].every", "add `step`"],
        ),
        (
            format!("{S}duration = \"5s\"\nusers = 3\nstep = 1\n"),
            vec!["locust.toml:3", "stages[0]`", "needs `every`"],
        ),
        (
            format!("{S}users = 3\nstep = 1\nevery = \"0s\"\n"),
            vec!["locust.toml:6", "stages[0].every", "longer than 0 s"],
        ),
        (
            format!("{S}step = 1\nevery = \"1s\"\n"),
            vec!["locust.toml:3", "`duration`, `until` or `users`"],
        ),
        (
            format!("{S}step = 0\nevery = \"1s\"\nusers = 3\n"),
            vec!["locust.toml:4", "stages[0].step", "at least 1"],
        ),
        (
            format!("{S}step = 2\nevery = \"1s\"\nramp = \"linear\"\nusers = 3\n"),
            vec!["locust.toml:4", "stages[0].step", "not both"],
        ),
        (
            format!("{S}ramp = \"linear\"\nusers = 3\nduration = \"5s\"\nwait-for-users = true\n"),
            vec!["locust.toml:7", "stages[0].wait-for-users", "holds its users"],
        ),
        (
            format!("{S}users = 3\nspawn-rate = 1\nduration = \"5s\"\nwait-for-users = \"yes\"\n"),
            vec!["locust.toml:7", "true or false"],
        ),
        (
            format!("{S}users = 3\nspawn-rate = 1\nduration = \"5s\"\nwait-for-users = true\n{S}users = 1\nspawn-rate = 1\nuntil = \"1m\"\n"),
            vec!["locust.toml:11", "stages[1].until", "waits for its users (", "locust.toml:7)"],
        ),
        (
            group("{ until = \"5s\", users = 3, spawn-rate = 1 }"),
            vec!["locust.toml:6", "stages[0].stages[0].until", "cannot repeat"],
        ),
        (
            format!("{S}repeat = 2\nuntil = \"5s\"\nusers = 3\nspawn-rate = 1\n"),
            vec!["locust.toml:5", "stages[0].until", "cannot repeat"],
        ),
        (
            group("{ duration = \"5s\", users = 3, spawn-rat = 1 }"),
            vec!["locust.toml:6", "stages[0].stages[0].spawn-rat", "did you mean `spawn-rate`"],
        ),
        (
            group("{ duration = \"5s\", users = 3 }"),
            vec!["locust.toml:6", "stages[0].stages[0]`", "needs `spawn-rate`"],
        ),
        (
            format!("{S}repeat = 2\nusers = 4\nstages = [{{ duration = \"5s\", users = 3, spawn-rate = 1 }}]\n"),
            vec!["locust.toml:5", "stages[0].users", "put `users` on the stages inside"],
        ),
        (
            format!("{S}repet = 2\nstages = [{{ duration = \"5s\", users = 3, spawn-rate = 1 }}]\n"),
            vec!["locust.toml:4", "stages[0].repet", "did you mean `repeat`"],
        ),
        (
            format!("{S}repeat = 0\nstages = [{{ duration = \"5s\", users = 3, spawn-rate = 1 }}]\n"),
            vec!["locust.toml:4", "stages[0].repeat", "at least 1"],
        ),
        (
            format!("{S}repeat = 2\nstages = []\n"),
            vec!["locust.toml:5", "stages[0].stages", "expected a list of stage tables"],
        ),
        (
            format!("{S}repeat = 1000\nstages = [{{ repeat = 1000, stages = [{{ duration = \"1s\", users = 1, spawn-rate = 1 }}] }}]\n"),
            vec![
                "locust.toml:5",
                "stages[0].stages[0].repeat",
                "more than 100000 stages",
            ],
        ),
        (
            format!("{S}users = 5\nspawn-rate = 1\nduration = \"5s\"\n{S}step = 5\nevery = \"1s\"\nusers = 5\n"),
            vec!["locust.toml:10", "stages[1].users", "nowhere to go"],
        ),
    ];
    for (body, fragments) in cases {
        let err = stages(&body).unwrap_err();
        for fragment in fragments {
            assert!(err.contains(fragment), "{fragment:?} not in {err}\n{body}");
        }
    }
}
