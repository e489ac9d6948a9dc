/* serve_auth.h - the bearer token of `dunlin serve --token-file`. */
#ifndef DN_SERVE_AUTH_H
#define DN_SERVE_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stdlib/status.h"

/* Reads the token: the file's first line, surrounding blanks removed. An
 * empty token, or one with control characters, is refused (a reason is
 * written to err). */
dn_status serve_token_read(const char *path, char **token, size_t *len, FILE *err);

/* True when the Authorization header value is "Bearer <token>". The
 * comparison takes the same time whatever the header holds, so that its
 * duration does not reveal how much of a guess was right. */
bool serve_token_ok(const char *token, size_t token_len, const char *header);

#endif
