/* args.h - a small reentrant command-line parser.
 *
 * getopt keeps its state in globals (optind, optarg); Dunlin keeps none,
 * and its subcommands want `--name value`, `--name=value` and flags mixed
 * with positional arguments, which this handles in thirty lines. */
#ifndef DN_ARGS_H
#define DN_ARGS_H

#include <stdbool.h>
#include "stdlib/status.h"

typedef struct dn_opt {
  const char *name;   /* without the leading "--" */
  const char **value; /* set for options taking a value */
  bool *flag;         /* set for flags */
} dn_opt;

/* Fills options and up to maxpos positionals. Prints a usage error to
 * stderr (naming cmd) and returns DN_ERR_USAGE on an unknown option, a
 * missing value or too many positionals. `--help` sets *help. */
dn_status dn_args_parse(const char *cmd, int argc, char **argv, const dn_opt *opts, int nopts,
                        const char **pos, int maxpos, int *npos, bool *help);

#endif
