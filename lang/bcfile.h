/* bcfile.h - the bytecode file format (.dbc).
 *
 * Layout (all integers little endian, written byte by byte):
 *   magic "\x1bDUNLIN\n"  8 bytes: ESC catches text-mode mangling, \n CRLF
 *   format version        u16
 *   sentinel              u32 0x1A2B3C4D and u16 0x0102: byte order check
 *   section count         u16, then per section: id u16, length u32
 *   sections              header (name, version, hash, settings), strings,
 *                         consts, code, chunks, lines, and one per table
 *   checksum              u64 FNV-1a of everything before it
 * Reading is bounds-checked through one cursor that reports "truncated";
 * reading succeeds only structurally: run dn_verify before executing. */
#ifndef DN_BCFILE_H
#define DN_BCFILE_H

#include <stddef.h>
#include <stdint.h>

#include "lang/diag.h"
#include "lang/program.h"
#include "stdlib/status.h"

#define DN_BC_FORMAT_VERSION 1

/* Serialises into a malloc'd buffer. */
dn_status dn_bc_write(const dn_program *p, uint8_t **buf, size_t *len, dn_diags *diags);
/* Parses a buffer (untrusted). Errors are E0504 naming `filename`. */
dn_status dn_bc_read(const char *filename, const uint8_t *buf, size_t len,
                     dn_program **out, dn_diags *diags);
/* True when buf starts with the bytecode magic (to tell .dbc from .dun). */
int dn_bc_is_bytecode(const uint8_t *buf, size_t len);

uint64_t dn_fnv1a64(const void *data, size_t len, uint64_t seed);
#define DN_FNV64_SEED 0xcbf29ce484222325ULL

#endif
