/*
 * main.c — `rrm <command>`: dispatches to one function per subcommand (src/cli/cmd_*.c).
 * Only src/cli may print to stdout/stderr or exit. Exit codes: 0 ok, 1 runtime error, 2 usage.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static const struct cli_cmd commands[] = {
    {"info", cli_info, "show architecture, shapes, tensor types and sizes of a model"},
    {"logits", cli_logits, "write float32 logits of every position of --ids to --out"},
    {"generate", cli_generate, "generate token ids (or text) from a prompt"},
    {"judge", cli_judge, "judge which of two responses answers a query better (k votes)"},
    {"rank", cli_rank, "rank N candidate responses by ELO or knockout tournament"},
    {"eval", cli_eval, "evaluate a judge on a benchmark (resumable; report.json/.md/.svg)"},
    {"eval-merge", cli_eval_merge, "merge the shards of an rrm eval run into one report"},
    {"template", cli_template, "render chat messages with the model's chat template"},
    {"tokenize", cli_tokenize, "text -> token ids (one line, space-separated)"},
    {"detokenize", cli_detokenize, "token ids -> text, exactly, no added newline"},
    {"quantize", cli_quantize, "rewrite a GGUF with another weight type (Q8_0, Q4_K_M, ...)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: rrm <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'rrm <command> --help' shows the options of a command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "rrm: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
