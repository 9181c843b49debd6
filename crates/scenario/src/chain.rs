//! Markov chains of tasks (Locust's `MarkovTaskSet` with `@transition`/`@transitions`):
//! `next = { checkout = 1, browse = 3 }` on the tasks of a class. This module owns the
//! `next` table as read from TOML, its checks at load (every task has one, targets are
//! task names, weights, no dead end, no own tags, no `sequential`, no task `weight`),
//! the draw of the task that follows at run time, which tasks the chain never reaches,
//! and the long-run share of each task that `--show-task-ratio` prints.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::class::{Task, UserClass};
use crate::error::{did_you_mean, ScenarioError};
use crate::extract::is_identifier;
use crate::model::ClassDef;
use crate::request::Cx;
use crate::source::suggest;

/// One way on from a task: the index of the task that may follow (in the class's
/// task list) and its weight (never 0: a weight-0 transition is dropped at load).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: usize,
    pub weight: u32,
}

/// `next = { name = weight, ... }` in written order, each name with its own position so
/// that an unknown one is reported where it is written. Any other TOML value is kept as
/// its type's name, so that `compile_chain` reports it with its key rather than serde.
#[derive(Debug, Default)]
pub(crate) struct NextDef {
    pub pairs: Vec<(Spanned<String>, Spanned<toml::Value>)>,
    /// Set when `next` is not a table: what it is instead.
    pub not_a_table: Option<&'static str>,
}

