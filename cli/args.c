/* args.c - see args.h. */
#include "cli/args.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const dn_opt *find_opt(const dn_opt *opts, int nopts, const char *name, size_t len) {
  for (int i = 0; i < nopts; i++)
    if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0) return &opts[i];
  return NULL;
}

/* A value option given twice is refused: `--as-of D1 ... --as-of D2`
 * would otherwise quietly use one of them. `seen` has a bit per option
 * (at most 64, far more than any command has). */
static dn_status take_option(const char *cmd, int argc, char **argv, int *i, const dn_opt *opts, int nopts,
                             uint64_t *seen) {
  const char *arg = argv[*i] + 2;
  const char *eq = strchr(arg, '=');
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  const dn_opt *o = find_opt(opts, nopts, arg, len);
  if (!o) {
    fprintf(stderr, "dunlin %s: unknown option --%.*s (see dunlin %s --help)\n", cmd, (int)len, arg, cmd);
    return DN_ERR_USAGE;
  }
  if (o->flag) {
    if (eq) {
      fprintf(stderr, "dunlin %s: --%s takes no value\n", cmd, o->name);
      return DN_ERR_USAGE;
    }
    *o->flag = true;
    return DN_OK;
  }
  uint64_t bit = (uint64_t)1 << ((o - opts) & 63);
  if (*seen & bit) {
    fprintf(stderr, "dunlin %s: --%s is given twice\n", cmd, o->name);
    return DN_ERR_USAGE;
  }
  *seen |= bit;
  if (eq) {
    *o->value = eq + 1;
  } else if (*i + 1 < argc) {
    *o->value = argv[++*i];
  } else {
    fprintf(stderr, "dunlin %s: --%s needs a value\n", cmd, o->name);
    return DN_ERR_USAGE;
  }
  return DN_OK;
}

dn_status dn_args_parse(const char *cmd, int argc, char **argv, const dn_opt *opts, int nopts,
                        const char **pos, int maxpos, int *npos, bool *help) {
  *npos = 0;
  *help = false;
  bool only_pos = false;
  uint64_t seen = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (!only_pos && strcmp(a, "--") == 0) {
      only_pos = true;
    } else if (!only_pos && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      *help = true;
    } else if (!only_pos && a[0] == '-' && a[1] == '-') {
      dn_status st = take_option(cmd, argc, argv, &i, opts, nopts, &seen);
      if (st != DN_OK) return st;
    } else if (!only_pos && a[0] == '-' && a[1] == 'o' && a[2] == '\0' && find_opt(opts, nopts, "output", 6)) {
      /* -o is the one short option: `dunlin compile FILE -o OUT.dbc` */
      if (i + 1 >= argc) {
        fprintf(stderr, "dunlin %s: -o needs a value\n", cmd);
        return DN_ERR_USAGE;
      }
      *find_opt(opts, nopts, "output", 6)->value = argv[++i];
    } else {
      if (*npos >= maxpos) {
        fprintf(stderr, "dunlin %s: unexpected argument '%s' (see dunlin %s --help)\n", cmd, a, cmd);
        return DN_ERR_USAGE;
      }
      pos[(*npos)++] = a;
    }
  }
  return DN_OK;
}
