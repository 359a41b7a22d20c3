//! The commands that examine or copy a whole book, and what they print: `verify`,
//! `backup`, `doctor`, `restore` (the work is `arvalox::ops`'s).

use anyhow::{bail, Context};
use arvalox::api::journal::local;
use arvalox::clock::{Clock, SystemClock};
use arvalox::db::{Db, Synchronous};

pub(crate) fn verify(path: &std::path::Path, expected: &[(String, String)]) -> anyhow::Result<()> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    // Not `open`: verifying journals nothing, not even rows from before the journal.
    let store =
        Db::open(path, Synchronous::Full).with_context(|| format!("opening {}", path.display()))?;
    let found = local::verify(&store, expected, SystemClock.today())?;
    for line in &found.organizations {
        println!("{line}");
    }
    if found.faults.is_empty() {
        println!(
            "{}: the journal, every row and the books check out",
            path.display()
        );
        return Ok(());
    }
    for fault in &found.faults {
        println!("FAULT {fault}");
    }
    bail!("{}: {} faults found", path.display(), found.faults.len())
}

pub(crate) fn backup(
    path: &std::path::Path,
    out: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    let done = arvalox::ops::backup(path, out, force, SystemClock.today())?;
    done.organizations
        .iter()
        .for_each(|line| println!("{line}"));
    println!("{}: {} bytes, checked", done.file.display(), done.bytes);
    Ok(())
}

pub(crate) fn doctor(path: &std::path::Path, repair: bool) -> anyhow::Result<()> {
    if repair {
        arvalox::ops::repair(path)?;
        println!(
            "{}: summaries and detail copies written again from the records",
            path.display()
        );
    }
    let report = arvalox::ops::doctor(path, SystemClock.today())?;
    report.lines.iter().for_each(|line| println!("{line}"));
    match report.faults {
        0 => Ok(()),
        n => bail!("{}: {n} faults found", path.display()),
    }
}

pub(crate) fn restore(
    from: &std::path::Path,
    to: &std::path::Path,
    now: &str,
) -> anyhow::Result<()> {
    let done = arvalox::ops::restore(from, to, (SystemClock.today(), now))?;
    done.organizations
        .iter()
        .for_each(|line| println!("{line}"));
    println!(
        "{}: restored from {} (schema {}), checked",
        to.display(),
        from.display(),
        done.schema_version
    );
    if let Some(aside) = &done.kept_aside {
        println!("the file it replaced is kept at {}", aside.display());
    }
    Ok(())
}
