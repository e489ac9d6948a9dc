/* status.h - the status every fallible Dunlin function returns.
 *
 * The values are the CLI's exit codes (CLI.md), so a status travels from
 * the deepest function to main() unchanged and main() only returns it. */
#ifndef DN_STATUS_H
#define DN_STATUS_H

typedef enum dn_status {
  DN_OK = 0,
  DN_ERR_INPUT = 1,    /* the user's input is wrong: policy, CSV, ledger data */
  DN_ERR_USAGE = 2,    /* bad command line */
  DN_ERR_INTERNAL = 3  /* a bug, out of memory, I/O failure */
} dn_status;

#endif
