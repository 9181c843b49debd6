//! Which class each new user belongs to: Locust's UsersDispatcher order. `fixed_count`
//! classes come first, then the weighted classes follow the KL-divergence sequence, so
//! the same weights always give the same users in the same order (ramp-down is LIFO).

/// A class as the dispatcher sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassWeight {
    pub name: String,
    pub weight: f64,
    pub fixed_count: u64,
}

/// Picks the next class index by Locust's rule: with weight `w` picked `k` times the
/// priority is `w * log2((w+k)/(w+k+1))`; the smallest wins; ties go to the smaller
/// `w+k+1`, then the smaller `w`, then the name.
fn pick(weights: &[(usize, f64)], picked: &[u64], names: &[&str]) -> Option<usize> {
    weights
        .iter()
        .map(|&(index, w)| {
            let k = picked[index] as f64;
            let priority = w * ((w + k) / (w + k + 1.0)).log2();
            (index, priority, w + k + 1.0, w)
        })
        .min_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then(a.2.total_cmp(&b.2))
                .then(a.3.total_cmp(&b.3))
                .then(names[a.0].cmp(names[b.0]))
        })
        .map(|(index, ..)| index)
}

/// Hands out the class of each next user, lazily, so memory follows the users that
/// were really started rather than the `-u` asked for.
/// Classes are expected sorted by name (as scenario loading returns them).
#[derive(Debug, Clone)]
pub struct Dispatcher {
    classes: Vec<ClassWeight>,
    fixed_picks: Vec<u64>,
    weighted_picks: Vec<u64>,
    weighted: Vec<(usize, f64)>,
}

impl Dispatcher {
    pub fn new(classes: Vec<ClassWeight>) -> Self {
        let weighted = classes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.fixed_count == 0 && c.weight > 0.0)
            .map(|(i, c)| (i, c.weight))
            .collect();
        Dispatcher {
            fixed_picks: vec![0; classes.len()],
            weighted_picks: vec![0; classes.len()],
            classes,
            weighted,
        }
    }

    /// The class index of the next user; `None` when no class can take one.
    pub fn next_class(&mut self) -> Option<usize> {
        let names: Vec<&str> = self.classes.iter().map(|c| c.name.as_str()).collect();
        // Fixed classes first; each keeps its fixed count as weight until it is full.
        let missing: Vec<(usize, f64)> = self
            .classes
            .iter()
            .enumerate()
            .filter(|(i, c)| c.fixed_count > self.fixed_picks[*i])
            .map(|(i, c)| (i, c.fixed_count as f64))
            .collect();
        if let Some(index) = pick(&missing, &self.fixed_picks, &names) {
            self.fixed_picks[index] += 1;
            return Some(index);
        }
        let index = pick(&self.weighted, &self.weighted_picks, &names)?;
        self.weighted_picks[index] += 1;
        Some(index)
    }
}

/// Workers in Locust's dispatch order (§7.1): sorted by id, each given its index among
/// the workers of its host (the id up to the first `_`), then sorted by (that index,
/// id), so that consecutive users land on different hosts first.
pub fn worker_order(ids: &[String]) -> Vec<String> {
    let mut by_id: Vec<&String> = ids.iter().collect();
    by_id.sort();
    let mut per_host: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut ranked: Vec<(usize, &String)> = by_id
        .into_iter()
        .map(|id| {
            let host = id.split('_').next().unwrap_or("");
            let slot = per_host.entry(host).or_insert(0);
            let index = *slot;
            *slot += 1;
            (index, id)
        })
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(_, id)| id.clone()).collect()
}

/// Users per class on each of `workers` workers when the users of `sequence` (their
/// classes, in spawn order) are dealt round-robin in dispatch order, as Locust's
/// UsersDispatcher deals them.
pub fn deal(sequence: &[usize], classes: usize, workers: usize) -> Vec<Vec<u64>> {
    let mut dealt = vec![vec![0u64; classes]; workers];
    if workers == 0 {
        return dealt;
    }
    for (position, &class) in sequence.iter().enumerate() {
        dealt[position % workers][class] += 1;
    }
    dealt
}

