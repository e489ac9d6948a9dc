/* cmd_compile.c - `dunlin compile FILE -o OUT.dbc` and `dunlin disasm`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "lang/bcfile.h"
#include "lang/disasm.h"
#include "runtime/native.h"
#include "runtime/verify.h"

static const char compile_help[] =
    "usage: dunlin compile FILE.dun|FILE.dbc [-o OUT.dbc] [--native OUT.so] [--emit-c OUT.c]\n\n"
    "Checks and compiles a policy to bytecode. The file carries the policy's name,\n"
    "version and a hash of its source; `dunlin run` verifies it before running it.\n"
    "--native OUT.so also compiles the policy's expressions (and, for `levels`, its\n"
    "escalation ladders) to machine code with the system C compiler ($CC, else cc):\n"
    "a shared library for `run`, `explain`, `levels` and `simulate --native OUT.so`,\n"
    "which then give the same output faster. It is refused for any other policy or\n"
    "by another build of Dunlin (docs/native.md).\n"
    "--emit-c OUT.c writes the C source that --native compiles.\n";

static const char disasm_help[] =
    "usage: dunlin disasm FILE.dbc|FILE.dun\n\n"
    "Prints a compiled policy: its settings and tables, then each expression's\n"
    "bytecode as `addr opcode operands comment`.\n";

/* Writes through a temporary file and rename(), so a failed write never
 * leaves a truncated .dbc where a good one stood. */
static int write_atomically(const char *path, const uint8_t *buf, size_t len) {
  size_t n = strlen(path) + 16;
  char *tmp = malloc(n);
  if (!tmp) return 3;
  snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(buf, 1, len, f) == len;
  if (f && fclose(f) != 0) ok = 0;
  if (ok && rename(tmp, path) != 0) ok = 0;
  if (!ok) {
    fprintf(stderr, "%s: error[E0505]: cannot write: %s\n", path, strerror(errno));
    remove(tmp);
  }
  free(tmp);
  return ok ? 0 : 1;
}

/* Whether writing `output` would replace the policy being compiled
 * (said on stderr, naming `flag`). */
static bool overwrites_policy(const char *input, const char *output, const char *flag) {
  struct stat in, out;
  if (stat(output, &out) != 0 || stat(input, &in) != 0) return false;
  if (in.st_dev != out.st_dev || in.st_ino != out.st_ino) return false;
  fprintf(stderr, "dunlin compile: %s%s would overwrite the policy being compiled\n", flag, output);
  return true;
}

/* `-o` must not clobber the policy it compiles, nor any other file that
 * is not bytecode (a typo such as `-o other.dun`): only a missing file,
 * an empty one or an older .dbc may be replaced. */
static bool may_write_output(const char *input, const char *output) {
  struct stat out;
  if (stat(output, &out) != 0 || !S_ISREG(out.st_mode) || out.st_size == 0) return true;
  if (overwrites_policy(input, output, "-o ")) return false;
  uint8_t head[8] = {0};
  FILE *f = fopen(output, "rb");
  size_t n = f ? fread(head, 1, sizeof head, f) : 0;
  if (f) fclose(f);
  if (dn_bc_is_bytecode(head, n)) return true;
  fprintf(stderr, "dunlin compile: -o %s: refusing to overwrite a file that is not bytecode\n", output);
  return false;
}

/* Makes a file's bytes in memory: *buf (malloc'd, the caller frees). */
typedef dn_status (*produce_fn)(const dn_program *p, uint8_t **buf, size_t *len, dn_diags *diags);

/* The C source through a memory stream, so a failure leaves no half file. */
static dn_status emit_c_text(const dn_program *p, uint8_t **buf, size_t *len, dn_diags *diags) {
  char *text = NULL;
  FILE *mem = open_memstream(&text, len);
  dn_status st = mem ? dn_native_emit(p, mem, diags) : DN_ERR_INTERNAL;
  if (mem && fclose(mem) != 0 && st == DN_OK) st = DN_ERR_INTERNAL;
  *buf = (uint8_t *)text;
  return st;
}

