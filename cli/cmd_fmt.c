/* cmd_fmt.c - `dunlin fmt [--check|--diff] FILE...`: canonical layout of
 * policy and policy-test files (lang/format.h, docs/formatting.md).
 *
 * A file is rewritten only when its layout changes, through a temporary
 * file in the same directory renamed over it, so an interrupted run never
 * leaves a half-written policy. `-` formats standard input to standard
 * output. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "lang/format.h"

static const char help[] =
    "usage: dunlin fmt [--check | --diff] FILE...\n\n"
    "Rewrites each policy (.dun) or policy test file (_test.dun) in the canonical\n"
    "layout of docs/formatting.md, in place, and only when the layout changes.\n"
    "A directory stands for every .dun file under it.\n"
    "A file with a syntax error is left alone and its errors are printed.\n"
    "FILE `-` reads standard input and writes the formatted text to standard output.\n\n"
    "  --check  write nothing; list the files whose layout would change\n"
    "  --diff   write nothing; print what would change as a unified diff\n\n"
    "Exit status: 0 done (or, with --check/--diff, every file already formatted);\n"
    "1 a file has a syntax error or cannot be read, or would change under\n"
    "--check/--diff; 2 usage error; 3 internal error (the file is not written).\n";

typedef struct fmt_opts {
  bool check, diff;
} fmt_opts;

static int worst(int a, int b) { return a > b ? a : b; }

/* ---- --diff: a unified diff of the lines ----------------------------- */

typedef struct lines {
  const char **p;
  size_t *n;
  size_t count;
} lines;

static bool split_lines(const char *s, size_t len, lines *l) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++) count += s[i] == '\n';
  count += len > 0 && s[len - 1] != '\n';
  l->p = malloc((count + 1) * sizeof *l->p);
  l->n = malloc((count + 1) * sizeof *l->n);
  l->count = 0;
  if (!l->p || !l->n) return false;
  for (size_t i = 0; i < len;) {
    size_t e = i;
    while (e < len && s[e] != '\n') e++;
    l->p[l->count] = s + i;
    l->n[l->count++] = e < len ? e - i + 1 : e - i;
    i = e + 1;
  }
  return true;
}

static bool same_line(const lines *a, size_t i, const lines *b, size_t j) {
  return a->n[i] == b->n[j] && memcmp(a->p[i], b->p[j], a->n[i]) == 0;
}

static void put_line(FILE *f, char tag, const char *p, size_t n) {
  fputc(tag, f);
  fwrite(p, 1, n, f);
  if (n == 0 || p[n - 1] != '\n') fputs("\n\\ No newline at end of file\n", f);
}

enum { KEEP, DEL, ADD };

/* The edit script from old to new lines, from a longest-common-subsequence
 * table (small for policies). Past 16M cells the whole file is one change. */
