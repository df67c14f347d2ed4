//! Unpacking: good archives land whole, bad ones are refused with the entry named and leave
//! nothing behind (no destination, no staging directory).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tar::EntryType;

use super::tar_builder::Tar;
use crate::archive::{ArchiveError as PackageError, ArchiveLimits as Limits, printable};

/// The engine's package descriptors, as it passes them.
const MARKERS: &[&str] = &["app_desc.yaml", "app_desc.yml", "Procfile", "app.yml"];

fn unpack(
    archive: impl std::io::Read,
    dest: &Path,
    limits: &Limits,
) -> Result<crate::archive::Unpacked, PackageError> {
    crate::archive::unpack(archive, dest, limits, MARKERS)
}

/// Unpack into a fresh temp dir and expect a refusal; checks nothing was left there.
fn refuse(archive: &[u8], limits: &Limits) -> PackageError {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("pkg");
    let err = unpack(archive, &dest, limits).unwrap_err();
    let left: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left behind after {err}: {left:?}");
    err
}

#[track_caller]
fn refuse_entry(archive: &[u8], name: &str, why: &str) {
    match refuse(archive, &Limits::default()) {
        PackageError::Entry { entry, reason } => {
            assert_eq!(entry, name);
            assert!(reason.contains(why), "{reason}");
        }
        other => panic!("expected an entry error for {name}, got {other:?}"),
    }
}

#[track_caller]
fn refuse_too_large(archive: &[u8], limits: &Limits, name: &str, why: &str) {
    match refuse(archive, limits) {
        PackageError::TooLarge { entry, reason } => {
            assert_eq!(entry, name);
            assert!(reason.contains(why), "{reason}");
        }
        other => panic!("expected a size refusal at {name}, got {other:?}"),
    }
}

fn ok_prefix() -> Tar {
    Tar::new().file("Procfile", b"web: x\n").dir("src")
}

#[test]
fn absolute_paths_are_refused() {
    refuse_entry(
        &ok_prefix().file("/etc/cron.d/x", b"evil").gz(),
        "/etc/cron.d/x",
        "absolute",
    );
}

#[test]
fn parent_components_are_refused() {
    refuse_entry(&ok_prefix().file("../evil", b"x").gz(), "../evil", "`..`");
    refuse_entry(
        &ok_prefix().file("src/../../evil", b"x").gz(),
        "src/../../evil",
        "`..`",
    );
}

#[test]
fn symlinks_that_escape_are_refused() {
    refuse_entry(
        &ok_prefix().symlink("src/up", "../../etc").gz(),
        "src/up",
        "outside",
    );
    refuse_entry(
        &ok_prefix().symlink("pw", "/etc/passwd").gz(),
        "pw",
        "absolute",
    );
    // `l -> .` is harmless alone; `m -> l/../x` would climb out through it.
    refuse_entry(
        &ok_prefix().symlink("l", ".").symlink("m", "l/../x").gz(),
        "m",
        "only at its start",
    );
}

#[test]
fn writing_through_a_symlink_is_refused() {
    // The link itself stays inside; an entry below it would be written wherever it points.
    refuse_entry(
        &ok_prefix().symlink("s", "src").file("s/f", b"x").gz(),
        "s/f",
        "symlinked directory",
    );
}

#[test]
fn hard_links_are_refused() {
    refuse_entry(
        &ok_prefix().file("a", b"x").hardlink("b", "a").gz(),
        "b",
        "hard links are not allowed",
    );
    refuse_entry(
        &ok_prefix().hardlink("c", "/etc/shadow").gz(),
        "c",
        "hard links",
    );
}

#[test]
fn device_files_and_fifos_are_refused() {
    refuse_entry(
        &ok_prefix().special("tty", EntryType::Char).gz(),
        "tty",
        "device files",
    );
    refuse_entry(
        &ok_prefix().special("sda", EntryType::Block).gz(),
        "sda",
        "device files",
    );
    refuse_entry(
        &ok_prefix().special("pipe", EntryType::Fifo).gz(),
        "pipe",
        "FIFOs",
    );
}

