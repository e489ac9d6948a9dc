/* cmd_kpi.c - `dunlin kpi` (being built). */
#include <stdio.h>

#include "cli/commands.h"

int dn_cmd_kpi(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "dunlin kpi: not available in this version yet\n");
  return 2;
}
