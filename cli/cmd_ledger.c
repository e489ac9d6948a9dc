/* cmd_ledger.c - `dunlin ledger init|import|demo`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "runtime/ledger.h"

static const char ledger_help[] =
    "usage: dunlin ledger init LEDGER\n"
    "       dunlin ledger import LEDGER [--customers F] [--invoices F] [--payments F]\n"
    "                    [--credits F] [--disputes F] [--promises F] [--fx-rates F]\n"
    "                    [--holidays F] [--map MAP]\n"
    "       dunlin ledger demo LEDGER [--customers N] [--seed S] [--today DATE]\n\n"
    "init creates an empty ledger (SQLite, schema of LEDGER.md).\n"
    "import loads RFC 4180 CSV files with a header row, all or nothing: the first bad\n"
    "row stops the import with FILE:LINE: reason and the ledger is left as it was.\n"
    "--map names a file of `their_column = our_column` lines for foreign exports.\n"
    "demo fills a new ledger with realistic synthetic customers and invoices in\n"
    "several currencies, reproducible from --seed (default 42), dated up to --today\n"
    "(default: today).\n";

static int finish(dn_status st, dn_diags *diags) {
  dn_cli_print_diags(diags);
  dn_diags_free(diags);
  return (int)st;
}

static int ledger_init(const char *path) {
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  struct stat sb;
  bool existed = stat(path, &sb) == 0 && sb.st_size > 0;
  dn_ledger l;
  dn_status st = dn_ledger_open(path, DN_LEDGER_CREATE, &l, &diags);
  if (st == DN_OK) {
    dn_ledger_close(&l);
    /* opening an existing ledger only migrates it: say so, not "created" */
    if (existed) printf("%s is already a ledger; left as it was\n", path);
    else printf("created ledger %s\n", path);
  }
  return finish(st, &diags);
}

static void print_counts(const dn_import_counts *c) {
  printf("imported: %lld customers, %lld invoices, %lld payments, %lld credits, %lld disputes, "
         "%lld promises, %lld fx rates, %lld holidays\n",
         (long long)c->customers, (long long)c->invoices, (long long)c->payments, (long long)c->credits,
         (long long)c->disputes, (long long)c->promises, (long long)c->fx_rates, (long long)c->holidays);
}

static int ledger_import(int argc, char **argv) {
  dn_import_files f = {0};
  const char *pos[1];
  int npos;
  bool help = false;
  dn_opt opts[] = {{"customers", &f.customers, NULL}, {"invoices", &f.invoices, NULL},
                   {"payments", &f.payments, NULL},   {"credits", &f.credits, NULL},
                   {"disputes", &f.disputes, NULL},   {"promises", &f.promises, NULL},
                   {"fx-rates", &f.fx_rates, NULL},   {"holidays", &f.holidays, NULL},
                   {"map", &f.map_path, NULL}};
  if (dn_args_parse("ledger import", argc, argv, opts, 9, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(ledger_help);
    return 0;
  }
  if (npos != 1) {
    fprintf(stderr, "dunlin ledger import: expected LEDGER and at least one --TABLE FILE\n");
    return 2;
  }
  if (!f.customers && !f.invoices && !f.payments && !f.credits && !f.disputes && !f.promises &&
      !f.fx_rates && !f.holidays) {
    fprintf(stderr, "dunlin ledger import: nothing to import (give --customers F, --invoices F, ...)\n");
    return 2;
  }
  dn_diags diags;
  dn_diags_init(&diags, pos[0], NULL, 0);
  dn_ledger l;
  dn_status st = dn_ledger_open(pos[0], DN_LEDGER_WRITE, &l, &diags);
  if (st != DN_OK) return finish(st, &diags);
  dn_import_counts counts = {0};
  st = dn_ledger_import(&l, &f, &counts, &diags);
  dn_ledger_close(&l);
  if (st == DN_OK) print_counts(&counts);
  int rc = finish(st, &diags);
  if (st != DN_OK) fprintf(stderr, "import failed: nothing was imported\n");
  return rc;
}

static int ledger_demo(int argc, char **argv) {
  const char *pos[1], *ncust = NULL, *seed = NULL, *today = NULL;
  int npos;
  bool help = false;
  dn_opt opts[] = {{"customers", &ncust, NULL}, {"seed", &seed, NULL}, {"today", &today, NULL}};
  if (dn_args_parse("ledger demo", argc, argv, opts, 3, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(ledger_help);
    return 0;
  }
  if (npos != 1) {
    fprintf(stderr, "dunlin ledger demo: expected LEDGER\n");
    return 2;
  }
  dn_demo_options o = {.customers = 200, .seed = 42, .today = dn_cli_today()};
  char *end;
  if (ncust) {
    o.customers = strtoll(ncust, &end, 10);
    if (*end || o.customers <= 0 || o.customers > 10000000) {
      fprintf(stderr, "dunlin ledger demo: --customers must be a whole number from 1 to 10000000\n");
      return 2;
    }
  }
  if (seed) {
    errno = 0;
    o.seed = strtoull(seed, &end, 10);
    /* strtoull takes "-1" as 2^64-1 and saturates on overflow */
    if (*end || !*seed || *seed == '-' || errno == ERANGE) {
      fprintf(stderr, "dunlin ledger demo: --seed must be a whole number\n");
      return 2;
    }
  }
  if (today && dn_cli_date("ledger demo", "today", today, &o.today) != DN_OK) return 2;
  dn_diags diags;
  dn_diags_init(&diags, pos[0], NULL, 0);
  dn_ledger l;
  dn_status st = dn_ledger_open(pos[0], DN_LEDGER_CREATE, &l, &diags);
  if (st != DN_OK) return finish(st, &diags);
  st = dn_ledger_demo(&l, &o, &diags);
  dn_ledger_close(&l);
  if (st == DN_OK) {
    char d[11];
    dn_date_format(o.today, d);
    printf("demo ledger %s: %lld customers, seed %llu, dated up to %s\n", pos[0], (long long)o.customers,
           (unsigned long long)o.seed, d);
  }
  return finish(st, &diags);
}

int dn_cmd_ledger(int argc, char **argv) {
  if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
    dn_cli_help(ledger_help);
    return argc < 1 ? 2 : 0;
  }
  if (strcmp(argv[0], "init") == 0) {
    const char *pos[1];
    int npos;
    bool help = false;
    if (dn_args_parse("ledger init", argc - 1, argv + 1, NULL, 0, pos, 1, &npos, &help) != DN_OK) return 2;
    if (help) {
      dn_cli_help(ledger_help);
      return 0;
    }
    if (npos != 1) {
      fprintf(stderr, "dunlin ledger init: expected LEDGER\n");
      return 2;
    }
    return ledger_init(pos[0]);
  }
  if (strcmp(argv[0], "import") == 0) return ledger_import(argc - 1, argv + 1);
  if (strcmp(argv[0], "demo") == 0) return ledger_demo(argc - 1, argv + 1);
  fprintf(stderr, "dunlin ledger: unknown subcommand '%s' (init, import, demo)\n", argv[0]);
  return 2;
}
