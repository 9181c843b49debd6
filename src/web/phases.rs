//! A profile with `phases` (e.g. `all`) started from the web UI: each phase is a test
//! of its own (fresh figures, its profile's users, rate, stages and criteria, the
//! form's host and classes), run for its run time (the form's, when given, applies to
//! every phase) or until its stages end, then the next. Stop or a new test ends the
//! sequence. The first phase starts before `/swarm` answers, so its errors are the
//! answer; a later phase that cannot start is logged and ends the sequence.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::session::Session;
use super::swarm_form::SwarmRequest;
use super::test_run::{PhaseTag, TestRun};
use crate::logging::MAIN;
use crate::outcome::StopReason;

/// Starts phase 1 of `names` and a task that runs the rest in turn.
pub async fn start(
    session: Arc<Session>,
    names: Vec<String>,
    form: SwarmRequest,
) -> Result<Arc<TestRun>, String> {
    let parent = form.profile.clone().unwrap_or_default();
    let cancel = session.phases_token();
    let (first, run_time) = start_phase(&session, &names, 0, &form, &parent).await?;
    let driver = session.clone();
    let test = first.clone();
    tokio::spawn(async move {
        let mut current = (first, run_time);
        for index in 1..=names.len() {
            if !wait_phase(&current.0, current.1, &cancel).await {
                return;
            }
            if index == names.len() {
                tracing::info!(target: MAIN, "Phases of profile '{parent}' done");
                return;
            }
            let _control = driver.control().await;
            if cancel.is_cancelled() {
                return;
            }
            match start_phase(&driver, &names, index, &form, &parent).await {
                Ok(next) => current = next,
                Err(message) => {
                    tracing::error!(target: MAIN, "Phase {}: {message}", names[index]);
                    return;
                }
            }
        }
    });
    Ok(test)
}

/// Phase `index` as its own test, with its profile's numbers and the form's host.
async fn start_phase(
    session: &Session,
    names: &[String],
    index: usize,
    form: &SwarmRequest,
    parent: &str,
) -> Result<(Arc<TestRun>, Option<u64>), String> {
    let name = &names[index];
    let (settings, _) = session.for_profile(name)?;
    let run_time = form
        .run_time
        .or_else(|| settings.spec.run_time.map(|d| d.as_secs()));
    let request = SwarmRequest {
        user_count: settings.spec.users,
        spawn_rate: settings.spec.spawn_rate,
        host: form.host.clone(),
        run_time,
        profile: Some(name.clone()),
        user_classes: form.user_classes.clone(),
    };
    tracing::info!(
        target: MAIN,
        "Phase {}/{}: {name}",
        index + 1,
        names.len()
    );
    let test = session.start_test(&request).await?;
    test.set_phase(PhaseTag {
        index: index + 1,
        count: names.len(),
        name: name.clone(),
        parent: parent.to_string(),
    });
    Ok((test, run_time))
}

/// Until the phase ends (its run time, its stages, an abort, Stop); false when the
/// sequence was cancelled.
async fn wait_phase(test: &TestRun, run_time: Option<u64>, cancel: &CancellationToken) -> bool {
    let limit = async {
        match run_time {
            Some(seconds) => tokio::time::sleep(Duration::from_secs(seconds)).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = cancel.cancelled() => return false,
        _ = test.done.cancelled() => {}
        _ = limit => {
            tracing::info!(target: MAIN, "--run-time limit reached, stopping test");
            test.stop(StopReason::RunTime).await;
        }
    }
    !cancel.is_cancelled()
}
