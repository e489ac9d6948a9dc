/* ffi.h - loading native extension functions from allowed libraries.
 *
 * A policy's `extern fn NAME(...) -> T from "LIB"` (LANGUAGE.md s.8) names
 * a shared library; only libraries the caller allows (`--allow-ffi PATH`)
 * are ever opened. The VM calls the functions found here through libffi.
 * The allow-list is an object of its own, so two runs in one process can
 * allow different libraries. */
#ifndef DN_FFI_H
#define DN_FFI_H

#include <stddef.h>

typedef struct dn_ffi_libs dn_ffi_libs;

/* `allowed` are paths to shared libraries; they are resolved now, so a
 * later change of directory does not change what is allowed. NULL on out
 * of memory. */
dn_ffi_libs *dn_ffi_libs_new(const char *const *allowed, int nallowed);
void dn_ffi_libs_free(dn_ffi_libs *l);

/* The function `symbol` of `library`, or NULL with the reason in err.
 * `library` as a policy writes it: a bare file name matches an allowed path
 * with that file name; a path must resolve to an allowed path. */
void *dn_ffi_lookup(dn_ffi_libs *l, const char *library, const char *symbol, char *err, size_t errlen);

#endif
