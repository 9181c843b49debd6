//! The master's table of workers: each one's stable index, state, liveness counter and
//! last reported users, CPU and memory, with Locust's liveness rule (§9.5): a
//! heartbeat resets the counter to 3, each second lowers it by 1; below 0 the worker is
//! missing (its users are dealt to the others), at -60 it is removed. The table is
//! bounded: a peer cannot grow it past `MAX_WORKERS` identities.

use std::collections::{BTreeMap, HashMap};

/// Locust's HEARTBEAT_LIVENESS and HEARTBEAT_DEAD_INTERNAL.
pub const LIVENESS: i32 = 3;
pub const DEAD: i32 = -60;
/// The most workers one master tracks (indexes included); more are refused.
pub const MAX_WORKERS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Ready,
    Spawning,
    Running,
    Stopped,
    Missing,
    /// What a worker's heartbeat said, when it is none of the above (Locust's
    /// "cleanup", "stopping", or another implementation's word).
    Other(String),
}

impl State {
    pub fn from_heartbeat(word: &str) -> State {
        match word {
            "ready" => State::Ready,
            "spawning" => State::Spawning,
            "running" => State::Running,
            "stopped" => State::Stopped,
            "missing" => State::Missing,
            other => State::Other(other.chars().take(32).collect()),
        }
    }

    pub fn word(&self) -> &str {
        match self {
            State::Ready => "ready",
            State::Spawning => "spawning",
            State::Running => "running",
            State::Stopped => "stopped",
            State::Missing => "missing",
            State::Other(word) => word,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    pub index: u64,
    pub state: State,
    pub liveness: i32,
    pub user_count: u64,
    pub classes: BTreeMap<String, u64>,
    pub cpu: f64,
    pub memory: u64,
    pub cpu_warned: bool,
}

/// What a liveness tick found.
#[derive(Debug, Default, PartialEq)]
pub struct Tick {
    /// Workers that just went missing.
    pub missing: Vec<String>,
    /// Missing workers removed for good.
    pub dead: Vec<String>,
}

#[derive(Default)]
pub struct Nodes {
    nodes: BTreeMap<String, Node>,
    /// A worker keeps its index while the master runs, even between its connections.
    indexes: HashMap<String, u64>,
}

impl Nodes {
    /// A worker's `client_ready`: (its index, whether it was connected already), or
    /// None when the table is full.
    pub fn ready(&mut self, id: &str) -> Option<(u64, bool)> {
        let index = match self.indexes.get(id) {
            Some(index) => *index,
            None if self.indexes.len() >= MAX_WORKERS => return None,
            None => {
                let index = self.indexes.len() as u64;
                self.indexes.insert(id.to_string(), index);
                index
            }
        };
        let again = self
            .nodes
            .insert(
                id.to_string(),
                Node {
                    index,
                    state: State::Ready,
                    liveness: LIVENESS,
                    user_count: 0,
                    classes: BTreeMap::new(),
                    cpu: 0.0,
                    memory: 0,
                    cpu_warned: false,
                },
            )
            .is_some();
        Some((index, again))
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut Node> {
        self.nodes.get_mut(id)
    }

    pub fn get(&self, id: &str) -> Option<&Node> {
        self.nodes.get(id)
    }

    pub fn remove(&mut self, id: &str) -> Option<Node> {
        self.nodes.remove(id)
    }

    /// The index a worker had, connected or not ("?" for one never seen).
    pub fn index_of(&self, id: &str) -> String {
        self.indexes
            .get(id)
            .map_or_else(|| "?".to_string(), u64::to_string)
    }

    /// Workers that can take users: connected and not missing.
    pub fn active(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.state != State::Missing)
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn ids(&self) -> Vec<String> {
        self.nodes.keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// A heartbeat from a known worker; true if it had been missing (self-healed).
    pub fn heartbeat(&mut self, id: &str, state: State, cpu: f64, memory: Option<u64>) -> bool {
        let Some(node) = self.nodes.get_mut(id) else {
            return false;
        };
        let healed = node.state == State::Missing;
        node.liveness = LIVENESS;
        node.state = state;
        node.cpu = cpu;
        if let Some(memory) = memory {
            node.memory = memory;
        }
        healed
    }

    /// One second of liveness: counters go down, workers go missing, then dead.
    pub fn tick(&mut self) -> Tick {
        let mut found = Tick::default();
        for (id, node) in self.nodes.iter_mut() {
            if node.state == State::Missing && node.liveness <= DEAD {
                found.dead.push(id.clone());
            }
            if node.liveness < 0 && node.state != State::Missing {
                node.state = State::Missing;
                node.user_count = 0;
                node.classes.clear();
                found.missing.push(id.clone());
            } else {
                node.liveness -= 1;
            }
        }
        for id in &found.dead {
            self.nodes.remove(id);
        }
        found
    }

    /// Every worker as the web UI lists it, in id order.
    pub fn info(&self) -> Vec<super::WorkerInfo> {
        self.nodes
            .iter()
            .map(|(id, n)| super::WorkerInfo {
                id: id.clone(),
                state: n.state.word().to_string(),
                user_count: n.user_count,
                cpu_usage: n.cpu,
                memory_usage: n.memory,
            })
            .collect()
    }

    /// Users the workers last reported.
    pub fn reported_users(&self) -> u64 {
        self.nodes.values().map(|n| n.user_count).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_stay_and_liveness_follows_locust() {
        let mut nodes = Nodes::default();
        assert_eq!(nodes.ready("a_1"), Some((0, false)));
        assert_eq!(nodes.ready("b_1"), Some((1, false)));
        assert_eq!(
            nodes.ready("a_1"),
            Some((0, true)),
            "a repeated client_ready"
        );
        nodes.remove("a_1");
        assert_eq!(nodes.ready("a_1"), Some((0, false)), "the index survives");
        // Silent for 4 ticks (3, 2, 1, 0, then below 0): missing on the 5th.
        for _ in 0..4 {
            assert_eq!(nodes.tick(), Tick::default());
        }
        let tick = nodes.tick();
        assert_eq!(tick.missing, vec!["a_1".to_string(), "b_1".to_string()]);
        assert!(nodes.active().is_empty());
        assert!(
            nodes.heartbeat("b_1", State::Running, 5.0, Some(1)),
            "healed"
        );
        assert_eq!(nodes.active(), vec!["b_1".to_string()]);
        let mut ticks = 0;
        while nodes.get("a_1").is_some() {
            nodes.tick();
            ticks += 1;
            assert!(ticks < 100, "a missing worker is removed");
        }
        assert_eq!(ticks, 60, "removed once its counter reaches -60");
    }

    #[test]
    fn the_table_is_bounded() {
        let mut nodes = Nodes::default();
        for i in 0..MAX_WORKERS {
            assert!(nodes.ready(&format!("h_{i}")).is_some());
        }
        assert_eq!(nodes.ready("one_more"), None);
        assert!(nodes.ready("h_5").is_some(), "a known worker still may");
    }
}
