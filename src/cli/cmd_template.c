/*
 * cmd_template.c — `rrm template`: renders chat messages with a model's own chat template.
 *   rrm template -m MODEL --messages FILE.json [--add-generation-prompt] [--template NAME]
 *       prints the rendered text exactly (no added newline). FILE.json (or "-" for stdin) is
 *       [{"role": ..., "content": ...}, ...].
 *   rrm template -m MODEL --batch FILE.json [--template NAME]
 *       FILE.json is [{"messages": [...], "add_generation_prompt": bool}, ...]; prints each
 *       rendering followed by one NUL byte (rendered text never holds NUL), for golden tests.
 *   rrm template -m MODEL --family [--template NAME]
 *       prints the detected family, BOS and EOS, one per line.
 * MODEL: an HF directory (tokenizer_config.json is enough), a tokenizer_config.json, a .jinja
 * file, or a .gguf.
 */
#include "cli/cli.h"
#include "template/template.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#define MAX_MESSAGES_FILE ((size_t)1 << 28)

static const char usage_text[] =
    "usage: rrm template -m MODEL (--messages FILE.json [--add-generation-prompt] | "
    "--batch FILE.json | --family) [--template NAME]\n";

/* Renders one conversation and writes it (plus a NUL when `nul`) to stdout. */
static int render_one(const rrm_template *t, const json_t *msgs, const char *what, int gen,
                      int nul, rrm_err *err)
{
    rrm_message *m = NULL;
    size_t n = 0;
    int rc = tmpl_messages_from_json(msgs, what, &m, &n, err);
    char *text = NULL;
    size_t len = 0;
    if (rc == RRM_OK) rc = rrm_template_render(t, m, n, gen, &text, &len, err);
    if (rc == RRM_OK && (fwrite(text, 1, len, stdout) != len || (nul && putchar(0) == EOF)))
        rc = rrm_errf(err, RRM_E_IO, "template: writing %zu bytes to stdout failed", len);
    rrm_template_text_free(text);
    rrm_free(m);
    return rc;
}

static int run_batch(const rrm_template *t, const json_t *cases, const char *path, rrm_err *err)
{
    if (!json_is_array(cases))
        return rrm_errf(err, RRM_E_FORMAT, "template: '%s': --batch wants a JSON array", path);
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        json_t *gen = json_object_get(c, "add_generation_prompt");
        char what[64];
        snprintf(what, sizeof what, "case %zu", i);
        if (gen && !json_is_boolean(gen))
            return rrm_errf(err, RRM_E_FORMAT,
                            "template: '%s': case %zu: add_generation_prompt is not a boolean",
                            path, i);
        int rc = render_one(t, json_object_get(c, "messages"), what, json_is_true(gen), 1, err);
        if (rc != RRM_OK) return rrm_err_prefix(err, "'%s' case %zu", path, i);
    }
    return RRM_OK;
}

int cli_template(int argc, char **argv)
{
    const char *model = NULL, *messages = NULL, *batch = NULL, *name = NULL;
    int gen = 0, family = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-m") == 0 || strcmp(a, "--model") == 0) && i + 1 < argc)
            model = argv[++i];
        else if (strcmp(a, "--messages") == 0 && i + 1 < argc)
            messages = argv[++i];
        else if (strcmp(a, "--batch") == 0 && i + 1 < argc)
            batch = argv[++i];
        else if (strcmp(a, "--template") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(a, "--add-generation-prompt") == 0)
            gen = 1;
        else if (strcmp(a, "--family") == 0)
            family = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            fprintf(stdout, "known templates: %s\n", rrm_template_known_families());
            return 0;
        } else {
            fprintf(stderr, "rrm template: unknown or incomplete option '%s'\n%s", a, usage_text);
            return 2;
        }
    }
    if (!model || (!!messages + !!batch + family) != 1) {
        fputs(usage_text, stderr);
        return 2;
    }
    cli_log_init(0);
    rrm_err err = {0};
    rrm_template *t = NULL;
    if (rrm_template_load(&t, model, name, &err) != RRM_OK) return cli_fail("template", &err);
    int rc = RRM_OK;
    if (family) {
        printf("%s\n%s\n%s\n", rrm_template_family(t), rrm_template_bos(t), rrm_template_eos(t));
    } else {
        const char *path = messages ? messages : batch;
        json_t *doc = NULL;
        rc = rrm_json_load_file(&doc, path, MAX_MESSAGES_FILE, &err);
        if (rc == RRM_OK)
            rc = messages ? render_one(t, doc, path, gen, 0, &err) : run_batch(t, doc, path, &err);
        json_decref(doc);
    }
    rrm_template_free(t);
    if (rc == RRM_OK && fflush(stdout) != 0)
        rc = rrm_errf(&err, RRM_E_IO, "template: flushing stdout failed");
    return rc == RRM_OK ? 0 : cli_fail("template", &err);
}
