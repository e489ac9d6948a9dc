/* cmd_serve.c - `dunlin serve` (being built). */
#include <stdio.h>

#include "cli/commands.h"

int dn_cmd_serve(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "dunlin serve: not available in this version yet\n");
  return 2;
}
