//! `serial:`: a play's hosts split into batches, each running the whole play (tasks and handlers)
//! before the next, as Ansible's playbook executor does.
use super::Executor;
use crate::playbook::play::{serial_items, SerialItem};
use crate::playbook::Play;
use serde_json::{Map, Value};

/// Batches of `hosts`, in order. Percentages are of all the play's hosts (rounded down, at least 1),
/// a size of 0 or less takes every remaining host, and the last size repeats (Ansible's rules).
/// No sizes: one batch of everything.
pub fn split<T: Clone>(hosts: &[T], sizes: &[SerialItem]) -> Vec<Vec<T>> {
    if hosts.is_empty() {
        return vec![];
    }
    if sizes.is_empty() {
        return vec![hosts.to_vec()];
    }
    let total = hosts.len();
    let mut out = Vec::new();
    let mut rest = hosts;
    let mut i = 0;
    while !rest.is_empty() {
        let n = match &sizes[i] {
            SerialItem::Count(n) => *n,
            SerialItem::Percent(p) => ((*p as f64 / 100.0) * total as f64).floor().max(1.0) as i64,
            SerialItem::Template(..) => 0,
        };
        if n <= 0 {
            out.push(rest.to_vec());
            break;
        }
        let take = (n as usize).min(rest.len());
        out.push(rest[..take].to_vec());
        rest = &rest[take..];
        i = (i + 1).min(sizes.len() - 1);
    }
    out
}

impl Executor {
    /// The play's batch sizes with templated entries rendered (play vars, vars_files and extra vars,
    /// as Ansible templates play keywords before any host is known).
    pub fn serial_sizes(&self, play: &Play) -> Result<Vec<SerialItem>, String> {
        if !play.serial.iter().any(|s| matches!(s, SerialItem::Template(..))) {
            return Ok(play.serial.clone());
        }
        let mut vars: Map<String, Value> = play.vars.clone();
        vars.extend(play.vars_files.iter().map(|(k, v)| (k.clone(), v.clone())));
        vars.extend(self.extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        let ctx = Value::Object(vars);
        let mut out = Vec::new();
        for item in &play.serial {
            let SerialItem::Template(t, origin) = item else {
                out.push(item.clone());
                continue;
            };
            let v = self.templater.render_value(&Value::String(t.clone()), &ctx, origin).map_err(|e| e.to_string())?;
            // A rendered "5" or "[1, '20%']" reads like the literal would.
            let v = match v {
                Value::String(s) => mdxconf_config::inventory::literal_eval(&s).filter(|x| !x.is_string()).unwrap_or(Value::String(s)),
                other => other,
            };
            for r in serial_items(&v, origin).map_err(|m| format!("{origin}: {m}"))? {
                if matches!(r, SerialItem::Template(..)) {
                    return Err(format!("{origin}: serial: `{t}` renders to another template"));
                }
                out.push(r);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SerialItem::*;

    fn sizes(hosts: usize, serial: &[SerialItem]) -> Vec<usize> {
        let hs: Vec<usize> = (0..hosts).collect();
        split(&hs, serial).iter().map(Vec::len).collect()
    }

    #[test]
    fn ansible_batch_rules() {
        assert_eq!(sizes(5, &[]), vec![5]);
        assert_eq!(sizes(5, &[Count(2)]), vec![2, 2, 1]);
        assert_eq!(sizes(5, &[Count(0)]), vec![5]);
        // percent of all hosts, rounded down, at least one
        assert_eq!(sizes(10, &[Percent(30)]), vec![3, 3, 3, 1]);
        assert_eq!(sizes(3, &[Percent(10)]), vec![1, 1, 1]);
        // a list: the last entry repeats
        assert_eq!(sizes(10, &[Count(1), Count(5), Percent(20)]), vec![1, 5, 2, 2]);
        assert_eq!(sizes(4, &[Count(1), Count(-1)]), vec![1, 3]);
        assert_eq!(sizes(0, &[Count(1)]), Vec::<usize>::new());
        let hs = ["a", "b", "c"];
        assert_eq!(split(&hs, &[Count(2)]), vec![vec!["a", "b"], vec!["c"]]);
    }
}
