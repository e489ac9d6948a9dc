/* common.h - what several subcommands share: reading files, loading a
 * policy from source or verified bytecode, parsing dates, and printing
 * diagnostics. */
#ifndef DN_CLI_COMMON_H
#define DN_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "stdlib/date.h"
#include "stdlib/status.h"

/* Reads a whole file (NUL-terminated for convenience). E0505 on failure. */
dn_status dn_cli_read_file(const char *path, char **buf, size_t *len, dn_diags *diags);
/* True when a file is to be read as bytecode: it starts with the magic,
 * or its name ends in `.dbc` (so a .dbc whose magic is damaged gets
 * E0504 rather than a page of syntax errors about binary text). */
bool dn_cli_is_bytecode(const char *path, const char *buf, size_t len);
/* Loads a policy: `.dbc` (by its magic or name) is read and verified,
 * anything else is compiled from source. Diagnostics (warnings too) are
 * printed to stderr; *out is NULL on failure. */
dn_status dn_cli_load_policy(const char *path, dn_program **out);
/* Parses --as-of style dates; prints a usage error naming the option. */
dn_status dn_cli_date(const char *cmd, const char *opt, const char *text, dn_date *out);
/* --from/--to of simulate and diff: both dates, in order, at most about
 * ten years apart; prints the usage error itself. */
dn_status dn_cli_date_range(const char *cmd, const char *from, const char *to, dn_date *d1,
                            dn_date *d2);
/* Says on stderr that checking or compiling PATH failed without a
 * diagnostic (the parser's stack overflowed, or memory ran out), so that
 * no failure is ever silent. */
void dn_cli_silent_failure(const char *path, dn_status st);
/* True (with an E0103 diagnostic at the first NUL) when a file meant as
 * policy source is binary: a ledger or an archive passed by mistake would
 * otherwise make the lexer report every byte. */
bool dn_cli_binary_source(const char *path, const char *buf, size_t len, dn_diags *diags);
/* The footer of a command whose data errors skipped invoices or customers
 * (run, levels, simulate, diff): when st is DN_OK and errors > 0, says how
 * many on stderr and returns DN_ERR_INPUT (exit 1); otherwise returns st.
 * over_days: the errors were counted over simulated days. */
dn_status dn_cli_data_errors(dn_status st, int64_t errors, bool over_days);
/* Prints a list of diagnostics to stderr as text. */
void dn_cli_print_diags(const dn_diags *d);
/* Prints a subcommand's help text to stdout. */
void dn_cli_help(const char *text);
/* Today's date in UTC, for defaults such as `ledger demo`. */
dn_date dn_cli_today(void);
/* The printf field width ("%-*s") that pads s to `width` characters in a
 * text table: ids and names from a ledger or a policy may be UTF-8, and
 * printf pads by bytes. Counts code points, so a double-width (East Asian)
 * character still takes one column. s may be NULL (counted as ""). */
int dn_cli_col(const char *s, int width);

#endif
