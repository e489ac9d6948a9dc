/* cmd_simulate.c - `dunlin simulate` (being built). */
#include <stdio.h>

#include "cli/commands.h"

int dn_cmd_simulate(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "dunlin simulate: not available in this version yet\n");
  return 2;
}
