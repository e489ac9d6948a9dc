/* tokens.h - the policy lexer's token stream as data, for tools that work
 * on source text (the formatter) rather than on the syntax tree.
 *
 * The tokens come from the very scanner the parser uses (lexer.l), so a
 * tool never disagrees with the compiler about where a token starts or
 * what it is. White space and comments produce no token: a comment is
 * whatever `#...` lies in the gap between two token spans. */
#ifndef DN_TOKENS_H
#define DN_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "lang/diag.h"
#include "stdlib/status.h"

/* What a tool needs to know about a token without the parser's tables.
 * Keywords added to the language later fall into DN_TOK_KEYWORD with no
 * change here. */
typedef enum dn_tok_class {
  DN_TOK_KEYWORD, /* a reserved word: `segment`, `when`, `days`, ... */
  DN_TOK_IDENT,   /* a name, including a keyword spelling after `.` */
  DN_TOK_NUMBER,  /* 42, 1_000, 0.75, 30% */
  DN_TOK_CODE,    /* a currency code where one can stand: 500 USD */
  DN_TOK_STRING,  /* "..." (a closed string; see the status below) */
  DN_TOK_DATE,    /* 2026-03-10 */
  DN_TOK_TIME,    /* 09:00 */
  DN_TOK_PUNCT    /* operators and brackets: { } ( ) [ ] , : . = == -> .. */
} dn_tok_class;

typedef struct dn_token {
  int kind;           /* the parser's token number (T_* of parser.h, or the
                         character itself for one-character tokens) */
  dn_tok_class cls;
  uint32_t start, end; /* byte offsets into the source, end exclusive */
} dn_token;

/* Scans src[0..len) into a malloc'd array (*out, free() it; NULL when
 * there are no tokens) of *n tokens, end of file excluded. Lexical errors
 * (E0102 E0103 E0105 E0106) are appended to diags and give DN_ERR_INPUT
 * with the tokens still returned; DN_ERR_INTERNAL on out of memory. */
dn_status dn_lex_tokens(const char *src, size_t len, dn_token **out, size_t *n,
                        dn_diags *diags);

#endif
