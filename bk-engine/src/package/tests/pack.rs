//! Packing: deterministic bytes, skipped build and VCS directories, links checked, limits
//! applied, and a pack → unpack round trip that gives back the same tree.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::package::{Limits, PackageDigest, PackageError, pack_dir, pack_to, unpack};

#[derive(Debug, PartialEq, Eq)]
enum Item {
    Dir,
    File { data: Vec<u8>, exec: bool },
    Link(String),
}

/// Every path under `root` with what it is.
fn tree(root: &Path) -> BTreeMap<String, Item> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Item>) {
        for e in fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let meta = fs::symlink_metadata(&path).unwrap();
            if meta.is_symlink() {
                let target = fs::read_link(&path).unwrap();
                out.insert(rel, Item::Link(target.to_string_lossy().into_owned()));
            } else if meta.is_dir() {
                out.insert(rel, Item::Dir);
                walk(root, &path, out);
            } else {
                let exec = meta.permissions().mode() & 0o111 != 0;
                out.insert(
                    rel,
                    Item::File {
                        data: fs::read(&path).unwrap(),
                        exec,
                    },
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn write(root: &Path, rel: &str, data: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
}

/// A source tree with the things packing must handle.
fn source() -> tempfile::TempDir {
    let src = tempfile::tempdir().unwrap();
    let root = src.path();
    write(root, "app_desc.yaml", b"spec_version: 2\n");
    write(root, "Procfile", b"web: ./run.sh\n");
    write(root, "run.sh", b"#!/bin/sh\necho hi\n");
    fs::set_permissions(root.join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    write(root, "src/app/views.py", b"def view(): pass\n");
    write(root, "src/app/__pycache__/views.cpython-311.pyc", b"\0junk");
    write(root, "src/b.txt", &[0xff; 3000]);
    write(root, ".git/HEAD", b"ref: refs/heads/main\n");
    write(root, "target/debug/huge", b"build output");
    write(root, "vendor/lib/.git", b"gitdir: ../../.git/modules/lib\n");
    write(root, "vendor/lib/lib.py", b"X = 1\n");
    fs::create_dir_all(root.join("empty/dir")).unwrap();
    symlink("app", root.join("src/current")).unwrap();
    symlink("../run.sh", root.join("src/run")).unwrap();
    src
}

#[test]
fn pack_then_unpack_gives_back_the_tree_without_skipped_dirs() {
    let src = source();
    let (bytes, stats) = pack_dir(src.path(), &Limits::default()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("pkg");
    let unpacked = unpack(&bytes[..], &dest, &Limits::default()).unwrap();
    assert_eq!(unpacked.entries, stats.entries);
    assert_eq!(unpacked.bytes, stats.bytes);

    let mut want = tree(src.path());
    want.retain(|k, _| {
        !(k == ".git"
            || k.starts_with(".git/")
            || k == "target"
            || k.starts_with("target/")
            || k.contains("__pycache__")
            || k == "vendor/lib/.git")
    });
    let got = tree(&dest);
    assert_eq!(got, want);
    assert_eq!(
        got.get("run.sh"),
        Some(&Item::File {
            data: b"#!/bin/sh\necho hi\n".to_vec(),
            exec: true
        })
    );
    assert_eq!(got.get("src/current"), Some(&Item::Link("app".into())));
    assert_eq!(got.get("empty/dir"), Some(&Item::Dir));
}

#[test]
fn packing_is_deterministic() {
    let src = source();
    let (a, _) = pack_dir(src.path(), &Limits::default()).unwrap();
    // Timestamps and creation order must not matter.
    let f = fs::File::options()
        .write(true)
        .open(src.path().join("src/b.txt"))
        .unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000))
        .unwrap();
    fs::remove_file(src.path().join("Procfile")).unwrap();
    write(src.path(), "Procfile", b"web: ./run.sh\n");
    let (b, _) = pack_dir(src.path(), &Limits::default()).unwrap();
    assert_eq!(PackageDigest::of_bytes(&a), PackageDigest::of_bytes(&b));
    assert_eq!(a, b);

    let mut c = Vec::new();
    pack_to(src.path(), &mut c, &Limits::default()).unwrap();
    assert_eq!(a, c);
}

#[test]
fn links_out_of_the_tree_are_refused() {
    for (target, why) in [
        ("../../outside", "outside"),
        ("/etc/passwd", "absolute"),
        ("app/../../x", "only at its start"),
    ] {
        let src = source();
        symlink(target, src.path().join("src/bad")).unwrap();
        match pack_dir(src.path(), &Limits::default()).unwrap_err() {
            PackageError::Entry { entry, reason } => {
                assert_eq!(entry, "src/bad");
                assert!(reason.contains(why), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn special_files_are_refused() {
    let src = source();
    let _socket = std::os::unix::net::UnixListener::bind(src.path().join("src/app.sock")).unwrap();
    match pack_dir(src.path(), &Limits::default()).unwrap_err() {
        PackageError::Entry { entry, reason } => {
            assert_eq!(entry, "src/app.sock");
            assert!(reason.contains("cannot be packed"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn limits_apply_when_packing() {
    let src = source();
    let limits = Limits {
        max_unpacked_bytes: 2000,
        ..Limits::default()
    };
    match pack_dir(src.path(), &limits).unwrap_err() {
        PackageError::TooLarge { entry, .. } => assert_eq!(entry, "src/b.txt"),
        other => panic!("{other:?}"),
    }
    let limits = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    match pack_dir(src.path(), &limits).unwrap_err() {
        PackageError::TooLarge { entry, reason } => {
            assert_eq!(
                entry, "empty/dir",
                "sorted, depth first: Procfile, app_desc.yaml, empty, empty/dir"
            );
            assert!(reason.contains("more than 3 entries"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_directories_are_packed() {
    let src = source();
    let err = pack_dir(&src.path().join("Procfile"), &Limits::default()).unwrap_err();
    assert!(
        matches!(err, PackageError::Invalid(ref m) if m.ends_with("is not a directory")),
        "{err}"
    );
}
