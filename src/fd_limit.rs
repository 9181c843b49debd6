//! The open-files limit: raised at start from the soft toward the hard limit (each
//! user holds a socket; the common soft limit of 1024 would end a `-u 3000` run in
//! `Too many open files`), logged, and a warning before the run when the users asked
//! for still cannot fit, with the numbers and the fix.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors the process needs besides its users' sockets: the runtime, logs, CSV and
/// report files, the web UI's listener and its clients, the demo target.
pub const RESERVED: u64 = 100;

/// What happened to the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The soft limit found at start (`None`: unlimited).
    pub before: Option<u64>,
    /// The soft limit now.
    pub now: Option<u64>,
    /// The hard limit, which only root can raise.
    pub hard: Option<u64>,
}

impl Limits {
    /// How many users fit in the soft limit now (one socket each, beside the reserve).
    pub fn users_that_fit(&self) -> Option<u64> {
        self.now.map(|n| n.saturating_sub(RESERVED))
    }
}

/// Raises the soft limit to the hard one (Locust raises it to 10,000; the hard limit
/// is what the system allows without root). Errors leave it as it was.
pub fn raise() -> Limits {
    let found = getrlimit(Resource::Nofile);
    let mut limits = Limits {
        before: found.current,
        now: found.current,
        hard: found.maximum,
    };
    // On Linux, an unlimited hard limit cannot be the soft one (nr_open caps it).
    let target = found.maximum.unwrap_or(1 << 20);
    if found.current.is_some_and(|soft| soft < target) {
        let wanted = Rlimit {
            current: Some(target),
            maximum: found.maximum,
        };
        if setrlimit(Resource::Nofile, wanted).is_ok() {
            limits.now = Some(target);
        }
    }
    limits
}

/// The log line saying what was done, if anything was.
pub fn describe(limits: &Limits) -> Option<String> {
    let show = |n: Option<u64>| n.map_or("unlimited".to_string(), |n| n.to_string());
    (limits.now != limits.before).then(|| {
        format!(
            "Raised the open files limit from {} to {} (the hard limit)",
            show(limits.before),
            show(limits.now)
        )
    })
}

/// The warning when `users` (the most the run will have at once) cannot each have a
/// socket within the limit.
pub fn shortfall(limits: &Limits, users: u64) -> Option<String> {
    let fit = limits.users_that_fit()?;
    (users > fit).then(|| {
        let soft = limits.now.unwrap_or_default();
        let needed = users.saturating_add(RESERVED);
        format!(
            "The open files limit is {soft} (hard limit {}), but {users} users need about \
             {needed} (one socket each, and {RESERVED} for the rest): about {} users will \
             fail with 'Too many open files'. Raise the limit before the run, e.g. \
             `ulimit -n {needed}` in the shell (the hard limit too, as root: `ulimit -Hn`, \
             or LimitNOFILE= in a systemd unit, --ulimit nofile= with docker)",
            limits
                .hard
                .map_or("unlimited".to_string(), |h| h.to_string()),
            users - fit
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_goes_up_to_the_hard_one() {
        let limits = raise();
        assert!(limits.now >= limits.before, "{limits:?}");
        let again = getrlimit(Resource::Nofile);
        assert_eq!(again.current, limits.now);
        if let (Some(now), Some(hard)) = (limits.now, limits.hard) {
            assert_eq!(now, hard, "raised to the hard limit: {limits:?}");
        }
    }

    #[test]
    fn the_shortfall_names_the_numbers_and_the_fix() {
        let limits = Limits {
            before: Some(1024),
            now: Some(1024),
            hard: Some(1024),
        };
        assert_eq!(limits.users_that_fit(), Some(924));
        assert_eq!(shortfall(&limits, 924), None);
        let warning = shortfall(&limits, 3000).unwrap();
        assert!(
            warning.starts_with(
                "The open files limit is 1024 (hard limit 1024), but 3000 users need about 3100"
            ),
            "{warning}"
        );
        assert!(warning.contains("about 2076 users will fail"), "{warning}");
        assert!(warning.contains("`ulimit -n 3100`"), "{warning}");
        let unlimited = Limits {
            before: None,
            now: None,
            hard: None,
        };
        assert_eq!(shortfall(&unlimited, u64::MAX), None);
        assert_eq!(describe(&unlimited), None);
        let raised = Limits {
            before: Some(1024),
            now: Some(524288),
            hard: Some(524288),
        };
        assert_eq!(
            describe(&raised).as_deref(),
            Some("Raised the open files limit from 1024 to 524288 (the hard limit)")
        );
    }
}