#[test]
fn duplicate_entries_are_refused() {
    refuse_entry(
        &ok_prefix().file("a", b"1").file("a", b"2").gz(),
        "a",
        "more than once",
    );
    // A file cannot be replaced by a link (or the other way round) half-way through.
    refuse_entry(
        &ok_prefix().file("a", b"1").symlink("a", "src").gz(),
        "a",
        "more than once",
    );
}

#[test]
fn a_bomb_of_zeros_over_the_size_limit_is_refused() {
    let limits = Limits {
        max_unpacked_bytes: 1024 * 1024,
        ..Limits::default()
    };
    let bomb = ok_prefix().zeros("src/zeros.bin", 8 * 1024 * 1024).gz();
    assert!(bomb.len() < 64 * 1024, "the bomb is small: {}", bomb.len());
    refuse_too_large(&bomb, &limits, "src/zeros.bin", "over 1048576 bytes");
}

#[test]
fn a_compression_ratio_bomb_is_refused_while_streaming() {
    // Within the size limit, but 2 MiB out of a few KiB in.
    let limits = Limits {
        max_ratio: 50,
        ratio_floor_bytes: 256 * 1024,
        ..Limits::default()
    };
    let bomb = ok_prefix().zeros("src/zeros.bin", 2 * 1024 * 1024).gz();
    refuse_too_large(
        &bomb,
        &limits,
        "src/zeros.bin",
        "compression ratio over 50:1",
    );
}

#[test]
fn a_huge_long_name_header_is_stopped_by_the_stream_guard() {
    // The tar reader buffers GNU long names whole; the guard on the decompressed stream stops
    // a bomb hidden there before it is read into memory.
    let limits = Limits {
        max_ratio: 50,
        ratio_floor_bytes: 256 * 1024,
        ..Limits::default()
    };
    let bomb = ok_prefix()
        .raw_zeros("././@LongLink", EntryType::GNULongName, 4 * 1024 * 1024)
        .file("x", b"x")
        .gz();
    refuse_too_large(&bomb, &limits, "the entry after `src`", "compression ratio");
}

#[test]
fn an_incompressible_stream_over_the_size_cap_is_stopped() {
    // Content limit 64 KiB with 2 entries allows 64 KiB + 2 × 4 KiB of stream; a 100 KiB
    // long-name header of noise (no ratio to speak of) crosses it.
    let limits = Limits {
        max_unpacked_bytes: 64 * 1024,
        max_entries: 2,
        ..Limits::default()
    };
    let mut x: u32 = 12345;
    let noise: String = (0..100 * 1024)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + ((x >> 16) % 26) as u8)
        })
        .collect();
    let archive = Tar::new().long_file(&noise, b"x").gz();
    refuse_too_large(
        &archive,
        &limits,
        "the start of the archive",
        "the decompressed archive is over 73728 bytes",
    );
}

#[test]
fn names_the_file_system_cannot_hold_are_the_package_s_fault() {
    // Error messages cut names at 200 characters.
    let long_name = format!("src/{}", "n".repeat(256));
    let shown = printable(&long_name);
    assert!(shown.ends_with('…'));
    refuse_entry(
        &ok_prefix().long_file(&long_name, b"x").gz(),
        &shown,
        "over 255 bytes",
    );
    let deep = "d/".repeat(600) + "f";
    refuse_entry(
        &ok_prefix().long_file(&deep, b"x").gz(),
        &printable(&deep),
        "over 1024 bytes",
    );
}

#[test]
fn too_many_entries_are_refused_naming_the_first_one_over() {
    let limits = Limits {
        max_entries: 5,
        ..Limits::default()
    };
    let mut tar = Tar::new();
    for i in 0..10 {
        tar = tar.file(&format!("f{i}"), b"x");
    }
    refuse_too_large(&tar.gz(), &limits, "f5", "more than 5 entries");
}