/// The class index of each of the first `count` users, in spawn order.
#[cfg(test)]
pub fn user_sequence(classes: &[ClassWeight], count: u64) -> Vec<usize> {
    let mut dispatcher = Dispatcher::new(classes.to_vec());
    (0..count).map_while(|_| dispatcher.next_class()).collect()
}

/// Users per class among the first `count` users.
#[cfg(test)]
pub fn class_counts(classes: &[ClassWeight], count: u64) -> Vec<u64> {
    let mut counts = vec![0u64; classes.len()];
    for index in user_sequence(classes, count) {
        counts[index] += 1;
    }
    counts
}

/// Weighted classes (no fixed counts) from (name, weight) pairs, for tests.
#[cfg(test)]
pub fn weighted(spec: &[(&str, f64)]) -> Vec<ClassWeight> {
    spec.iter()
        .map(|(n, w)| ClassWeight {
            name: n.to_string(),
            weight: *w,
            fixed_count: 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letters(classes: &[ClassWeight], n: u64) -> String {
        user_sequence(classes, n)
            .into_iter()
            .map(|i| classes[i].name.clone())
            .collect()
    }

    #[test]
    fn sequences_observed_from_locust() {
        assert_eq!(
            letters(&weighted(&[("A", 3.0), ("B", 1.0)]), 12),
            "ABAAABAAABAA"
        );
        assert_eq!(
            letters(&weighted(&[("A", 5.0), ("B", 1.0)]), 12),
            "AABAAAAABAAA"
        );
        assert_eq!(
            letters(&weighted(&[("A", 3.0), ("B", 2.0), ("D", 1.0)]), 12),
            "ABDABAABDABA"
        );
        assert_eq!(letters(&weighted(&[("A", 1.0), ("B", 1.0)]), 4), "ABAB");
    }

    #[test]
    fn counts_follow_the_sequence() {
        let classes = weighted(&[("A", 3.0), ("B", 1.0)]);
        assert_eq!(class_counts(&classes, 8), vec![6, 2]);
        let three = weighted(&[("A", 3.0), ("B", 2.0), ("D", 1.0)]);
        assert_eq!(class_counts(&three, 3), vec![1, 1, 1]);
    }

    #[test]
    fn fixed_count_classes_come_first() {
        let mut classes = weighted(&[("A", 3.0), ("B", 1.0)]);
        classes.push(ClassWeight {
            name: "C".into(),
            weight: 1.0,
            fixed_count: 2,
        });
        assert_eq!(class_counts(&classes, 10), vec![6, 2, 2]);
        assert_eq!(class_counts(&classes, 1), vec![0, 0, 1]);
        assert_eq!(letters(&classes, 4), "CCAB");
    }

    #[test]
    fn users_are_dealt_over_workers_hosts_first() {
        let classes = weighted(&[("A", 3.0), ("B", 1.0)]);
        // Locust, 3 workers, A3 B1, u=8: w0 {A3}, w1 {A2,B1}, w2 {A1,B1}.
        let dealt = deal(&user_sequence(&classes, 8), 2, 3);
        assert_eq!(dealt, vec![vec![3, 0], vec![2, 1], vec![1, 1]]);
        assert!(deal(&[0, 1], 2, 0).is_empty());
        let ids: Vec<String> = ["b_2", "a_1", "a_2", "b_1", "c_1"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            worker_order(&ids),
            vec!["a_1", "b_1", "c_1", "a_2", "b_2"],
            "one worker of each host before a second of any"
        );
    }

    #[test]
    fn zero_weight_classes_are_left_out() {
        let classes = weighted(&[("A", 0.0), ("B", 1.0)]);
        assert_eq!(class_counts(&classes, 3), vec![0, 3]);
        assert!(user_sequence(&weighted(&[("A", 0.0)]), 3).is_empty());
    }
}
