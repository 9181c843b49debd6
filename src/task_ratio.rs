//! `--list`, `--show-task-ratio` and `--show-task-ratio-json`: what would run, in
//! Locust's layout (and as data, for the reports). Class shares use Locust's proportional rounding (not the spawn
//! sequence), exactly as `locust --show-task-ratio` does.

use std::fmt::Write as _;

use locust_scenario::UserClass;
use locust_stats::pyrepr::repr_float;

/// `Available Users:` and each class indented by four spaces.
pub fn list(classes: &[&UserClass]) -> String {
    let mut out = String::from("Available Users:\n");
    for class in in_definition_order(classes) {
        let _ = writeln!(out, "    {}", class.name);
    }
    out
}

/// Users per class as Locust's inspectuser computes them for `-u` (or the weights).
fn distribution(classes: &[&UserClass], users: Option<u64>) -> Vec<f64> {
    let fixed: u64 = classes.iter().map(|c| u64::from(c.fixed_count)).sum();
    let total_weight: f64 = classes
        .iter()
        .filter(|c| c.fixed_count == 0)
        .map(|c| c.weight)
        .sum();
    let users = match users {
        Some(u) if u > 0 => u as f64,
        _ if fixed == 0 => total_weight,
        _ => 1.0,
    };
    let weighted = (users - fixed as f64).max(0.0);
    classes
        .iter()
        .map(|c| {
            if c.fixed_count > 0 {
                f64::from(c.fixed_count)
            } else if total_weight > 0.0 {
                python_round(c.weight / total_weight * weighted)
            } else {
                0.0
            }
        })
        .collect()
}

/// Python's `round()` to an integer: half to even.
fn python_round(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

struct ClassRatio<'a> {
    name: &'a str,
    ratio: f64,
    tasks: Vec<(&'a str, f64)>,
}

/// Locust lists classes as the files define them (the engine keeps them by name).
fn in_definition_order<'a>(classes: &[&'a UserClass]) -> Vec<&'a UserClass> {
    let mut ordered = classes.to_vec();
    ordered.sort_by_key(|c| c.order);
    ordered
}

fn ratios<'a>(classes: &[&'a UserClass], users: Option<u64>, total: bool) -> Vec<ClassRatio<'a>> {
    let classes = in_definition_order(classes);
    let classes = classes.as_slice();
    let counts = distribution(classes, users);
    let sum: f64 = counts.iter().sum();
    let sum = if sum > 0.0 { sum } else { 1.0 };
    classes
        .iter()
        .zip(counts)
        .map(|(class, count)| {
            let ratio = count / sum;
            let parent = if total { ratio } else { 1.0 };
            let weights: u64 = class.tasks.iter().map(|t| u64::from(t.weight)).sum();
            // A chain's tasks are not picked by weight: each shows its long-run share.
            let chain = class.is_chain().then(|| class.task_ratios());
            let mut tasks: Vec<(&str, f64)> = Vec::new();
            for (i, task) in class.tasks.iter().enumerate() {
                // Locust's order of operations (weight * parent / total), to the last bit.
                let share = match &chain {
                    Some(shares) => shares.get(i).map_or(0.0, |s| s.1) * parent,
                    None => f64::from(task.weight) * parent / weights.max(1) as f64,
                };
                match tasks.iter_mut().find(|(n, _)| *n == task.name) {
                    Some(entry) => entry.1 += share,
                    None => tasks.push((task.name.as_str(), share)),
                }
            }
            ClassRatio {
                name: &class.name,
                ratio,
                tasks,
            }
        })
        .collect()
}

/// One class of the task-ratio trees, as data for reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClassShare {
    pub class: String,
    /// Share of the users.
    pub ratio: f64,
    /// (task, share within the class, share of all tasks run).
    pub tasks: Vec<TaskShare>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskShare {
    pub task: String,
    pub ratio_in_class: f64,
    pub ratio_total: f64,
}

/// Both trees of `--show-task-ratio` as data (Locust's report shows them as "Final ratio").
pub fn shares(classes: &[&UserClass], users: Option<u64>) -> Vec<ClassShare> {
    let per_class = ratios(classes, users, false);
    let total = ratios(classes, users, true);
    per_class
        .into_iter()
        .zip(total)
        .map(|(class, all)| ClassShare {
            class: class.name.to_string(),
            ratio: class.ratio,
            tasks: class
                .tasks
                .iter()
                .zip(all.tasks.iter())
                .map(|((task, in_class), (_, of_all))| TaskShare {
                    task: task.to_string(),
                    ratio_in_class: *in_class,
                    ratio_total: *of_all,
                })
                .collect(),
        })
        .collect()
}

fn line(out: &mut String, level: usize, ratio: f64, name: &str) {
    let padding = "  ".repeat(level);
    let percent = format!("{padding}{:<6.1}", ratio * 100.0);
    let _ = writeln!(out, " {percent:<10} {:<50}", format!("{padding}{name}"));
}

/// The two text blocks of `--show-task-ratio`.
pub fn table(classes: &[&UserClass], users: Option<u64>) -> String {
    let mut out = String::new();
    for (title, total) in [
        (" Task ratio per User class", false),
        (" Total task ratio", true),
    ] {
        let _ = writeln!(out, "\n{title}");
        let _ = writeln!(out, "{}", "-".repeat(80));
        for class in ratios(classes, users, total) {
            line(&mut out, 0, class.ratio, class.name);
            for (task, ratio) in class.tasks {
                line(&mut out, 1, ratio, task);
            }
        }
    }
    out
}

/// `--show-task-ratio-json`: Python's `json.dumps(..., indent=4)` of both trees.
pub fn json(classes: &[&UserClass], users: Option<u64>) -> String {
    let mut out = String::from("{\n");
    for (i, (key, total)) in [("per_class", false), ("total", true)]
        .into_iter()
        .enumerate()
    {
        let _ = writeln!(out, "    \"{key}\": {{");
        let tree = ratios(classes, users, total);
        for (c, class) in tree.iter().enumerate() {
            let _ = writeln!(out, "        {}: {{", json_str(class.name));
            let _ = writeln!(out, "            \"ratio\": {},", repr_float(class.ratio));
            let _ = writeln!(out, "            \"tasks\": {{");
            for (t, (task, ratio)) in class.tasks.iter().enumerate() {
                let _ = writeln!(out, "                {}: {{", json_str(task));
                let _ = writeln!(out, "                    \"ratio\": {}", repr_float(*ratio));
                let comma = if t + 1 < class.tasks.len() { "," } else { "" };
                let _ = writeln!(out, "                }}{comma}");
            }
            let _ = writeln!(out, "            }}");
            let comma = if c + 1 < tree.len() { "," } else { "" };
            let _ = writeln!(out, "        }}{comma}");
        }
        let comma = if i == 0 { "," } else { "" };
        let _ = writeln!(out, "    }}{comma}");
    }
    out.push('}');
    out
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_rounding_is_half_even() {
        assert_eq!(python_round(0.5), 0.0);
        assert_eq!(python_round(1.5), 2.0);
        assert_eq!(python_round(2.5), 2.0);
        assert_eq!(python_round(2.6), 3.0);
    }

    #[test]
    fn ratio_line_layout() {
        let mut out = String::new();
        line(&mut out, 0, 0.75, "ScalingSystemUser");
        assert_eq!(
            out,
            format!(" {:<10} {:<50}\n", "75.0  ", "ScalingSystemUser")
        );
        let mut nested = String::new();
        line(&mut nested, 1, 0.5, "read");
        assert!(nested.starts_with("   50.0"), "{nested:?}");
    }
}
