/* serve_auth.c - reading and checking the bearer token (serve_auth.h). */
#include "cli/serve_auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 4096

dn_status serve_token_read(const char *path, char **token, size_t *len, FILE *err) {
  *token = NULL;
  *len = 0;
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(err, "dunlin serve: --token-file %s: %s\n", path, strerror(errno));
    return DN_ERR_INPUT;
  }
  char buf[TOKEN_MAX + 2];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  /* a directory opens fine and fails on read: say so, not "empty" */
  int rerr = ferror(f) ? errno : 0;
  fclose(f);
  if (rerr) {
    fprintf(err, "dunlin serve: --token-file %s: %s\n", path, strerror(rerr));
    return DN_ERR_INPUT;
  }
  buf[n] = '\0';
  char *nl = memchr(buf, '\n', n);
  /* a NUL inside the first line would silently cut the token short */
  bool nul = memchr(buf, '\0', nl ? (size_t)(nl - buf) : n) != NULL;
  char *s = buf;
  if (nl) *nl = '\0';
  while (*s == ' ' || *s == '\t') s++;
  size_t l = strlen(s);
  while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t' || s[l - 1] == '\r')) l--;
  s[l] = '\0';
  bool ctl = nul;
  for (size_t i = 0; i < l; i++) ctl |= (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
  if (l == 0 || l > TOKEN_MAX || ctl) {
    fprintf(err, "dunlin serve: --token-file %s: %s\n", path,
            l == 0 ? "the token is empty" : ctl ? "the token has control characters" : "the token is too long");
    return DN_ERR_INPUT;
  }
  *token = strdup(s);
  *len = l;
  return *token ? DN_OK : DN_ERR_INTERNAL;
}

bool serve_token_ok(const char *token, size_t token_len, const char *header) {
  static const char scheme[] = "Bearer ";
  if (!header || strncmp(header, scheme, sizeof scheme - 1) != 0) return false;
  const char *given = header + sizeof scheme - 1;
  size_t given_len = strlen(given);
  /* every byte of the token is compared whatever the guess's length */
  unsigned diff = given_len != token_len;
  for (size_t i = 0; i < token_len; i++) {
    unsigned char g = given_len ? (unsigned char)given[i % given_len] : 0;
    diff |= g ^ (unsigned char)token[i];
  }
  return diff == 0;
}
