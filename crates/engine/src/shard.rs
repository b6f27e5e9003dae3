//! `--shard I/N`: one of N controllers takes every N-th of the selected hosts, so N runs (a
//! Kubernetes Indexed Job, a CI matrix) split a fleet the way AWX job slicing does. The partition
//! is by sorted host name, not inventory order: every controller computes the same split from the
//! same inventory however its files list the hosts, and shard sizes differ by at most one.
use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// Shard `index` (1-based, as AWX numbers slices) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("`{s}` is no shard: write I/N with 1 <= I <= N, e.g. 2/4 (a Kubernetes Indexed Job passes $((JOB_COMPLETION_INDEX + 1))/N)");
        let (i, n) = s.split_once('/').ok_or_else(usage)?;
        let (index, count) = (i.trim().parse::<usize>().map_err(|_| usage())?, n.trim().parse::<usize>().map_err(|_| usage())?);
        if count == 0 || index == 0 || index > count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// This shard's hosts among `hosts`: sorted by name, every `count`-th from `index - 1`.
    pub fn select<'a>(&self, hosts: impl IntoIterator<Item = &'a String>) -> HashSet<String> {
        let mut all: Vec<&String> = hosts.into_iter().collect();
        all.sort();
        all.dedup();
        all.into_iter().enumerate().filter(|(k, _)| k % self.count == self.index - 1).map(|(_, h)| h.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_shards_cover_every_host_exactly_once() {
        for hosts in [0usize, 1, 2, 7, 100, 501] {
            // names out of order, as an inventory may list them
            let names: Vec<String> = (0..hosts).rev().map(|k| format!("node{:03}", (k * 37) % hosts.max(1))).collect::<HashSet<_>>().into_iter().collect();
            for count in 1..=9 {
                let mut seen: Vec<String> = Vec::new();
                let mut sizes = Vec::new();
                for index in 1..=count {
                    let part = Shard { index, count }.select(&names);
                    sizes.push(part.len());
                    seen.extend(part);
                }
                seen.sort();
                let mut want = names.clone();
                want.sort();
                assert_eq!(seen, want, "{count} shards of {hosts} hosts");
                assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1, "balanced: {sizes:?}");
            }
        }
    }

    #[test]
    fn the_split_does_not_depend_on_inventory_order() {
        let a: Vec<String> = ["c", "a", "b", "d"].map(String::from).to_vec();
        let b: Vec<String> = ["d", "b", "a", "c"].map(String::from).to_vec();
        let s = Shard { index: 2, count: 2 };
        assert_eq!(s.select(&a), s.select(&b));
        assert_eq!(s.select(&a), ["b", "d"].map(String::from).into_iter().collect());
    }

    #[test]
    fn bad_shards_are_refused_with_the_form() {
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { index: 2, count: 4 });
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/3", "-1/3", "1/3/5"] {
            assert!(bad.parse::<Shard>().unwrap_err().contains("I/N"), "{bad}");
        }
    }
}
