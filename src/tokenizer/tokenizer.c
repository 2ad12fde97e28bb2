/*
 * tokenizer.c — the public entry points: load from a Hugging Face directory, a tokenizer.json
 * (any file name) or a .gguf, and the read-only accessors (pieces, ids, bos/eos).
 */
#include "tokenizer/tokenizer.h"

#include "formats/formats.h"

#include <stdio.h>
#include <unistd.h>

static int file_exists(const char *p)
{
    return access(p, R_OK) == 0;
}

/* tokenizer.json at `json` and, when present, tokenizer_config.json in `dir`. */
static int load_hf(struct rrm_tokenizer **out, const char *json, const char *dir, rrm_err *err)
{
    struct rrm_tokenizer *t;
    int rc = tok_load_json(&t, json, err);
    if (rc != RRM_OK) return rc;
    char *cfg = rrm_path_join(dir, "tokenizer_config.json");
    if (!cfg) rc = rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory");
    else if (file_exists(cfg)) rc = tok_load_config(t, cfg, err);
    rrm_free(cfg);
    if (rc == RRM_OK) rc = tok_finish(t, err);
    if (rc != RRM_OK) {
        rrm_tokenizer_free(t);
        return rc;
    }
    *out = t;
    return RRM_OK;
}

int rrm_tokenizer_load(rrm_tokenizer **out, const char *path, rrm_err *err)
{
    if (!out || !path) return rrm_errf(err, RRM_E_INVAL, "tokenizer_load: NULL argument");
    *out = NULL;
    if (rrm_is_dir(path)) {
        char *json = rrm_path_join(path, "tokenizer.json");
        if (!json) return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory");
        int rc = file_exists(json)
                     ? load_hf(out, json, path, err)
                     : rrm_errf(err, RRM_E_IO, "tokenizer: directory '%s' has no tokenizer.json",
                                path);
        rrm_free(json);
        return rc;
    }
    if (gguf_is_file(path)) {
        struct gguf_file *f;
        int rc = gguf_open(&f, path, NULL, err);
        if (rc != RRM_OK) return rc;
        struct rrm_tokenizer *t = NULL;
        rc = tok_load_gguf(&t, f, err);
        if (rc == RRM_OK) rc = tok_finish(t, err);
        gguf_close(f);
        if (rc != RRM_OK) {
            rrm_tokenizer_free(t);
            return rrm_err_prefix(err, "%s", path);
        }
        *out = t;
        return RRM_OK;
    }
    /* an explicit JSON file: its directory may hold tokenizer_config.json */
    char *dir = rrm_strdup(path);
    if (!dir) return rrm_errf(err, RRM_E_NOMEM, "tokenizer: out of memory");
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    int rc = load_hf(out, path, slash ? (dir[0] ? dir : "/") : ".", err);
    rrm_free(dir);
    return rc;
}

int64_t rrm_tokenizer_n_vocab(const rrm_tokenizer *t)
{
    return t ? t->n_vocab : 0;
}

int32_t rrm_tokenizer_bos(const rrm_tokenizer *t)
{
    return t ? t->bos_id : -1;
}

int32_t rrm_tokenizer_eos(const rrm_tokenizer *t)
{
    return t ? t->eos_id : -1;
}

int rrm_tokenizer_add_bos(const rrm_tokenizer *t)
{
    return t ? t->add_bos : 0;
}

const char *rrm_token_text(const rrm_tokenizer *t, int32_t id, size_t *len)
{
    if (!t || id < 0 || id >= t->n_vocab || (t->attr[id] & TOK_ATTR_UNUSED)) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = t->piece_len[id];
    return t->blob + t->piece_off[id];
}

int rrm_token_attr(const rrm_tokenizer *t, int32_t id)
{
    if (!t || id < 0 || id >= t->n_vocab) return -1;
    return t->attr[id];
}

int32_t rrm_token_id(const rrm_tokenizer *t, const char *text, size_t len)
{
    if (!t || !text) return -1;
    for (int i = 0; i < t->n_added; i++) {
        const struct tok_added *a = &t->added[i];
        if (a->len == len && memcmp(t->blob + a->off, text, len) == 0) return a->id;
    }
    return tok_vocab_find(t, text, len);
}
