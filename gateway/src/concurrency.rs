//! Requests an account has open at once (its plan's `concurrent_requests`): one account
//! must not hold every place of the model servers (security review, issue 9). Counted per
//! instance, in memory: the check costs a map lookup, and with several instances the
//! places each upstream offers are bounded globally anyway (`capacity`).
use foldhash::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct OpenRequests {
    by_account: Mutex<HashMap<i64, u32>>,
}

/// One open request, counted until dropped.
pub struct OpenGuard {
    open: Arc<OpenRequests>,
    account: i64,
}

impl OpenRequests {
    /// A place for one more request of `account`, if it has fewer than `limit` open.
    pub fn enter(self: &Arc<Self>, account: i64, limit: u32) -> Option<OpenGuard> {
        let mut map = self.by_account.lock().ok()?;
        let n = map.entry(account).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(OpenGuard {
            open: self.clone(),
            account,
        })
    }

    /// Requests `account` has open.
    #[cfg(test)]
    pub fn count(&self, account: i64) -> u32 {
        self.by_account
            .lock()
            .ok()
            .and_then(|m| m.get(&account).copied())
            .unwrap_or(0)
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        if let Ok(mut map) = self.open.by_account.lock() {
            if let Some(n) = map.get_mut(&self.account) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&self.account);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_gets_its_limit_of_open_requests_and_a_place_back_when_one_ends() {
        let open = Arc::new(OpenRequests::default());
        let a = open.enter(1, 2).unwrap();
        let _b = open.enter(1, 2).unwrap();
        assert!(open.enter(1, 2).is_none());
        // Another account is not affected.
        assert!(open.enter(2, 2).is_some());
        drop(a);
        assert!(open.enter(1, 2).is_some());
        assert_eq!(open.count(1), 1);
    }
}
