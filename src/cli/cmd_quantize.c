/*
 * cmd_quantize.c — `rrm quantize IN OUT.gguf --type T`: IN is a GGUF file (all metadata is
 * copied) or a Hugging Face directory (config.json + safetensors + tokenizer.json: the metadata
 * convert_hf_to_gguf.py would write); weights get type T with llama.cpp's mixes for Q4_K_M /
 * Q5_K_M (see src/model/quantize.c). Exit codes: 0 ok, 1 error, 2 usage.
 */
#include "cli/cli.h"
#include "model/qwen2.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: rrm quantize IN OUT.gguf --type TYPE [-v]\n"
               "  TYPE: %s\n"
               "  IN: a GGUF file (F32/F16/BF16, or already quantized: rows are dequantized and\n"
               "  quantized again) or a Hugging Face directory (config.json, safetensors,\n"
               "  tokenizer.json). OUT is written atomically.\n",
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
    struct stat sb;
    const int is_dir = stat(in, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!is_dir && !gguf_is_file(in)) {
        fprintf(stderr, "rrm quantize: '%s' is neither a GGUF file nor a Hugging Face directory\n",
                in);
        return 1;
    }
    cli_log_init(verbose);
    rrm_err err = {0};
    int last = -1;
    rrm_progress_cb cb = isatty(2) ? progress : NULL;
    int rc = is_dir ? qwen2_quantize_hf(in, out, mix, cb, &last, &err)
                    : qwen2_quantize_gguf(in, out, mix, cb, &last, &err);
    if (rc != RRM_OK) return cli_fail("quantize", &err);
    fprintf(stderr, "rrm quantize: wrote %s (%s)\n", out, mix->name);
    return 0;
}
