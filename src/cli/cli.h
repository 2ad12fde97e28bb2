/* cli.h — subcommands of the rrm binary and the small helpers they share. */
#ifndef RRM_CLI_H
#define RRM_CLI_H

#include "rrm.h"

struct cli_cmd {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the command name; returns the exit code */
    const char *help;
};

int cli_info(int argc, char **argv);
int cli_logits(int argc, char **argv);
int cli_generate(int argc, char **argv);

#endif
