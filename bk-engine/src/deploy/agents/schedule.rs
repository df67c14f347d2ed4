//! Placement: which live agent takes a new instance. Replicas of one process type spread
//! over agents (fewest of that group first, then the least loaded agent, then by id, so the
//! choice is deterministic); an agent never takes more than its `max_instances`, nor more
//! memory than its `memory_bytes` when both it and the instance state one. Instances that
//! already run somewhere live are counted first and never moved (stable placement).

use std::collections::HashMap;

use bk_core::agent_proto::Capacity;

/// The agents an instance may go to, with what they already hold.
#[derive(Debug, Default)]
pub(crate) struct Pool {
    bins: Vec<Bin>,
    spread: HashMap<(usize, String), u32>,
}

#[derive(Debug)]
struct Bin {
    id: String,
    capacity: Capacity,
    used: u32,
    memory: u64,
}

impl Pool {
    /// Add a live agent.
    pub(crate) fn agent(&mut self, id: &str, capacity: &Capacity) {
        self.bins.push(Bin {
            id: id.to_owned(),
            capacity: capacity.clone(),
            used: 0,
            memory: 0,
        });
    }

    /// Count an instance already on `agent` (stays there).
    pub(crate) fn hold(&mut self, agent: &str, group: &str, memory: Option<u64>) {
        if let Some(i) = self.bins.iter().position(|b| b.id == agent) {
            self.take(i, group, memory);
        }
    }

    fn take(&mut self, i: usize, group: &str, memory: Option<u64>) {
        let b = &mut self.bins[i];
        b.used += 1;
        b.memory += memory.unwrap_or(0);
        *self.spread.entry((i, group.to_owned())).or_default() += 1;
    }

    fn fits(b: &Bin, memory: Option<u64>) -> bool {
        if b.used >= b.capacity.max_instances {
            return false;
        }
        match (b.capacity.memory_bytes, memory) {
            (Some(cap), Some(m)) => b.memory.saturating_add(m) <= cap,
            _ => true,
        }
    }

    /// Place one instance of `group` needing `memory`; the chosen agent, or `None` when no
    /// agent has room.
    pub(crate) fn place(&mut self, group: &str, memory: Option<u64>) -> Option<String> {
        let best = self
            .bins
            .iter()
            .enumerate()
            .filter(|(_, b)| Self::fits(b, memory))
            .min_by_key(|(i, b)| {
                let same = self
                    .spread
                    .get(&(*i, group.to_owned()))
                    .copied()
                    .unwrap_or(0);
                (same, b.used, b.id.clone())
            })
            .map(|(i, _)| i)?;
        self.take(best, group, memory);
        Some(self.bins[best].id.clone())
    }

    /// What the pool holds, for a "not enough capacity" message.
    pub(crate) fn describe(&self) -> String {
        if self.bins.is_empty() {
            return "no enabled agent is live; start or register an agent (POST /paas/api/v1/agents/)"
                .into();
        }
        let each: Vec<String> = self
            .bins
            .iter()
            .map(|b| {
                let mem = match b.capacity.memory_bytes {
                    Some(cap) => format!(", {} of {cap} memory bytes", b.memory),
                    None => String::new(),
                };
                format!(
                    "{} ({} of {} instances{mem})",
                    b.id, b.used, b.capacity.max_instances
                )
            })
            .collect();
        format!(
            "live agents: {}; add agents or raise their capacity",
            each.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(n: u32, mem: Option<u64>) -> Capacity {
        Capacity {
            max_instances: n,
            memory_bytes: mem,
        }
    }

    #[test]
    fn replicas_spread_then_fill_by_load() {
        let mut p = Pool::default();
        p.agent("a", &cap(10, None));
        p.agent("b", &cap(10, None));
        p.hold("a", "other", None);
        let placed: Vec<_> = (0..3).map(|_| p.place("web", None).unwrap()).collect();
        // b is less loaded first; then one each; the third goes to the less loaded again.
        assert_eq!(placed, ["b", "a", "b"]);
    }

    #[test]
    fn capacity_and_memory_are_respected() {
        let mut p = Pool::default();
        p.agent("a", &cap(1, None));
        p.agent("b", &cap(5, Some(100)));
        assert_eq!(p.place("web", Some(60)).as_deref(), Some("a"));
        assert_eq!(p.place("web", Some(60)).as_deref(), Some("b"));
        assert_eq!(p.place("web", Some(60)), None);
        assert_eq!(p.place("web", None).as_deref(), Some("b"));
        assert!(
            p.describe().contains("a (1 of 1 instances)"),
            "{}",
            p.describe()
        );
        assert!(
            Pool::default()
                .describe()
                .contains("no enabled agent is live")
        );
    }
}
