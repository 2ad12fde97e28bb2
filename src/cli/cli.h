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
int cli_template(int argc, char **argv);
int cli_judge(int argc, char **argv);
int cli_rank(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_eval_merge(int argc, char **argv);
int cli_tokenize(int argc, char **argv);
int cli_detokenize(int argc, char **argv);
int cli_quantize(int argc, char **argv);

/* Strict parsers: print an error naming the flag and return -1 on bad text. */
int cli_int(const char *flag, const char *v, long long lo, long long hi, long long *out);
int cli_float(const char *flag, const char *v, double lo, double hi, double *out);
/* "1 2 3" or "1,2,3" -> malloc'd array (free with free()). */
int cli_parse_ids(const char *s, int32_t **ids, int64_t *n);
/* Prints "rrm WHAT: message (RRM_E_X)" and returns exit code 1. */
int cli_fail(const char *what, const rrm_err *err);
/* Library log messages to stderr (warnings; everything with verbose). */
void cli_log_init(int verbose);
/* Loads a model (HF dir or .gguf); progress on stderr when progress != 0. */
int cli_load_model(rrm_model **m, const char *path, int progress, rrm_err *err);

#endif
