#ifndef HAVEN_CLIBPQ_SHIM_H
#define HAVEN_CLIBPQ_SHIM_H

#include <libpq-fe.h>
#include <poll.h>
#include <spawn.h>

// glibc declares this only under _GNU_SOURCE, which the Swift importer does not set.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

static inline int haven_spawn_close_from(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

// PG_DIAG_* are character-literal macros, which Swift cannot import.
static const int haven_pg_diag_sqlstate = PG_DIAG_SQLSTATE;
static const int haven_pg_diag_severity = PG_DIAG_SEVERITY_NONLOCALIZED;
static const int haven_pg_diag_message_primary = PG_DIAG_MESSAGE_PRIMARY;
static const int haven_pg_diag_message_detail = PG_DIAG_MESSAGE_DETAIL;
static const int haven_pg_diag_message_hint = PG_DIAG_MESSAGE_HINT;
static const int haven_pg_diag_constraint_name = PG_DIAG_CONSTRAINT_NAME;
static const int haven_pg_diag_table_name = PG_DIAG_TABLE_NAME;
static const int haven_pg_diag_column_name = PG_DIAG_COLUMN_NAME;

// True when the socket has something to read although no command is in flight: for an idle
// connection that means the server sent an error (e.g. a shutdown notice) or closed it.
static inline int haven_pg_socket_readable(int fd) {
    struct pollfd p = { .fd = fd, .events = POLLIN, .revents = 0 };
    int n = poll(&p, 1, 0);
    return n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

#endif