impl<'de> Deserialize<'de> for NextDef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NextVisitor;
        fn other(what: &'static str) -> NextDef {
            NextDef {
                pairs: Vec::new(),
                not_a_table: Some(what),
            }
        }
        impl<'de> Visitor<'de> for NextVisitor {
            type Value = NextDef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a table of task names and integer weights, e.g. { checkout = 1, browse = 3 }",
                )
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NextDef, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<Spanned<String>, Spanned<toml::Value>>()? {
                    pairs.push(pair);
                }
                Ok(NextDef {
                    pairs,
                    not_a_table: None,
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NextDef, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(other("an array"))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<NextDef, E> {
                Ok(other("a string"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<NextDef, E> {
                Ok(other("an integer"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<NextDef, E> {
                Ok(other("an integer"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<NextDef, E> {
                Ok(other("a float"))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<NextDef, E> {
                Ok(other("a boolean"))
            }
        }
        deserializer.deserialize_any(NextVisitor)
    }
}

/// Checks the `next` tables of a class and stores them on its compiled tasks (same
/// order as `def.tasks`). A class without any `next` is left as it is.
pub(crate) fn compile_chain(
    cx: &Cx<'_>,
    class_key: &str,
    def: &ClassDef,
    tasks: &mut [Task],
) -> Result<(), ScenarioError> {
    let Some(first) = def.tasks.iter().position(|t| t.get_ref().next.is_some()) else {
        return Ok(());
    };
    if let Some(sequential) = def.sequential.as_ref().filter(|s| *s.get_ref()) {
        return Err(cx.invalid(
            sequential.span(),
            &format!("{class_key}.sequential"),
            format!(
                "`sequential = true` does not go with `next` (on `tasks[{first}]`): a class runs its tasks either in written order or as a chain"
            ),
        ));
    }
    let names: Vec<String> = tasks.iter().map(|t| t.name.clone()).collect();
    let mut chains = Vec::with_capacity(names.len());
    for (i, spanned) in def.tasks.iter().enumerate() {
        let task = spanned.get_ref();
        let key = format!("{class_key}.tasks[{i}]");
        let name = names.get(i).map_or("", String::as_str);
        let Some(next) = &task.next else {
            return Err(cx.invalid(
                spanned.span(),
                &key,
                format!(
                    "task `{name}` has no `next`: when a task of a class has `next` (here `tasks[{first}]`), the class is a Markov chain and every task says which tasks may follow it, as every task of Locust's MarkovTaskSet has @transition"
                ),
            ));
        };
        if let Some(weight) = &task.weight {
            return Err(cx.invalid(
                weight.span(),
                &format!("{key}.weight"),
                "`weight` does not go with `next`: in a chain the task that runs next is drawn from the `next` weights of the task before it",
            ));
        }
        if !task.tags.is_empty() {
            return Err(cx.invalid(
                spanned.span(),
                &format!("{key}.tags"),
                format!(
                    "a task of a chain has no `tags` of its own (as in Locust's MarkovTaskSet): --tags or --exclude-tags could leave transitions to a task that is gone; tag the class (`{class_key}.tags`), which keeps or drops the whole chain"
                ),
            ));
        }
        if let Some(what) = next.get_ref().not_a_table {
            return Err(cx.invalid(
                next.span(),
                &format!("{key}.next"),
                format!(
                    "`next` is a table of the tasks that may follow this one and their weights, e.g. `next = {{ checkout = 1, browse = 3 }}`, not {what}"
                ),
            ));
        }
        let mut out = Vec::new();
        for (target, weight) in &next.get_ref().pairs {
            let target_key = format!("{key}.next.{}", toml_key(target.get_ref()));
            let Some(to) = names.iter().position(|n| n == target.get_ref()) else {
                let suggestion = suggest(target.get_ref(), names.iter().map(String::as_str));
                let listed = if names.len() <= 12 {
                    format!(" (its tasks: {})", names.join(", "))
                } else {
                    String::new()
                };
                return Err(cx.invalid(
                    target.span(),
                    &target_key,
                    format!(
                        "no task of class {} is named `{}`{}{listed}",
                        cx.class,
                        target.get_ref(),
                        did_you_mean(&suggestion)
                    ),
                ));
            };
            let bad = || ScenarioError::Weight {
                at: cx.loc(weight.span(), &target_key),
                value: weight.get_ref().to_string(),
                expected: "a transition weight is an integer >= 0 (0: never taken)",
            };
            let weight = match weight.get_ref() {
                toml::Value::Integer(w) => u32::try_from(*w).map_err(|_| bad())?,
                _ => return Err(bad()),
            };
            if weight > 0 {
                out.push(Transition { to, weight });
            }
        }
        if out.is_empty() {
            return Err(cx.invalid(
                next.span(),
                &format!("{key}.next"),
                format!(
                    "task `{name}` is a dead end: no task may follow it (its `next` is empty or its weights are all 0); give at least one a weight >= 1, e.g. `{} = 1` to start over",
                    toml_key(names.first().map_or("", String::as_str))
                ),
            ));
        }
        chains.push(out);
    }
    for (task, next) in tasks.iter_mut().zip(chains) {
        task.next = next;
    }
    Ok(())
}

/// A task name as a TOML key: bare when it can be, else quoted.
fn toml_key(name: &str) -> String {
    if is_identifier(name) {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

impl Task {
    /// In a chain, the index of the task to run after this one, drawn by the `next`
    /// weights; None for a task that is not part of a chain.
    pub fn draw_next<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Option<usize> {
        let total: u64 = self.next.iter().map(|t| u64::from(t.weight)).sum();
        if total == 0 {
            return None;
        }
        let mut roll = rng.random_range(0..total);
        for transition in &self.next {
            let weight = u64::from(transition.weight);
            if roll < weight {
                return Some(transition.to);
            }
            roll -= weight;
        }
        self.next.last().map(|t| t.to)
    }
}

impl UserClass {
    /// True when the class's tasks run as a Markov chain (they have `next`), starting
    /// at the first task.
    pub fn is_chain(&self) -> bool {
        self.tasks.iter().any(|t| !t.next.is_empty())
    }

    /// The tasks of a chain that no path of transitions (weight > 0) leads to from the
    /// first task, in written order; they never run. Empty for a class that is no chain.
    /// Locust warns about them (`The following markov tasks are unreachable ...`).
    pub fn unreachable_tasks(&self) -> Vec<&str> {
        if !self.is_chain() {
            return Vec::new();
        }
        let mut seen = vec![false; self.tasks.len()];
        let mut pending = vec![0];
        while let Some(i) = pending.pop() {
            let Some(slot) = seen.get_mut(i) else {
                continue;
            };
            if std::mem::replace(slot, true) {
                continue;
            }
            if let Some(task) = self.tasks.get(i) {
                pending.extend(task.next.iter().map(|t| t.to));
            }
        }
        self.tasks
            .iter()
            .zip(seen)
            .filter(|(_, seen)| !seen)
            .map(|(t, _)| t.name.as_str())
            .collect()
    }
}

/// Bounds the work of [`long_run_shares`]: rounds × (tasks + transitions).
const SHARE_WORK: usize = 50_000_000;

/// For a chain: the long-run share of each task among the task runs of a user that
/// starts at the first task (the chain's stationary distribution; when the first task
/// can end up in one of several closed groups of tasks, the mix the user is expected to
/// end up in). Computed on the "lazy" chain that stays put half of the time: it has the
/// same long-run shares, and converges even when the chain is periodic (a → b → c → a).
pub(crate) fn long_run_shares(tasks: &[Task]) -> Vec<f64> {
    let n = tasks.len();
    if n == 0 {
        return Vec::new();
    }
    let totals: Vec<f64> = tasks
        .iter()
        .map(|t| t.next.iter().map(|x| f64::from(x.weight)).sum())
        .collect();
    let edges: usize = tasks.iter().map(|t| t.next.len()).sum();
    let rounds = (SHARE_WORK / (n + edges)).clamp(1, 200_000);
    let mut p = vec![0.0; n];
    p[0] = 1.0;
    for _ in 0..rounds {
        let mut q = vec![0.0; n];
        for (i, task) in tasks.iter().enumerate() {
            if totals[i] <= 0.0 {
                // No way on (never after validation): the share stays where it is.
                q[i] += p[i];
                continue;
            }
            q[i] += p[i] / 2.0;
            for t in &task.next {
                if let Some(slot) = q.get_mut(t.to) {
                    *slot += p[i] / 2.0 * f64::from(t.weight) / totals[i];
                }
            }
        }
        let change: f64 = p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum();
        p = q;
        if change < 1e-16 {
            break;
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn task(name: &str, next: &[(usize, u32)]) -> Task {
        Task {
            name: name.into(),
            weight: 1,
            tags: Vec::new(),
            steps: Vec::new(),
            requires: Vec::new(),
            stop_on_failure: false,
            next: next
                .iter()
                .map(|&(to, weight)| Transition { to, weight })
                .collect(),
        }
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-6)
    }

    #[test]
    fn a_cycle_shares_evenly_although_it_is_periodic() {
        let tasks = [
            task("a", &[(1, 1)]),
            task("b", &[(2, 1)]),
            task("c", &[(0, 1)]),
        ];
        let shares = long_run_shares(&tasks);
        assert!(close(&shares, &[1.0 / 3.0; 3]), "{shares:?}");
    }

    #[test]
    fn weights_give_the_stationary_distribution() {
        // a -> b always; b -> a 1, b -> b 3: pi_a = pi_b / 4, so (0.2, 0.8).
        let tasks = [task("a", &[(1, 1)]), task("b", &[(0, 1), (1, 3)])];
        let shares = long_run_shares(&tasks);
        assert!(close(&shares, &[0.2, 0.8]), "{shares:?}");
    }

    #[test]
    fn the_shares_are_the_frequencies_real_locust_runs_the_tasks_in() {
        // a -> {b: 2, c: 1}, b -> {c: 1}, c -> {a: 1, b: 1}: 3/14, 5/14, 6/14. Real
        // Locust 2.47's MarkovTaskSet.get_next_task, 1,000,000 draws (random.seed(12345)):
        // a 0.21418, b 0.357264, c 0.428556 (tests/locust_interop_ratio.rs runs it live).
        let tasks = [
            task("a", &[(1, 2), (2, 1)]),
            task("b", &[(2, 1)]),
            task("c", &[(0, 1), (1, 1)]),
        ];
        let shares = long_run_shares(&tasks);
        let exact = [3.0 / 14.0, 5.0 / 14.0, 6.0 / 14.0];
        assert!(
            shares.iter().zip(exact).all(|(s, e)| (s - e).abs() < 1e-14),
            "{shares:?}"
        );
        let locust = [0.21418, 0.357264, 0.428556];
        assert!(
            shares.iter().zip(locust).all(|(s, l)| (s - l).abs() < 1e-3),
            "{shares:?}"
        );
    }

    #[test]
    fn a_task_left_for_good_has_no_long_run_share() {
        // start -> loop, and loop only ever goes back to itself.
        let tasks = [task("start", &[(1, 1)]), task("loop", &[(1, 1)])];
        let shares = long_run_shares(&tasks);
        assert!(close(&shares, &[0.0, 1.0]), "{shares:?}");
    }

    #[test]
    fn the_draw_follows_the_weights_and_never_takes_a_missing_transition() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let t = task("a", &[(1, 1), (2, 3)]);
        let mut counts = [0u32; 3];
        for _ in 0..4000 {
            counts[t.draw_next(&mut rng).unwrap()] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!((800..1200).contains(&counts[1]), "{counts:?}");
        assert_eq!(task("x", &[]).draw_next(&mut rng), None);
    }

    #[test]
    fn toml_keys_are_quoted_when_they_must_be() {
        assert_eq!(toml_key("checkout"), "checkout");
        assert_eq!(toml_key("GET /a"), "\"GET /a\"");
    }
}
