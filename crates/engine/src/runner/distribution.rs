//! The target distribution of users over classes that both runners follow: the
//! dispatcher's sequence (user n belongs to class `sequence[n]`), generated as far as
//! needed, over the classes currently allowed (a stage's `user-classes`).

use super::super::dispatch::Dispatcher;
use super::ClassWeight;

pub(super) struct Distribution {
    pub weights: Vec<ClassWeight>,
    dispatcher: Dispatcher,
    sequence: Vec<usize>,
    /// Classes users may currently belong to.
    pub active: Vec<bool>,
}

impl Distribution {
    pub fn new(weights: Vec<ClassWeight>) -> Self {
        Distribution {
            dispatcher: Dispatcher::new(weights.clone()),
            active: vec![true; weights.len()],
            weights,
            sequence: Vec::new(),
        }
    }

    /// Restricts the distribution to `classes` (None: all): it starts again over the
    /// classes left. True if the allowed classes changed.
    pub fn switch(&mut self, classes: Option<&[String]>) -> bool {
        let active: Vec<bool> = self
            .weights
            .iter()
            .map(|w| classes.is_none_or(|names| names.contains(&w.name)))
            .collect();
        if active == self.active {
            return false;
        }
        let masked = self
            .weights
            .iter()
            .zip(&active)
            .map(|(w, on)| ClassWeight {
                weight: if *on { w.weight } else { 0.0 },
                fixed_count: if *on { w.fixed_count } else { 0 },
                name: w.name.clone(),
            })
            .collect();
        self.dispatcher = Dispatcher::new(masked);
        self.sequence.clear();
        self.active = active;
        true
    }

    /// The classes of the first `target` users (fewer when no class can take more).
    pub fn prefix(&mut self, target: usize) -> &[usize] {
        while self.sequence.len() < target {
            let Some(class) = self.dispatcher.next_class() else {
                break;
            };
            self.sequence.push(class);
        }
        &self.sequence[..target.min(self.sequence.len())]
    }

    /// Users per class among the first `target`.
    pub fn counts(&mut self, target: usize) -> Vec<u64> {
        let mut counts = vec![0u64; self.weights.len()];
        for &class in self.prefix(target) {
            counts[class] += 1;
        }
        counts
    }
}
