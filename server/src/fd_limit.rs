//! The file-descriptor limit: every open connection is one, so the soft limit (often
//! 1,024) is raised to the hard limit at start, and a limit below `MAX_CONNECTIONS` plus
//! room for the database, upstreams and files is reported (deploy/README.md: LimitNOFILE).

/// Descriptors kept beyond the connections: database pool, upstream connections, files.
const ROOM: u64 = 1_024;

/// Raises the soft limit to the hard one; warns when it is too low for `max_connections`.
pub fn raise(max_connections: usize) {
    let wanted = (max_connections as u64)
        .saturating_add(super::serve::RESERVE as u64)
        .saturating_add(ROOM);
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < wanted => tracing::warn!(
            limit,
            wanted,
            "the file-descriptor limit is below MAX_CONNECTIONS plus {ROOM}: raise LimitNOFILE \
             (deploy/README.md) or lower MAX_CONNECTIONS"
        ),
        Ok(limit) => tracing::info!(limit, "file-descriptor limit"),
        Err(e) => tracing::warn!("could not raise the file-descriptor limit: {e}"),
    }
}
