/*
 * cmd_quantize.c — `rrm quantize IN.gguf OUT.gguf --type T`: rewrites a GGUF model with another
 * weight type (llama.cpp's mixes for Q4_K_M / Q5_K_M, see src/model/quantize.c), copying all
 * metadata (tokenizer, chat template, hyper-parameters). Exit codes: 0 ok, 1 error, 2 usage.
 */
#include "cli/cli.h"
#include "model/qwen2.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: rrm quantize IN.gguf OUT.gguf --type TYPE [-v]\n"
               "  TYPE: %s\n"
               "  IN must be a GGUF file (F32/F16/BF16 or already quantized: rows are\n"
               "  dequantized and quantized again). OUT is written atomically.\n",
            qwen2_qmix_names());
}

static int progress(uint64_t done, uint64_t total, void *user)
{
    int *last = user;
    int pct = total ? (int)(100 * done / total) : 100;
    if (pct / 5 != *last / 5) {
        fprintf(stderr, "\rrrm quantize: %3d%%", pct);
        if (pct == 100) fputc('\n', stderr);
        *last = pct;
    }
    return 0;
}

int cli_quantize(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *type = NULL;
    int verbose = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--type") == 0 && i + 1 < argc) {
            type = argv[++i];
        } else if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "rrm quantize: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!in) {
            in = argv[i];
        } else if (!out) {
            out = argv[i];
        } else {
            fprintf(stderr, "rrm quantize: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!in || !out || !type) {
        usage(stderr);
        return 2;
    }
    const struct qwen2_qmix *mix = qwen2_qmix_find(type);
    if (!mix) {
        fprintf(stderr, "rrm quantize: unknown --type '%s' (%s)\n", type, qwen2_qmix_names());
        return 2;
    }
    if (!gguf_is_file(in)) {
        fprintf(stderr, "rrm quantize: '%s' is not a GGUF file (convert a Hugging Face directory "
                        "with tools/mkmodel-style export first)\n", in);
        return 1;
    }
    cli_log_init(verbose);
    rrm_err err = {0};
    int last = -1;
    int rc = qwen2_quantize_gguf(in, out, mix, isatty(2) ? progress : NULL, &last, &err);
    if (rc != RRM_OK) return cli_fail("quantize", &err);
    fprintf(stderr, "rrm quantize: wrote %s (%s)\n", out, mix->name);
    return 0;
}