/* What produce makes, written to output whole or not at all. */
static int write_produced(const dn_program *p, const char *output, produce_fn produce) {
  dn_diags diags;
  dn_diags_init(&diags, output, NULL, 0);
  uint8_t *buf = NULL;
  size_t len = 0;
  dn_status st = produce(p, &buf, &len, &diags);
  int rc = st == DN_OK ? write_atomically(output, buf, len) : (int)st;
  dn_cli_print_diags(&diags);
  dn_diags_free(&diags);
  free(buf);
  return rc;
}

static int write_native(const dn_program *p, const char *output) {
  dn_diags diags;
  dn_diags_init(&diags, output, NULL, 0);
  dn_status st = dn_native_build(p, output, &diags);
  dn_cli_print_diags(&diags);
  dn_diags_free(&diags);
  return (int)st;
}

int dn_cmd_compile(int argc, char **argv) {
  const char *output = NULL, *native = NULL, *emit_c = NULL, *pos[1];
  int npos;
  bool help = false;
  dn_opt opts[] = {{"output", &output, NULL}, {"native", &native, NULL}, {"emit-c", &emit_c, NULL}};
  if (dn_args_parse("compile", argc, argv, opts, 3, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(compile_help);
    return 0;
  }
  if (npos != 1 || (!output && !native && !emit_c)) {
    fprintf(stderr, "dunlin compile: expected FILE.dun -o OUT.dbc, --native OUT.so or --emit-c OUT.c"
                    " (see dunlin compile --help)\n");
    return 2;
  }
  if ((output && !may_write_output(pos[0], output)) || (native && overwrites_policy(pos[0], native, "")) ||
      (emit_c && overwrites_policy(pos[0], emit_c, "")))
    return 2;
  dn_program *p;
  dn_status st = dn_cli_load_policy(pos[0], &p);
  if (st != DN_OK) return st;
  int rc = output ? write_produced(p, output, dn_bc_write) : 0;
  if (rc == 0 && emit_c) rc = write_produced(p, emit_c, emit_c_text);
  if (rc == 0 && native) rc = write_native(p, native);
  dn_program_free(p);
  return rc;
}

/* A bytecode file that fails verification is still listed (after the
 * verifier's complaints), since a listing is how people find out what is
 * wrong with it; only a structurally unreadable file stops here. */
static int disasm_file(const char *path) {
  dn_diags diags;
  dn_diags_init(&diags, path, NULL, 0);
  char *buf;
  size_t len;
  if (dn_cli_read_file(path, &buf, &len, &diags) != DN_OK) {
    dn_cli_print_diags(&diags);
    dn_diags_free(&diags);
    return 1;
  }
  if (!dn_cli_is_bytecode(path, buf, len)) {
    free(buf);
    dn_diags_free(&diags);
    dn_program *p;
    dn_status st = dn_cli_load_policy(path, &p);
    if (st != DN_OK) return st;
    dn_disasm(p, stdout);
    dn_program_free(p);
    return 0;
  }
  dn_program *p = NULL;
  dn_status st = dn_bc_read(path, (const uint8_t *)buf, len, &p, &diags);
  int rc = st == DN_OK ? 0 : 1;
  if (st == DN_OK) {
    if (dn_verify(p, path, &diags) != DN_OK) rc = 1;
    dn_disasm(p, stdout);
  }
  dn_cli_print_diags(&diags);
  dn_diags_free(&diags);
  if (p) dn_program_free(p);
  free(buf);
  return rc;
}

int dn_cmd_disasm(int argc, char **argv) {
  const char *pos[1];
  int npos;
  bool help = false;
  if (dn_args_parse("disasm", argc, argv, NULL, 0, pos, 1, &npos, &help) != DN_OK) return 2;
  if (help) {
    dn_cli_help(disasm_help);
    return 0;
  }
  if (npos != 1) {
    fprintf(stderr, "dunlin disasm: expected one FILE.dbc (see dunlin disasm --help)\n");
    return 2;
  }
  return disasm_file(pos[0]);
}
