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

/// Pieces of XML that make interesting damage.
const XML_PIECES: &[&[u8]] = &[
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

/// Cuts, inserts one of `pieces`, flips a byte, or repeats a run, 1 to 4 times.
fn mutate(rng: &mut Rng, mut bytes: Vec<u8>, pieces: &[&[u8]]) -> Vec<u8> {
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(4) {
            0 => bytes.truncate(at),
            1 => {
                let p = pieces[rng.below(pieces.len())];
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
            std::fs::write(&target, mutate(&mut rng, original.clone(), XML_PIECES)).unwrap();
            let loaded = topology::load::load(
                std::slice::from_ref(&target),
                &topology::load::Options::with_default_connection("amqp"),
            )
            .expect("the file is readable");
            // Rendering touches every span: none may be out of its file.
            let _ = topology::render::json::lint(&loaded.diagnostics, &loaded.sources);
            let _ =
                topology::render::diagnostics::render(&loaded.diagnostics, &loaded.sources, false);
        }
    }
}

/// The PHP array reader (config.php, env.php) never panics, whatever it is given.
#[test]
fn mutated_php_files_never_panic() {
    const PHP_PIECES: &[&[u8]] = &[
        b"[",
        b"]",
        b"(",
        b")",
        b"'",
        b"\"",
        b"\\",
        b"$",
        b"{$",
        b"=>",
        b",",
        b".",
        b"-",
        b"1e",
        b"0x",
        b"/*",
        b"*/",
        b"//",
        b"#",
        b"\n",
        b"array(",
        b"?>",
        "é".as_bytes(),
        b"9999999999999999999999",
        b"<<<",
    ];
    let original = "<?php\n/** doc */\nreturn [\n  'queue' => ['amqp' => ['host' => \"h\\n\", 'port' => 5672, 'ssl' => 'true'], # c\n    'x' => array(1, -2.5e3, true, null, 'it\\'s')],\n  // line\n  '5' => 'five',\n];\n";
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..20_000 {
        let bytes = mutate(&mut rng, original.as_bytes().to_vec(), PHP_PIECES);
        let _ = topology::source::php::parse_return(&String::from_utf8_lossy(&bytes));
    }
}
