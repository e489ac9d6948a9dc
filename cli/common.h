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
/* Loads a policy: `.dbc` (detected by its magic) is read and verified,
 * anything else is compiled from source. Diagnostics (warnings too) are
 * printed to stderr; *out is NULL on failure. */
dn_status dn_cli_load_policy(const char *path, dn_program **out);
/* Parses --as-of style dates; prints a usage error naming the option. */
dn_status dn_cli_date(const char *cmd, const char *opt, const char *text, dn_date *out);
/* Prints a list of diagnostics to stderr as text. */
void dn_cli_print_diags(const dn_diags *d);
/* Prints a subcommand's help text to stdout. */
void dn_cli_help(const char *text);
/* Today's date in UTC, for defaults such as `ledger demo`. */
dn_date dn_cli_today(void);

#endif
