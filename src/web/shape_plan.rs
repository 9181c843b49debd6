//! The planned load of a web test, for the page to draw under the measured figures and
//! to name the stage in progress: a profile's stages played on paper (each stage's
//! target every half second, the count moving toward it at the stage's spawn rate, as
//! the runner would), or an arrival schedule's rate (iterations/s), or a plain ramp.
//! Pure functions of the `RunSpec`, tested without clocks.

use std::time::Duration;

use locust_engine::{Schedule, Stage};
use serde_json::{json, Value};

use crate::config::RunSpec;

/// The paper step: fine enough that a 25 users/s jump is drawn as the ramp it is.
const STEP: f64 = 0.5;
/// More points than a chart is wide add nothing; longer plans are thinned to this.
const MAX_POINTS: usize = 1200;

/// What the page draws and names.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedLoad {
    /// "stages" (users), "arrival" (iterations/s) or "ramp" (users, -u/-r).
    pub kind: &'static str,
    /// (seconds since the test started, users or iterations/s), time ascending.
    pub points: Vec<(f64, f64)>,
    pub stages: Vec<StageSpan>,
}

/// One stage (or arrival stage) as the page names it.
#[derive(Debug, Clone, PartialEq)]
pub struct StageSpan {
    pub start: f64,
    pub end: f64,
    /// "50 users at 25/s", "linear ramp to 100 users", "to 20 iterations/s".
    pub label: String,
}

impl PlannedLoad {
    /// The plan of `spec`: its stages, its arrival schedule, or a ramp to -u at -r held
    /// for the run time (None without a run time: nothing to draw past the ramp).
    pub fn of(spec: &RunSpec) -> Option<PlannedLoad> {
        if let Some(arrival) = &spec.arrival {
            return Some(arrival_plan(&arrival.schedule));
        }
        if let Some(stages) = &spec.stages {
            return Some(stages_plan(stages));
        }
        let run_time = spec.run_time?.as_secs_f64();
        let rate = if spec.spawn_rate > 0.0 {
            spec.spawn_rate
        } else {
            f64::INFINITY
        };
        let ramp = (spec.users as f64 / rate).min(run_time);
        let reached = (ramp * rate).min(spec.users as f64);
        Some(PlannedLoad {
            kind: "ramp",
            points: vec![(0.0, 0.0), (ramp, reached), (run_time, reached)],
            stages: Vec::new(),
        })
    }

    /// The stage in progress `elapsed` seconds into the test, from 0.
    pub fn stage_at(&self, elapsed: f64) -> Option<usize> {
        self.stages
            .iter()
            .position(|s| elapsed >= s.start && elapsed < s.end)
    }

