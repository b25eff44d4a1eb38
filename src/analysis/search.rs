//! Breadth-first search over the handoff graph, written once. Every reachability question the
//! analysis, the rules and `paths` ask (what reaches a tool, what an entry reaches, what runs in an
//! ambient scope, the shortest chain from an entry to a tool) is one call of [`breadth_first`]
//! with its own seeds, edge direction and entry test.
//!
//! **Invariant:** first-in first-out, a node is marked when it is queued (never twice), seeds in
//! the order given; so the predecessor a caller records on entry is on a shortest path, and the
//! result is deterministic.

use std::collections::VecDeque;

use super::Via;

/// What to do with a node taken off the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visit {
    /// Follow its edges.
    Expand,
    /// Keep it, do not follow its edges.
    Leaf,
    /// End the search here; [`breadth_first`] returns this node.
    Stop,
}

/// Search from `seeds` (each one not yet `seen` is marked and queued) over `edges(x)`. A node
/// taken off the queue is passed to `visit`; a neighbour `to` of `from` (reached through `via`)
/// that is not yet marked is marked and queued when `enter(from, to, via)` says so. Returns the
/// node `visit` stopped at, if any.
pub fn breadth_first<'e>(
    seen: &mut [bool],
    seeds: impl IntoIterator<Item = usize>,
    edges: impl Fn(usize) -> &'e [(usize, Via)],
    mut visit: impl FnMut(usize) -> Visit,
    mut enter: impl FnMut(usize, usize, Via) -> bool,
) -> Option<usize> {
    let mut q: VecDeque<usize> = VecDeque::new();
    for s in seeds {
        if !seen[s] {
            seen[s] = true;
            q.push_back(s);
        }
    }
    while let Some(x) = q.pop_front() {
        match visit(x) {
            Visit::Expand => {}
            Visit::Leaf => continue,
            Visit::Stop => return Some(x),
        }
        for &(to, via) in edges(x) {
            if !seen[to] && enter(x, to, via) {
                seen[to] = true;
                q.push_back(to);
            }
        }
    }
    None
}

/// Every node: follow it.
pub fn expand(_: usize) -> Visit {
    Visit::Expand
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph() -> Vec<Vec<(usize, Via)>> {
        // 0 → 1 → 3, 0 → 2 → 3 → 4
        let v = Via::Call(0, 0);
        vec![
            vec![(1, v), (2, v)],
            vec![(3, v)],
            vec![(3, v)],
            vec![(4, v)],
            vec![],
        ]
    }

    #[test]
    fn shortest_predecessors_in_order() {
        let g = graph();
        let mut seen = vec![false; 5];
        let mut pred = vec![None; 5];
        let mut order = Vec::new();
        let end = breadth_first(
            &mut seen,
            [0],
            |x| &g[x],
            |x| {
                order.push(x);
                Visit::Expand
            },
            |from, to, _| {
                pred[to] = Some(from);
                true
            },
        );
        assert_eq!(end, None);
        assert_eq!(order, [0, 1, 2, 3, 4]);
        assert_eq!(pred, [None, Some(0), Some(0), Some(1), Some(3)]);
    }

    #[test]
    fn stop_leaf_and_refused_edges() {
        let g = graph();
        let mut seen = vec![false; 5];
        // 1 is a leaf, 2 → 3 refused: 3 is never reached.
        let end = breadth_first(
            &mut seen,
            [0],
            |x| &g[x],
            |x| if x == 1 { Visit::Leaf } else { Visit::Expand },
            |from, _, _| from != 2,
        );
        assert_eq!(end, None);
        assert_eq!(seen, [true, true, true, false, false]);
        let mut seen = vec![false; 5];
        let end = breadth_first(
            &mut seen,
            [0],
            |x| &g[x],
            |x| if x == 3 { Visit::Stop } else { Visit::Expand },
            |_, _, _| true,
        );
        assert_eq!(end, Some(3));
        // Seeds already marked are not searched again.
        let end = breadth_first(&mut seen, [0], |x| &g[x], |_| Visit::Stop, |_, _, _| true);
        assert_eq!(end, None);
    }
}
