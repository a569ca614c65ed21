//! No input makes the pipeline panic or hang: every fixture, mutated at random (bytes
//! flipped, cut short, tags duplicated), goes through read → parse → merge → lint → plan.

use std::path::PathBuf;

/// xorshift: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"<",
        b">",
        b"&",
        b"\"",
        b"</config>",
        b"<exchange",
        b"&#0;",
        b"\xff",
        b"\xef\xbb\xbf",
        b"<!DOCTYPE x [<!ENTITY e \"e\">]>",
        b"xsi:type=\"number\"",
        b"-1",
        b"<![CDATA[",
    ];
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 => bytes.truncate(at),
            1 => {
                let p = PIECES[rng.below(PIECES.len())];
                bytes.splice(at..at, p.iter().copied());
            }
            2 if at < bytes.len() => bytes[at] = rng.next() as u8,
            _ => {
                let end = (at + rng.below(40)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

fn fixture_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "xml") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn mutated_fixtures_never_panic() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("queue_topology.xml");
    let files = fixture_files();
    assert!(files.len() > 10);
    for file in &files {
        let original = std::fs::read(file).unwrap();
        for _ in 0..150 {
            std::fs::write(&target, mutate(&mut rng, original.clone())).unwrap();
            let loaded = topology::load::load(std::slice::from_ref(&target), "amqp")
                .expect("the file is readable");
            // Rendering touches every span: none may be out of its file.
            let _ = topology::render::json::lint(&loaded.diagnostics, &loaded.sources);
            let _ =
                topology::render::diagnostics::render(&loaded.diagnostics, &loaded.sources, false);
        }
    }
}
