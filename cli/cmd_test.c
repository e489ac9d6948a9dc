/* cmd_test.c - `dunlin test` (being built). */
#include <stdio.h>

#include "cli/commands.h"

int dn_cmd_test(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "dunlin test: not available in this version yet\n");
  return 2;
}
