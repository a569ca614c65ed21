//! The topology as a Mermaid flowchart (GitHub, GitLab and most Markdown viewers draw it).
//!
//! Takes a [`Graph`]; gives the flowchart's text. Exchanges are hexagons, queues
//! cylinders, bindings solid arrows labelled with their routing key, dead-letter routes
//! dashed arrows; each connection is a subgraph, greyed out when it is not provisioned.
//! Every label is a quoted string in which Mermaid's entity codes stand for the
//! characters it would read otherwise (`"`, `<`, `>`, `&`, a backtick, `|`, a `#` that
//! starts an entity); node ids are generated.

use std::fmt::Write;

use super::graph::{Cluster, Edge, Graph, Node, Notation, Route, Shape, draw};

/// The flowchart of `graph`.
pub fn render(graph: &Graph) -> String {
    draw::<Mermaid>(graph)
}

struct Mermaid;

const SKIPPED_STYLE: &str = "fill:#f4f4f4,stroke:#bbbbbb,color:#999999";

impl Notation for Mermaid {
    const LINE_BREAK: &'static str = "<br/>";

    fn escape(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for (i, c) in text.char_indices() {
            match c {
                '"' => out.push_str("#quot;"),
                '<' => out.push_str("#lt;"),
                '>' => out.push_str("#gt;"),
                '&' => out.push_str("#amp;"),
                '`' => out.push_str("#96;"),
                '|' => out.push_str("#124;"),
                '#' if reads_as_entity(&text[i + 1..]) => out.push_str("#35;"),
                c => out.push(c),
            }
        }
        out
    }

    fn open(out: &mut String) {
        out.push_str("flowchart LR\n");
    }

    fn open_cluster(out: &mut String, cluster: &Cluster, title: &str) {
        let _ = writeln!(out, "    subgraph {}[\"{title}\"]", cluster.id);
    }

    fn node(out: &mut String, node: &Node, label: &str) {
        let (open, close) = match node.shape {
            Shape::Exchange => ("{{", "}}"),
            Shape::Queue => ("[(", ")]"),
        };
        let class = if node.declared { "" } else { ":::undeclared" };
        let _ = writeln!(out, "        {}{open}\"{label}\"{close}{class}", node.id);
    }

    fn edge(out: &mut String, edge: &Edge, label: &str) {
        let arrow = match edge.route {
            Route::Binding => "-->",
            Route::DeadLetter => "-.->",
        };
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("|\"{label}\"|")
        };
        let _ = writeln!(out, "        {} {arrow}{label} {}", edge.from, edge.to);
    }

    fn close_cluster(out: &mut String, cluster: &Cluster) {
        out.push_str("    end\n");
        if !cluster.provisioned {
            let _ = writeln!(out, "    style {} {SKIPPED_STYLE}", cluster.id);
            if !cluster.nodes.is_empty() {
                let ids: Vec<&str> = cluster.nodes.iter().map(|n| n.id.as_str()).collect();
                let _ = writeln!(out, "    class {} skipped", ids.join(","));
            }
        }
    }

    fn close(out: &mut String, graph: &Graph) {
        let nodes = || graph.clusters.iter().flat_map(|c| c.nodes.iter());
        if nodes().any(|n| !n.declared) {
            out.push_str("    classDef undeclared stroke-dasharray:4 3\n");
        }
        if graph.clusters.iter().any(|c| !c.provisioned) {
            let _ = writeln!(out, "    classDef skipped {SKIPPED_STYLE}");
        }
    }
}

/// Whether `#` followed by `rest` would be read as an entity code (`#quot;`, `#35;`).
fn reads_as_entity(rest: &str) -> bool {
    let word = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    word > 0 && rest[word..].starts_with(';')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Mermaid would read as markup or as an entity is written as an entity code; a
    /// `#` that starts no entity (a topic wildcard) stays as it is.
    #[test]
    fn labels_are_escaped() {
        assert_eq!(
            Mermaid::escape(r#"a"b<c>&d`e\f|g"#),
            r#"a#quot;b#lt;c#gt;#amp;d#96;e\f#124;g"#
        );
        assert_eq!(Mermaid::escape("order.#"), "order.#");
        assert_eq!(Mermaid::escape("#.x"), "#.x");
        assert_eq!(Mermaid::escape("a#quot;"), "a#35;quot;");
        assert_eq!(Mermaid::escape("#1;#"), "#35;1;#");
    }
}
