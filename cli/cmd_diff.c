/* cmd_diff.c - `dunlin diff` (being built). */
#include <stdio.h>

#include "cli/commands.h"

int dn_cmd_diff(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "dunlin diff: not available in this version yet\n");
  return 2;
}