static size_t diff_ops(const lines *a, const lines *b, unsigned char *ops) {
  size_t na = a->count, nb = b->count, w = nb + 1, k = 0;
  uint32_t *t = (na + 1) * w <= ((size_t)1 << 24) ? calloc((na + 1) * w, sizeof *t) : NULL;
  if (!t) {
    for (size_t i = 0; i < na; i++) ops[k++] = DEL;
    for (size_t j = 0; j < nb; j++) ops[k++] = ADD;
    return k;
  }
  for (size_t i = na; i-- > 0;)
    for (size_t j = nb; j-- > 0;) {
      uint32_t down = t[(i + 1) * w + j], right = t[i * w + j + 1];
      t[i * w + j] = same_line(a, i, b, j) ? t[(i + 1) * w + j + 1] + 1
                                           : down > right ? down : right;
    }
  size_t i = 0, j = 0;
  while (i < na || j < nb) {
    if (i < na && j < nb && same_line(a, i, b, j)) {
      ops[k++] = KEEP;
      i++;
      j++;
    } else if (i < na && (j == nb || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
      ops[k++] = DEL; /* deletions first, as diff(1) prints them */
      i++;
    } else {
      ops[k++] = ADD;
      j++;
    }
  }
  free(t);
  return k;
}

static void print_hunks(FILE *f, const lines *a, const lines *b, const unsigned char *ops,
                        size_t nops) {
  enum { CTX = 3 };
  size_t k = 0, ai = 0, bi = 0; /* ai, bi: the lines of a and b at ops[k] */
  while (k < nops) {
    if (ops[k] == KEEP) {
      k++;
      ai++;
      bi++;
      continue;
    }
    size_t back = 0;
    while (back < CTX && back < k && ops[k - back - 1] == KEEP) back++;
    size_t start = k - back, a0 = ai - back, b0 = bi - back;
    /* The hunk ends CTX lines into the first run of more than 2 * CTX
     * unchanged lines (or at the end). */
    size_t end = k, run = 0;
    while (end < nops && run <= 2 * CTX) run = ops[end++] == KEEP ? run + 1 : 0;
    if (run > CTX) end -= run - CTX;
    size_t ac = 0, bc = 0;
    for (size_t m = start; m < end; m++) {
      ac += ops[m] != ADD;
      bc += ops[m] != DEL;
    }
    fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", ac ? a0 + 1 : a0, ac, bc ? b0 + 1 : b0, bc);
    for (size_t m = start; m < end; m++) {
      if (ops[m] != ADD) put_line(f, ops[m] == KEEP ? ' ' : '-', a->p[a0], a->n[a0]);
      else put_line(f, '+', b->p[b0], b->n[b0]);
      a0 += ops[m] != ADD;
      b0 += ops[m] != DEL;
    }
    k = end;
    ai = a0;
    bi = b0;
  }
}

static void print_diff(FILE *f, const char *name, const char *old, size_t old_len, const char *new,
                       size_t new_len) {
  lines a = {0}, b = {0};
  unsigned char *ops = NULL;
  if (split_lines(old, old_len, &a) && split_lines(new, new_len, &b) &&
      (ops = malloc(a.count + b.count + 1))) {
    fprintf(f, "--- %s\n+++ %s (formatted)\n", name, name);
    print_hunks(f, &a, &b, ops, diff_ops(&a, &b, ops));
  }
  free(ops);
  free(a.p);
  free(a.n);
  free(b.p);
  free(b.n);
}

static dn_status read_stdin(char **buf, size_t *len) {
  size_t cap = 4096, n = 0;
  char *p = malloc(cap);
  if (!p) return DN_ERR_INTERNAL;
  for (;;) {
    if (n + 1 >= cap) {
      char *q = realloc(p, cap *= 2);
      if (!q) {
        free(p);
        return DN_ERR_INTERNAL;
      }
      p = q;
    }
    size_t got = fread(p + n, 1, cap - n - 1, stdin);
    n += got;
    if (got == 0) break;
  }
  if (ferror(stdin)) {
    free(p);
    return DN_ERR_INTERNAL;
  }
  p[n] = '\0';
  *buf = p;
  *len = n;
  return DN_OK;
}

static bool write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

/* Temp file next to the target, same mode, then rename: readers see the
 * old file or the new one, never a mix. A symlink is followed, so the
 * file it points to is the one rewritten. */
static int write_in_place(const char *path, const char *text, size_t len) {
  char real[PATH_MAX];
  if (!realpath(path, real)) {
    fprintf(stderr, "%s: error[E0505]: cannot resolve the path: %s\n", path, strerror(errno));
    return 3;
  }
  struct stat st;
  if (stat(real, &st) != 0) {
    fprintf(stderr, "%s: error[E0505]: %s\n", path, strerror(errno));
    return 3;
  }
  char tmp[PATH_MAX + 32];
  const char *slash = strrchr(real, '/');
  int dirlen = slash ? (int)(slash - real) : 0;
  snprintf(tmp, sizeof tmp, "%.*s/.%s.fmt-XXXXXX", dirlen, real, slash ? slash + 1 : real);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    fprintf(stderr, "%s: error[E0505]: cannot create a temporary file: %s\n", path,
            strerror(errno));
    return 3;
  }
  bool ok = fchmod(fd, st.st_mode & 07777) == 0 && write_all(fd, text, len) && fsync(fd) == 0;
  int err = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && rename(tmp, real) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    unlink(tmp);
    fprintf(stderr, "%s: error[E0505]: cannot write the formatted file: %s\n", path, strerror(err));
    return 3;
  }
  return 0;
}

/* Formats one source; on success *out is the canonical text. */
static int format_source(const char *name, const char *src, size_t len, char **out,
                         size_t *out_len) {
  dn_diags diags;
  dn_diags_init(&diags, name, src, len);
  const char *why = NULL;
  dn_status st = dn_cli_binary_source(name, src, len, &diags)
                     ? DN_ERR_INPUT
                     : dn_format(name, src, len, out, out_len, &diags, &why);
  if (st == DN_ERR_INPUT) {
    dn_diags_sort(&diags);
    dn_diags_render_text(&diags, stderr, false);
    if (diags.errors == 0) fprintf(stderr, "%s: error: the file could not be parsed\n", name);
  } else if (st != DN_OK) {
    fprintf(stderr, "%s: error: internal error, the file is left as it was: %s\n", name,
            why ? why : "unknown failure");
  }
  dn_diags_free(&diags);
  return st == DN_OK ? 0 : st == DN_ERR_INPUT ? 1 : 3;
}

/* --check and --diff: says whether name would change (status 1 if so). */
static int report(const fmt_opts *o, const char *name, const char *src, size_t len,
                  const char *out, size_t out_len) {
  bool changed = out_len != len || memcmp(out, src, len) != 0;
  if (o->diff && changed) print_diff(stdout, name, src, len, out, out_len);
  else if (o->check && changed) printf("%s\n", name);
  return (o->check || o->diff) && changed;
}

