//! `{ barrier = "spawned" }`: a step where a user waits until the current ramp has
//! started every user (Locust's `spawning_complete` event, set into a gevent `Event`
//! that each user waits on, so that all users begin their real work at once). Only the
//! text is compiled here; the waiting is the engine's, which knows the ramps.

use toml::Spanned;

use crate::error::ScenarioError;
use crate::request::Cx;

/// What a barrier waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barrier {
    /// Until no ramp is in progress: every user of the target count has started.
    Spawned,
}

/// The barrier names, for messages.
const NAMES: &[&str] = &["spawned"];

impl Barrier {
    /// `spawned`; anything else is an error with a did-you-mean.
    pub fn parse(text: &str) -> Result<Barrier, String> {
        match text.trim() {
            "spawned" => Ok(Barrier::Spawned),
            other => {
                let hint = crate::source::closest(other, NAMES.iter().copied())
                    .map(|n| format!("; did you mean `{n}`?"))
                    .unwrap_or_default();
                Err(format!(
                    "unknown barrier {other:?}{hint} (the one barrier is `spawned`: wait until \
                     the current ramp has started every user)"
                ))
            }
        }
    }
}

/// Compiles `barrier = "..."`. Refused in `[[setup]]` and `[[teardown]]` (no user is
/// being spawned then) and in `on_stop` (a leaving user has nothing to start).
pub(crate) fn compile_barrier(
    cx: &Cx<'_>,
    text: &Spanned<String>,
    key: &str,
) -> Result<Barrier, ScenarioError> {
    let bkey = format!("{key}.barrier");
    let barrier = Barrier::parse(text.get_ref()).map_err(|m| cx.invalid(text.span(), &bkey, m))?;
    let place = if key.starts_with("setup[") {
        Some("[[setup]], which runs before any user is spawned")
    } else if key.starts_with("teardown[") {
        Some("[[teardown]], which runs after every user stopped")
    } else if key.contains(".on_stop[") {
        Some("on_stop, which runs as a user leaves")
    } else {
        None
    };
    match place {
        Some(place) => Err(cx.invalid(
            text.span(),
            &bkey,
            format!("a barrier cannot sit in {place}: put it in on_start or a task"),
        )),
        None => Ok(barrier),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_spawned_with_a_suggestion() {
        assert_eq!(Barrier::parse("spawned"), Ok(Barrier::Spawned));
        assert_eq!(Barrier::parse(" spawned "), Ok(Barrier::Spawned));
        let err = Barrier::parse("spawn").unwrap_err();
        assert!(err.contains("did you mean `spawned`?"), "{err}");
        let err = Barrier::parse("spawning_complete").unwrap_err();
        assert!(
            err.contains("unknown barrier \"spawning_complete\""),
            "{err}"
        );
        let err = Barrier::parse("ready").unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
    }
}
