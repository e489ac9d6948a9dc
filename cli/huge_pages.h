/* huge_pages.h - asking glibc's malloc for transparent huge pages before
 * a command that builds a heap of gigabytes (simulate, diff). */
#ifndef DN_CLI_HUGE_PAGES_H
#define DN_CLI_HUGE_PAGES_H

/* Re-executes the process with GLIBC_TUNABLES=glibc.malloc.hugetlb=1
 * (and a trim threshold of 1 TiB: freed memory stays in the process)
 * added when that can help and is not set yet; returns (and the command
 * runs as it is) otherwise or when the exec fails. argv is main's. */
void dn_cli_huge_pages(char **argv);

#endif
