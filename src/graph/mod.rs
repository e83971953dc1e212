//! A generic dependency graph: nodes, edges that carry the source span that caused them,
//! cycle detection that reports every edge of a cycle, a topological order and DOT.
//!
//! It knows nothing of resources or configuration; the engine (`engine::graph`) decides
//! what the nodes are and builds the graph in explicit steps.

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::diag::{Diagnostic, Span};

/// A directed graph where an edge `a → b` means "a depends on b" (b runs first).
pub struct Graph<N> {
    g: DiGraph<N, Option<Span>>,
    index: HashMap<N, NodeIndex>,
}

impl<N: Clone + Eq + Hash + Display + Ord> Default for Graph<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: Clone + Eq + Hash + Display + Ord> Graph<N> {
    pub fn new() -> Self {
        Graph { g: DiGraph::new(), index: HashMap::new() }
    }

    /// Adds a node (idempotent) and returns its index.
    pub fn add(&mut self, n: N) -> NodeIndex {
        if let Some(i) = self.index.get(&n) {
            return *i;
        }
        let i = self.g.add_node(n.clone());
        self.index.insert(n, i);
        i
    }

    pub fn get(&self, n: &N) -> Option<NodeIndex> {
        self.index.get(n).copied()
    }

    pub fn node(&self, i: NodeIndex) -> &N {
        &self.g[i]
    }

    pub fn len(&self) -> usize {
        self.g.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.g.node_count() == 0
    }

    pub fn indices(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.g.node_indices()
    }

    /// `from` depends on `to`. Self-edges are kept (they are cycles).
    pub fn depend(&mut self, from: NodeIndex, to: NodeIndex, span: Option<Span>) {
        if self.g.find_edge(from, to).is_none() {
            self.g.add_edge(from, to, span);
        }
    }

    /// What `n` depends on.
    pub fn dependencies(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.g.neighbors_directed(n, petgraph::Direction::Outgoing)
    }

    /// What depends on `n`.
    pub fn dependents(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.g.neighbors_directed(n, petgraph::Direction::Incoming)
    }

    /// One diagnostic per cycle, listing each edge with the span that created it.
    pub fn cycles(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for scc in petgraph::algo::tarjan_scc(&self.g) {
            let is_cycle = scc.len() > 1 || self.g.find_edge(scc[0], scc[0]).is_some();
            if !is_cycle {
                continue;
            }
            // Walk one cycle through the component, starting from its smallest node.
            let members: std::collections::HashSet<NodeIndex> = scc.iter().copied().collect();
            let start = *scc.iter().min_by(|a, b| self.g[**a].cmp(&self.g[**b])).unwrap_or(&scc[0]);
            let mut path = vec![start];
            let mut edges = Vec::new();
            let mut seen = std::collections::HashSet::new();
            seen.insert(start);
            let mut cur = start;
            loop {
                // Prefer the edge back to the start, else the smallest unseen member.
                let mut next = None;
                for e in self.g.edges(cur) {
                    if e.target() == start {
                        next = Some((e.target(), e.weight().clone()));
                        break;
                    }
                }
                if next.is_none() {
                    let mut cands: Vec<_> = self.g.edges(cur).filter(|e| members.contains(&e.target()) && !seen.contains(&e.target())).collect();
                    cands.sort_by(|a, b| self.g[a.target()].cmp(&self.g[b.target()]));
                    next = cands.first().map(|e| (e.target(), e.weight().clone()));
                }
                let Some((n, span)) = next else { break };
                edges.push((cur, n, span));
                if n == start {
                    break;
                }
                seen.insert(n);
                path.push(n);
                cur = n;
            }
            let names: Vec<String> = path.iter().map(|i| self.g[*i].to_string()).chain(std::iter::once(self.g[start].to_string())).collect();
            let mut d = Diagnostic::error("Cycle", format!("A dependency cycle was found: {}. Each of these refers to the next, so none can be evaluated first.", names.join(" → ")))
                .with_help("Break the cycle by removing one of the references listed below.");
            for (i, (from, to, span)) in edges.into_iter().enumerate() {
                let label = format!("{} refers to {}", self.g[from], self.g[to]);
                match span {
                    Some(s) if i == 0 => d = d.with_span(s).with_label(label),
                    Some(s) => d = d.with_related(s, label),
                    None => d.detail.push_str(&format!("\n  {label} (implicitly)")),
                }
            }
            out.push(d);
        }
        out
    }

    /// Nodes with every dependency before its dependents. Only meaningful without cycles.
    pub fn topo_order(&self) -> Vec<NodeIndex> {
        let mut indeg: Vec<usize> = self.g.node_indices().map(|n| self.dependencies(n).count()).collect();
        let mut ready: std::collections::BinaryHeap<std::cmp::Reverse<(N, NodeIndex)>> = self
            .g
            .node_indices()
            .filter(|n| indeg[n.index()] == 0)
            .map(|n| std::cmp::Reverse((self.g[n].clone(), n)))
            .collect();
        let mut out = Vec::with_capacity(self.g.node_count());
        while let Some(std::cmp::Reverse((_, n))) = ready.pop() {
            out.push(n);
            for d in self.dependents(n) {
                indeg[d.index()] -= 1;
                if indeg[d.index()] == 0 {
                    ready.push(std::cmp::Reverse((self.g[d].clone(), d)));
                }
            }
        }
        out
    }

    /// The graph in DOT, nodes sorted by name, edges from dependent to dependency.
    pub fn dot(&self) -> String {
        let mut nodes: Vec<NodeIndex> = self.g.node_indices().collect();
        nodes.sort_by(|a, b| self.g[*a].cmp(&self.g[*b]));
        let mut s = String::from("digraph {\n  compound = \"true\"\n  newrank = \"true\"\n  subgraph \"root\" {\n");
        for n in &nodes {
            s.push_str(&format!("    \"{}\" [label = \"{}\", shape = \"box\"]\n", esc(&self.g[*n].to_string()), esc(&self.g[*n].to_string())));
        }
        let mut edges: Vec<(String, String)> = self.g.edge_references().map(|e| (self.g[e.source()].to_string(), self.g[e.target()].to_string())).collect();
        edges.sort();
        for (a, b) in edges {
            s.push_str(&format!("    \"{}\" -> \"{}\"\n", esc(&a), esc(&b)));
        }
        s.push_str("  }\n}\n");
        s
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;

    #[test]
    fn topo_order_puts_dependencies_first() {
        let mut g: Graph<String> = Graph::new();
        let a = g.add("a".into());
        let b = g.add("b".into());
        let c = g.add("c".into());
        g.depend(a, b, None);
        g.depend(b, c, None);
        let order: Vec<String> = g.topo_order().into_iter().map(|i| g.node(i).clone()).collect();
        assert_eq!(order, vec!["c", "b", "a"]);
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn cycle_lists_every_edge_with_span() {
        let f = SourceFile::new("main.tf", "locals {\n  a = local.b\n  b = local.a\n}\n");
        let mut g: Graph<String> = Graph::new();
        let a = g.add("local.a".into());
        let b = g.add("local.b".into());
        g.depend(a, b, Some(Span::new(&f, 15..22)));
        g.depend(b, a, Some(Span::new(&f, 29..36)));
        let c = g.cycles();
        assert_eq!(c.len(), 1);
        assert!(c[0].detail.contains("local.a → local.b → local.a"), "{}", c[0].detail);
        assert_eq!(c[0].span.as_ref().unwrap().text(), "local.b");
        assert_eq!(c[0].related.len(), 1);
        assert_eq!(c[0].related[0].0.text(), "local.a");
    }
}