static int fmt_stdin(const fmt_opts *o) {
  char *src, *out;
  size_t len, out_len;
  if (read_stdin(&src, &len) != DN_OK) {
    fprintf(stderr, "<stdin>: error[E0505]: cannot read standard input\n");
    return 1;
  }
  int rc = format_source("<stdin>", src, len, &out, &out_len);
  if (rc == 0) {
    rc = report(o, "<stdin>", src, len, out, out_len);
    bool to_stdout = !o->check && !o->diff;
    if (to_stdout && (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0)) {
      fprintf(stderr, "<stdin>: error[E0505]: cannot write standard output\n");
      rc = 3;
    }
    free(out);
  }
  free(src);
  return rc;
}

/* ---- directories ---------------------------------------------------- */

typedef struct paths {
  char **p;
  size_t n, cap;
} paths;

static bool push_path(paths *ps, char *p) {
  if (ps->n == ps->cap) {
    size_t cap = ps->cap ? ps->cap * 2 : 32;
    char **g = realloc(ps->p, cap * sizeof *g);
    if (!g) return false;
    ps->p = g;
    ps->cap = cap;
  }
  ps->p[ps->n++] = p;
  return true;
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Every *.dun under dir, hidden entries skipped (`.git`, editor files). */
static bool collect(const char *dir, paths *out) {
  DIR *d = opendir(dir);
  if (!d) return false;
  bool ok = true;
  struct dirent *e;
  while (ok && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    size_t n = strlen(dir) + strlen(e->d_name) + 2;
    char *p = malloc(n);
    if (!p) {
      ok = false;
      break;
    }
    snprintf(p, n, "%s%s%s", dir, ends_with(dir, "/") ? "" : "/", e->d_name);
    struct stat st;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      ok = collect(p, out);
      free(p);
    } else if (ends_with(p, ".dun") && stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
      if (!(ok = push_path(out, p))) free(p);
    } else {
      free(p);
    }
  }
  closedir(d);
  return ok;
}

static int cmp_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int fmt_one(const char *path, const fmt_opts *o);

/* A directory stands for its *.dun files, in name order. */
static int fmt_dir(const char *dir, const fmt_opts *o) {
  paths ps = {0};
  int status = 0;
  if (!collect(dir, &ps)) {
    fprintf(stderr, "%s: error[E0505]: cannot read the directory: %s\n", dir, strerror(errno));
    status = 1;
  }
  qsort(ps.p, ps.n, sizeof *ps.p, cmp_path);
  for (size_t i = 0; i < ps.n; i++) {
    if (status < 3) status = worst(status, fmt_one(ps.p[i], o));
    free(ps.p[i]);
  }
  free(ps.p);
  return status;
}

static int fmt_file(const char *path, const fmt_opts *o) {
  if (strcmp(path, "-") == 0) return fmt_stdin(o);
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return fmt_dir(path, o);
  return fmt_one(path, o);
}

static int fmt_one(const char *path, const fmt_opts *o) {
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  char *src, *out;
  size_t len, out_len;
  if (dn_cli_read_file(path, &src, &len, &diags) != DN_OK) {
    dn_cli_print_diags(&diags);
    dn_diags_free(&diags);
    return 1;
  }
  dn_diags_free(&diags);
  int rc = format_source(path, src, len, &out, &out_len);
  if (rc == 0) {
    rc = report(o, path, src, len, out, out_len);
    bool changed = out_len != len || memcmp(out, src, len) != 0;
    if (!o->check && !o->diff && changed) rc = write_in_place(path, out, out_len);
    free(out);
  }
  free(src);
  return rc;
}

int dn_cmd_fmt(int argc, char **argv) {
  fmt_opts o = {false, false};
  bool help_flag = false;
  /* As many files as arguments: `dunlin fmt $(git ls-files '*.dun')`. */
  const char **files = malloc(((size_t)argc + 1) * sizeof *files);
  if (!files) {
    fprintf(stderr, "dunlin fmt: out of memory\n");
    return 3;
  }
  int nfiles, status = 0;
  dn_opt opts[] = {{"check", NULL, &o.check}, {"diff", NULL, &o.diff}};
  if (dn_args_parse("fmt", argc, argv, opts, 2, files, argc, &nfiles, &help_flag) != DN_OK) {
    status = 2;
  } else if (help_flag) {
    dn_cli_help(help);
  } else if (nfiles == 0) {
    fprintf(stderr, "dunlin fmt: no files given (see dunlin fmt --help)\n");
    status = 2;
  } else {
    int stdin_uses = 0;
    for (int i = 0; i < nfiles; i++) stdin_uses += strcmp(files[i], "-") == 0;
    if (stdin_uses > 1) {
      fprintf(stderr, "dunlin fmt: `-` (standard input) may be given only once\n");
      status = 2;
    }
    for (int i = 0; status != 2 && i < nfiles; i++) status = worst(status, fmt_file(files[i], &o));
  }
  free(files);
  return status;
}
