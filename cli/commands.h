/* commands.h - one entry point per subcommand; argv excludes the
 * subcommand's own name. Each returns the process exit status. */
#ifndef DN_CLI_COMMANDS_H
#define DN_CLI_COMMANDS_H

int dn_cmd_check(int argc, char **argv);
int dn_cmd_compile(int argc, char **argv);
int dn_cmd_disasm(int argc, char **argv);
int dn_cmd_ledger(int argc, char **argv);
int dn_cmd_run(int argc, char **argv);
int dn_cmd_explain(int argc, char **argv);
int dn_cmd_levels(int argc, char **argv);
int dn_cmd_fmt(int argc, char **argv);
int dn_cmd_test(int argc, char **argv);
int dn_cmd_simulate(int argc, char **argv);
int dn_cmd_diff(int argc, char **argv);
int dn_cmd_kpi(int argc, char **argv);
int dn_cmd_decide(int argc, char **argv);
int dn_cmd_serve(int argc, char **argv);

#endif
