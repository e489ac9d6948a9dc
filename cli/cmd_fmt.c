/* cmd_fmt.c - `dunlin fmt` (being built). */
#include <stdio.h>

#include "cli/commands.h"

int dn_cmd_fmt(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "dunlin fmt: not available in this version yet\n");
  return 2;
}
