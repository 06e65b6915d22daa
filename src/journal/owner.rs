//! Who owns a running run: a process, named so that a reused PID is not
//! mistaken for it. A PID alone is reused after the owner dies, and a run
//! whose PID came back to life as another program could never be resumed.
//! The owner is the PID with the boot it ran in and the moment it started
//! (clock ticks since boot, `/proc/PID/stat`): a reused PID starts later,
//! and after a reboot every owner is gone.

use std::path::Path;

/// This process, as an owner: `BOOT_ID/START_TICKS`, or empty where the
/// system does not say (then only the PID is compared).
pub fn me() -> String {
    stamp(std::process::id()).unwrap_or_default()
}

/// Whether process `pid`, recorded with `stamp`, is still the one that
/// owns the run.
pub fn alive(pid: u32, stamp_then: Option<&str>) -> bool {
    if !Path::new("/proc").exists() {
        // No way to tell: assume it runs, so a run is never taken from a
        // living owner (`resume --force` is the way out).
        return true;
    }
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return false;
    }
    match (stamp_then.filter(|s| !s.is_empty()), stamp(pid)) {
        (Some(then), Some(now)) => then == now,
        _ => true,
    }
}

fn stamp(pid: u32) -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (name) state ppid …`: the name may hold spaces and parentheses,
    // so fields are counted after its last `)`; start time is field 22.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start = after_name.split_whitespace().nth(19)?;
    Some(format!("{}/{start}", boot.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let pid = std::process::id();
        let me = me();
        assert!(alive(pid, Some(&me)));
        if Path::new("/proc").exists() {
            assert!(!me.is_empty());
            assert!(
                !alive(pid, Some("another-boot/1")),
                "a PID that started at another time"
            );
            assert!(!alive(u32::MAX - 1, None), "no such process");
        }
    }
}
