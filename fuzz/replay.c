/* replay.c - runs a libFuzzer target's corpus without libFuzzer, so the
 * normal build (gcc, ASan + UBSan under scripts/test.sh) replays every
 * saved input as a ctest. Arguments are files or directories (each
 * regular file in them, in name order). Exits 0 when every input ran to
 * the end; a crash or sanitizer report ends the process, naming nothing,
 * so each input's name is printed to stderr before it runs when
 * DUNLIN_REPLAY_VERBOSE is set. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_all(const char *path, uint8_t **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t cap = 4096, n = 0;
  uint8_t *b = malloc(cap);
  while (b) {
    n += fread(b + n, 1, cap - n, f);
    if (n < cap) break;
    uint8_t *nb = realloc(b, cap * 2);
    if (!nb) { free(b); b = NULL; break; }
    b = nb;
    cap *= 2;
  }
  int bad = ferror(f);
  fclose(f);
  if (!b || bad) { free(b); return -1; }
  *out = b;
  *len = n;
  return 0;
}

static int run_file(const char *path, int verbose) {
  uint8_t *data;
  size_t len;
  if (read_all(path, &data, &len) != 0) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return -1;
  }
  if (verbose) fprintf(stderr, "replay: %s\n", path);
  /* An exact-size copy, so ASan catches a read one past the end. */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) { free(data); return -1; }
  memcpy(exact, data, len);
  free(data);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int verbose, long *count) {
  DIR *d = opendir(dir);
  if (!d) { fprintf(stderr, "replay: cannot open %s\n", dir); return -1; }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nn = realloc(names, cap * sizeof *names);
      if (!nn) { rc = -1; break; }
      names = nn;
    }
    size_t l = strlen(dir) + strlen(e->d_name) + 2;
    names[n] = malloc(l);
    if (!names[n]) { rc = -1; break; }
    snprintf(names[n], l, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    struct stat sb;
    if (rc == 0 && stat(names[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
      if (run_file(names[i], verbose) != 0) rc = -1;
      else (*count)++;
    }
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char **argv) {
  int verbose = getenv("DUNLIN_REPLAY_VERBOSE") != NULL;
  long count = 0;
  int failed = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) { fprintf(stderr, "replay: no such file %s\n", argv[i]); failed = 1; continue; }
    if (S_ISDIR(sb.st_mode)) failed |= run_dir(argv[i], verbose, &count) != 0;
    else if (run_file(argv[i], verbose) == 0) count++;
    else failed = 1;
  }
  if (count == 0) { fprintf(stderr, "replay: no inputs\n"); failed = 1; }
  printf("%ld passed, %d failed\n", count, failed);
  return failed ? 1 : 0;
}