#[test]
fn garbage_and_truncated_archives_are_refused() {
    match refuse(b"PK\x03\x04 this is a zip", &Limits::default()) {
        PackageError::Invalid(m) => assert!(m.starts_with("not a .tar.gz archive"), "{m}"),
        other => panic!("{other:?}"),
    }
    let whole = ok_prefix().file("src/big", &[7u8; 100_000]).gz();
    match refuse(&whole[..whole.len() / 2], &Limits::default()) {
        PackageError::Invalid(m) => assert!(m.contains("corrupt or truncated"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn control_characters_in_names_are_escaped_in_errors() {
    refuse_entry(
        &ok_prefix().file("../\x1b[31mred", b"x").gz(),
        "../\\u{1b}[31mred",
        "`..`",
    );
}

#[test]
fn a_good_archive_lands_whole_with_normalized_modes() {
    let long = format!("src/{}/deep.txt", "d".repeat(120));
    let archive = Tar::new()
        .pax_global()
        .dir("./")
        .file("./Procfile", b"web: ./run\n")
        .file_mode("run", b"#!/bin/sh\n", 0o4755)
        .file_mode("secret.txt", b"s", 0o600)
        .file("src/app/main.py", b"print(1)\n")
        .long_file(&long, b"deep")
        .symlink("src/current", "app")
        .symlink("src/app/up", "../../run")
        .symlink("dangling", "not-there")
        .dir("empty")
        .gz();
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("pkg");
    let out = unpack(&archive[..], &dest, &Limits::default()).unwrap();
    assert_eq!(out.root, dest);
    assert_eq!(out.stripped, None);
    assert_eq!(out.entries, 11);
    assert_eq!(out.bytes, 11 + 10 + 1 + 9 + 4);

    assert_eq!(fs::read(dest.join("Procfile")).unwrap(), b"web: ./run\n");
    assert_eq!(fs::read(dest.join(&long)).unwrap(), b"deep");
    assert_eq!(
        fs::read(dest.join("src/current/main.py")).unwrap(),
        b"print(1)\n"
    );
    assert_eq!(fs::read(dest.join("src/app/up")).unwrap(), b"#!/bin/sh\n");
    assert!(
        fs::symlink_metadata(dest.join("dangling"))
            .unwrap()
            .is_symlink()
    );
    assert!(dest.join("empty").is_dir());
    assert!(!dest.join("pax_global_header").exists());
    let mode = |p: &str| fs::metadata(dest.join(p)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("run"), 0o755, "executable kept, setuid dropped");
    assert_eq!(mode("secret.txt"), 0o644);
    assert_eq!(mode("."), 0o755);
    // Nothing but the destination in the parent: the staging directory is gone.
    let names: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["pkg"]);
}

#[test]
fn one_top_level_directory_with_a_descriptor_is_stripped() {
    let archive = Tar::new()
        .dir("hello-1.0/")
        .file("hello-1.0/app_desc.yaml", b"spec_version: 2\n")
        .file("hello-1.0/src/x.py", b"")
        .gz();
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("pkg");
    let out = unpack(&archive[..], &dest, &Limits::default()).unwrap();
    assert_eq!(out.stripped.as_deref(), Some("hello-1.0"));
    assert!(dest.join("app_desc.yaml").is_file());
    assert!(dest.join("src/x.py").is_file());
    let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "staging removed");

    // A lone directory without a descriptor is the package's own content: kept.
    let archive = Tar::new().file("lib/x.py", b"").gz();
    let dest = tmp.path().join("pkg2");
    let out = unpack(&archive[..], &dest, &Limits::default()).unwrap();
    assert_eq!(out.stripped, None);
    assert!(dest.join("lib/x.py").is_file());
}

#[test]
fn an_existing_destination_is_never_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("pkg");
    fs::create_dir(&dest).unwrap();
    fs::write(dest.join("keep"), b"mine").unwrap();
    let err = unpack(&ok_prefix().gz()[..], &dest, &Limits::default()).unwrap_err();
    assert!(matches!(err, PackageError::Io { .. }), "{err}");
    assert_eq!(fs::read(dest.join("keep")).unwrap(), b"mine");
    assert_eq!(fs::read_dir(&dest).unwrap().count(), 1);
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn unpack_file_reads_from_disk() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("p.tar.gz");
    fs::write(&file, ok_prefix().gz()).unwrap();
    let dest = tmp.path().join("pkg");
    crate::archive::unpack_file(&file, &dest, &Limits::default(), MARKERS).unwrap();
    assert!(Path::new(&dest.join("Procfile")).is_file());
}