    pub fn to_json(&self) -> Value {
        let points: Vec<Value> = self
            .points
            .iter()
            .map(|(t, v)| json!([round3(*t), round3(*v)]))
            .collect();
        let stages: Vec<Value> = self
            .stages
            .iter()
            .map(|s| json!({"start": s.start, "end": s.end, "label": s.label}))
            .collect();
        json!({
            "kind": self.kind,
            "unit": if self.kind == "arrival" { "iterations/s" } else { "users" },
            "points": points,
            "stages": stages,
        })
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn stages_plan(stages: &[Stage]) -> PlannedLoad {
    let mut points = vec![(0.0, 0.0)];
    let mut spans = Vec::new();
    let mut previous_end = Duration::ZERO;
    for stage in stages {
        let start = previous_end;
        let count = points.last().map_or(0.0, |p| p.1);
        let at = |offset: f64| start.as_secs_f64() + offset;
        match &stage.curve {
            locust_engine::Curve::Ramp { from, easing } => {
                // The runner follows a ramp tick by tick: the plan is the curve itself.
                let ramp = ramp_points(*from, stage.users, *easing, stage.end - start);
                points.extend(ramp.into_iter().map(|(t, v)| (at(t), v)));
            }
            _ => {
                let played = play(stage, start, count);
                points.extend(played.into_iter().map(|(t, v)| (at(t), v)));
            }
        }
        spans.push(StageSpan {
            start: start.as_secs_f64(),
            end: stage.end.as_secs_f64(),
            label: stage_label(stage),
        });
        previous_end = stage.end;
    }
    PlannedLoad {
        kind: "stages",
        points: thin(simplify(points)),
        stages: spans,
    }
}

/// A ramp's curve every second of its stage (and at its end), from its start.
fn ramp_points(
    from: u64,
    users: u64,
    easing: locust_engine::Easing,
    length: Duration,
) -> Vec<(f64, f64)> {
    let (from, to) = (from as f64, users as f64);
    let seconds = length.as_secs_f64();
    let mut out = Vec::new();
    let mut offset = 0.0_f64;
    loop {
        let share = if seconds > 0.0 { offset / seconds } else { 1.0 };
        out.push((offset, from + (to - from) * eased(easing, share)));
        if offset >= seconds {
            return out;
        }
        offset = (offset + 1.0).min(seconds);
    }
}

/// A held, stepped or computed stage played on paper from `count` users: its target
/// every half second, the count moving toward it at the spawn rate. Offsets into it.
fn play(stage: &Stage, start: Duration, mut count: f64) -> Vec<(f64, f64)> {
    let length = stage.end.saturating_sub(start).as_secs_f64();
    let mut out = Vec::new();
    let mut rate = stage.spawn_rate;
    let mut target = count;
    let mut offset = 0.0;
    while offset < length {
        let into = Duration::from_secs_f64(offset);
        let whole = stage.end.saturating_sub(start);
        if let Ok(t) = stage.curve.target_at(stage.users, whole, start, into) {
            target = t.users as f64;
            rate = t.spawn_rate.unwrap_or(rate);
        }
        let step = STEP.min(length - offset);
        count = toward(count, target, rate, step);
        offset += step;
        out.push((offset, count));
    }
    out
}

/// The share of a ramp covered at `x` (0..=1) of its stage, as the engine eases it.
fn eased(easing: locust_engine::Easing, x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    match easing {
        locust_engine::Easing::Linear => x,
        locust_engine::Easing::Smooth => (1.0 - (std::f64::consts::PI * x).cos()) / 2.0,
    }
}

/// `count` moved toward `target` at `rate` per second for `seconds`.
fn toward(count: f64, target: f64, rate: f64, seconds: f64) -> f64 {
    let reach = if rate > 0.0 {
        rate * seconds
    } else {
        f64::INFINITY
    };
    if target > count {
        (count + reach).min(target)
    } else {
        (count - reach).max(target)
    }
}

fn stage_label(stage: &Stage) -> String {
    use locust_engine::Curve;
    let classes = stage
        .user_classes
        .as_ref()
        .map(|c| format!(" ({})", c.names.join(", ")))
        .unwrap_or_default();
    let what = match &stage.curve {
        Curve::Hold => format!("{} users at {}/s", stage.users, stage.spawn_rate),
        Curve::Ramp { from, .. } => format!("ramp {from} \u{2192} {} users", stage.users),
        Curve::Steps { from, step, every } => format!(
            "steps of {step} every {} s, {from} \u{2192} {} users",
            every.as_secs_f64(),
            stage.users
        ),
        Curve::Formula { users, .. } => format!("users = {}", users.source()),
    };
    format!("{what}{classes}")
}

fn arrival_plan(schedule: &Schedule) -> PlannedLoad {
    let (mut rate, stages): (f64, Vec<(Duration, f64)>) = match schedule {
        Schedule::Constant { rate, duration } => (*rate, vec![(*duration, *rate)]),
        Schedule::Ramping { start_rate, stages } => (
            *start_rate,
            stages.iter().map(|s| (s.duration, s.target)).collect(),
        ),
    };
    let mut points = vec![(0.0, rate)];
    let mut spans = Vec::new();
    let mut at = 0.0;
    for (duration, target) in stages {
        let end = at + duration.as_secs_f64();
        points.push((end, target));
        let label = if (target - rate).abs() < 1e-9 {
            format!("{target} iterations/s")
        } else {
            format!("{rate} \u{2192} {target} iterations/s")
        };
        spans.push(StageSpan {
            start: at,
            end,
            label,
        });
        rate = target;
        at = end;
    }
    PlannedLoad {
        kind: "arrival",
        points,
        stages: spans,
    }
}

/// Drops the middle of every three points on one straight line.
fn simplify(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(points.len());
    for p in points {
        if out.len() >= 2 {
            let (a, b) = (out[out.len() - 2], out[out.len() - 1]);
            let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
            if cross.abs() < 1e-6 {
                out.pop();
            }
        }
        out.push(p);
    }
    out
}

/// Every n-th point (and the last) when there are more than a chart can show.
fn thin(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    if points.len() <= MAX_POINTS {
        return points;
    }
    let every = points.len().div_ceil(MAX_POINTS);
    let last = points[points.len() - 1];
    let mut out: Vec<(f64, f64)> = points.into_iter().step_by(every).collect();
    if out.last() != Some(&last) {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use locust_engine::{Curve, Easing, RateStage};

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_spike_profile_ramps_holds_and_drops() {
        let plan = stages_plan(&[
            Stage::hold(secs(15), 1, 1.0),
            Stage::hold(secs(75), 50, 25.0),
            Stage::hold(secs(90), 1, 25.0),
        ]);
        let has = |t: f64, users: f64| {
            plan.points
                .iter()
                .any(|p| (p.0 - t).abs() < 0.51 && (p.1 - users).abs() < 1e-9)
        };
        assert_eq!(plan.points[0], (0.0, 0.0));
        assert!(has(1.0, 1.0) && has(15.0, 1.0), "{:?}", plan.points);
        assert!(has(17.0, 50.0) && has(75.0, 50.0), "{:?}", plan.points);
        assert!(has(77.0, 1.0), "{:?}", plan.points);
        assert!(
            plan.points.len() < 12,
            "straight runs merged: {:?}",
            plan.points
        );
        assert_eq!(plan.stages.len(), 3);
        assert_eq!(plan.stages[1].label, "50 users at 25/s");
        assert_eq!(plan.stage_at(0.0), Some(0));
        assert_eq!(plan.stage_at(20.0), Some(1));
        assert_eq!(plan.stage_at(89.9), Some(2));
        assert_eq!(plan.stage_at(90.0), None);
        assert_eq!(plan.points.last(), Some(&(90.0, 1.0)));
    }

    #[test]
    fn a_linear_ramp_is_one_straight_segment() {
        let stage = Stage {
            curve: Curve::Ramp {
                from: 0,
                easing: Easing::Linear,
            },
            ..Stage::hold(secs(100), 100, 1.0)
        };
        let plan = stages_plan(&[stage]);
        assert_eq!(plan.points, vec![(0.0, 0.0), (100.0, 100.0)]);
        assert!(plan.stages[0].label.starts_with("ramp 0"));
    }

    #[test]
    fn an_arrival_schedule_is_drawn_in_iterations_per_second() {
        let plan = arrival_plan(&Schedule::Ramping {
            start_rate: 2.0,
            stages: vec![
                RateStage {
                    duration: secs(10),
                    target: 10.0,
                },
                RateStage {
                    duration: secs(5),
                    target: 10.0,
                },
            ],
        });
        assert_eq!(plan.points, vec![(0.0, 2.0), (10.0, 10.0), (15.0, 10.0)]);
        assert_eq!(plan.to_json()["unit"], "iterations/s");
        assert_eq!(plan.stages[0].label, "2 \u{2192} 10 iterations/s");
        assert_eq!(plan.stage_at(12.0), Some(1));
    }

    #[test]
    fn long_plans_are_thinned() {
        let points: Vec<(f64, f64)> = (0..5000).map(|i| (i as f64, (i % 7) as f64)).collect();
        let thinned = thin(points);
        assert!(thinned.len() <= MAX_POINTS + 1);
        assert_eq!(thinned.last(), Some(&(4999.0, 1.0)));
    }
}
