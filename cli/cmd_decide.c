/* cmd_decide.c - `dunlin decide` (being built). */
#include <stdio.h>

#include "cli/commands.h"

int dn_cmd_decide(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "dunlin decide: not available in this version yet\n");
  return 2;
}
