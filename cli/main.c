/* main.c - the dunlin command: dispatch to a subcommand (CLI.md).
 *
 * Exit status: 0 success, 1 the input is wrong, 2 usage, 3 internal. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/huge_pages.h"

typedef struct dn_command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
  bool big_heap; /* builds gigabytes on a large ledger: huge pages help (cli/huge_pages.c) */
} dn_command;

static const dn_command commands[] = {
    {"check", dn_cmd_check, "parse and type-check policies; print diagnostics", false},
    {"compile", dn_cmd_compile, "compile a policy to bytecode (.dbc)", false},
    {"disasm", dn_cmd_disasm, "list a bytecode file", false},
    {"ledger", dn_cmd_ledger, "create a ledger, import CSV, make demo data", false},
    {"run", dn_cmd_run, "evaluate a policy against a ledger as of a date", false},
    {"explain", dn_cmd_explain, "why each action was or was not emitted", false},
    {"levels", dn_cmd_levels, "where each open invoice stands on its escalation ladders", false},
    {"fmt", dn_cmd_fmt, "format policies the one canonical way", false},
    {"test", dn_cmd_test, "run policy tests (*_test.dun)", false},
    {"simulate", dn_cmd_simulate, "replay a policy day by day over a date range", true},
    {"diff", dn_cmd_diff, "what a policy change would do differently", true},
    {"kpi", dn_cmd_kpi, "DSO, ADD, CEI, aging and other collection figures", false},
    {"decide", dn_cmd_decide, "co-process: JSON requests in, actions out", false},
    {"serve", dn_cmd_serve, "HTTP/JSON decision service", false},
};

static void usage(FILE *out) {
  fprintf(out, "usage: dunlin COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n`dunlin COMMAND --help` describes a command. Exit status: 0 ok, 1 input is wrong,\n"
               "2 usage error, 3 internal error.\n");
}

/* Output lost to a full disk or a closed descriptor must not end in
 * exit 0: whoever reads it would take a truncated list for the day's
 * actions. stdout is buffered, so the error often shows only here. */
static int finish_output(int rc) {
  errno = 0;
  bool failed = fflush(stdout) != 0 || ferror(stdout);
  if (failed) {
    fprintf(stderr, "dunlin: error[E0505]: cannot write the output: %s\n",
            errno ? strerror(errno) : "the write failed (disk full, or output closed?)");
    if (rc == 0) rc = 1;
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("dunlin 0.1.0\n");
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(argv[1], commands[i].name) != 0) continue;
    if (commands[i].big_heap) dn_cli_huge_pages(argv);
    return finish_output(commands[i].run(argc - 2, argv + 2));
  }
  fprintf(stderr, "dunlin: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
