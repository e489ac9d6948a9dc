/* huge_pages.c - see huge_pages.h.
 *
 * Why: a year's replay of a million invoices keeps gigabytes of history
 * that every day's evaluations read at random, customer by customer; on
 * 4 KiB pages that is a TLB miss per touch and a page fault per 4 KiB
 * grown. With glibc's malloc asking for transparent huge pages the same
 * replay ran 15 to 17 % faster (bench/RESULTS.md, simulate), its output
 * byte for byte the same. glibc reads the tunable only when a process
 * starts, so the only way to set it from inside is to start again.
 *
 * Not done when: the kernel gives huge pages to every process anyway
 * ("always") or to none ("never"), or this is not Linux with glibc;
 * GLIBC_TUNABLES already says what it wants about hugetlb; the process
 * runs under valgrind (its LD_PRELOAD; the child would run outside it);
 * DUNLIN_HUGE_PAGES=0 turns it off. */
#include "cli/huge_pages.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* And freed memory kept for the process's next allocations rather than
 * handed back: simulate frees its in-memory ledger copy's rows once they
 * are in its store (runtime/simulate.c, empty_copy), and on a VM whose
 * host backs guest memory lazily every page touched anew costs system
 * time (bench/RESULTS.md, "what a megabyte costs"): the 100k year's
 * huge-page faults went from 1,266 to 1,148, the 10k year's from 115 to
 * 96. */
#define TUNABLE "glibc.malloc.hugetlb=1:glibc.malloc.trim_threshold=1099511627776"

/* The kernel hands out huge pages on request ("[madvise]" selected). */
static int kernel_on_request(void) {
  char mode[128] = "";
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (!f) return 0;
  size_t n = fread(mode, 1, sizeof mode - 1, f);
  fclose(f);
  mode[n] = '\0';
  return strstr(mode, "[madvise]") != NULL;
}

static int wanted(void) {
  const char *off = getenv("DUNLIN_HUGE_PAGES");
  const char *tunables = getenv("GLIBC_TUNABLES");
  const char *preload = getenv("LD_PRELOAD");
  if (off && strcmp(off, "0") == 0) return 0;
  if (tunables && strstr(tunables, "glibc.malloc.hugetlb")) return 0;
  if (preload && strstr(preload, "vgpreload")) return 0;
  return kernel_on_request();
}

void dn_cli_huge_pages(char **argv) {
#if defined(__linux__) && defined(__GLIBC__)
  if (!wanted()) return;
  const char *old = getenv("GLIBC_TUNABLES");
  size_t n = (old ? strlen(old) + 1 : 0) + sizeof TUNABLE;
  char *value = malloc(n);
  if (!value) return;
  snprintf(value, n, "%s%s%s", old ? old : "", old && *old ? ":" : "", TUNABLE);
  /* Set even if the exec fails: the tunable then marks it as tried. */
  if (setenv("GLIBC_TUNABLES", value, 1) == 0) execv("/proc/self/exe", argv);
  free(value);
#else
  (void)argv;
#endif
}
