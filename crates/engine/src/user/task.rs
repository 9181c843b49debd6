//! Which task a user runs next — in order for a sequential class, drawn from the last
//! task's `next` for a chain, else by weight — and running its steps if the variables
//! they need are set; [`TaskEnd`] says whether the user goes on.

use locust_scenario::Task;
use rand::rngs::SmallRng;
use rand::Rng;

use super::{Interrupted, UserRun};

impl UserRun {
    /// Picks and runs one task: whether the user goes on.
    pub(super) async fn run_task(&mut self, total_weight: u64) -> TaskEnd {
        let class = self.class.clone();
        let task = if class.sequential {
            let task = &class.tasks[self.next_task % class.tasks.len()];
            self.next_task = (self.next_task + 1) % class.tasks.len();
            task
        } else if class.is_chain() {
            // Locust's MarkovTaskSet: the chain starts at the first task, and the task
            // after this one is drawn from this one's transitions.
            let Some(task) = class.tasks.get(self.next_task).or(class.tasks.first()) else {
                return TaskEnd::GoOn;
            };
            self.next_task = task.draw_next(&mut self.rng).unwrap_or(0);
            task
        } else {
            pick_task(&class.tasks, total_weight, &mut self.rng)
        };
        if task.runnable(&self.vars) {
            match self.run_steps(&task.steps, task.stop_on_failure).await {
                Err(Interrupted::Killed) => return TaskEnd::Killed,
                Err(Interrupted::Stopped) => return TaskEnd::Stopped,
                Ok(()) | Err(Interrupted::Exception | Interrupted::Failed) => {}
            }
        }
        TaskEnd::GoOn
    }
}

/// How a task ended, for the loop around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TaskEnd {
    /// The next task follows (after the wait), also after a failure or an exception.
    GoOn,
    Killed,
    /// `stop_user`: the user stops for good.
    Stopped,
}

fn pick_task<'a>(tasks: &'a [Task], total_weight: u64, rng: &mut SmallRng) -> &'a Task {
    let mut roll = rng.random_range(0..total_weight);
    for task in tasks {
        let weight = u64::from(task.weight);
        if roll < weight {
            return task;
        }
        roll -= weight;
    }
    &tasks[tasks.len() - 1]
}
