/*
 * load_json.c — a tokenizer from Hugging Face `tokenizer.json` (model BPE with vocab and merges
 * as "a b" strings or [a, b] pairs; added_tokens; normalizer NFC; pre_tokenizer Split (Regex or
 * String, behaviour Isolated) and ByteLevel; decoder ByteLevel) plus bos/eos from
 * `tokenizer_config.json` in the same directory. Anything that would change the ids and that
 * rrm does not implement is RRM_E_UNSUPPORTED naming the field, never silently ignored.
 */
#include "tokenizer/tokenizer.h"

#include <jansson.h>
#include <stdio.h>

#define TOK_JSON_MAX ((size_t)1 << 28) /* 256 MiB: real tokenizer.json files are 7-17 MB */

static const char *type_of(json_t *o)
{
    json_t *ty = json_object_get(o, "type");
    return json_is_string(ty) ? json_string_value(ty) : "";
}

static int load_normalizer(struct rrm_tokenizer *t, json_t *n, rrm_err *err)
{
    if (!n || json_is_null(n)) return RRM_OK;
    const char *ty = type_of(n);
    if (strcmp(ty, "NFC") == 0) {
        t->nfc = 1;
        return RRM_OK;
    }
    if (strcmp(ty, "Sequence") == 0) {
        json_t *list = json_object_get(n, "normalizers"), *v;
        size_t i;
        if (!json_is_array(list))
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: normalizer Sequence lacks "
                                               "'normalizers'");
        json_array_foreach(list, i, v) {
            int rc = load_normalizer(t, v, err);
            if (rc != RRM_OK) return rc;
        }
        return RRM_OK;
    }
    return rrm_errf(err, RRM_E_UNSUPPORTED,
                    "tokenizer.json: normalizer '%s' is not supported (only NFC)", ty);
}

static int load_split(struct rrm_tokenizer *t, json_t *p, rrm_err *err)
{
    json_t *pat = json_object_get(p, "pattern");
    json_t *re = json_object_get(pat, "Regex"), *lit = json_object_get(pat, "String");
    json_t *beh = json_object_get(p, "behavior");
    if (!json_is_string(re) && !json_is_string(lit))
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: Split pre-tokenizer lacks "
                                           "pattern.Regex or pattern.String");
    if (!json_is_string(beh) || strcmp(json_string_value(beh), "Isolated") != 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: Split behavior '%s' is not "
                        "supported (only Isolated)",
                        json_is_string(beh) ? json_string_value(beh) : "?");
    if (json_is_true(json_object_get(p, "invert")))
        return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: Split invert=true is not "
                                                "supported");
    json_t *s = json_is_string(re) ? re : lit;
    return tok_add_split(t, json_string_value(s), json_string_length(s), !json_is_string(re),
                         err);
}

static int load_pretok(struct rrm_tokenizer *t, json_t *p, int *bytelevel, rrm_err *err)
{
    const char *ty = type_of(p);
    if (strcmp(ty, "Sequence") == 0) {
        json_t *list = json_object_get(p, "pretokenizers"), *v;
        size_t i;
        if (!json_is_array(list))
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: pre_tokenizer Sequence lacks "
                                               "'pretokenizers'");
        json_array_foreach(list, i, v) {
            int rc = load_pretok(t, v, bytelevel, err);
            if (rc != RRM_OK) return rc;
        }
        return RRM_OK;
    }
    if (*bytelevel)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: pre-tokenizer '%s' after "
                                                "ByteLevel is not supported", ty);
    if (strcmp(ty, "Split") == 0) return load_split(t, p, err);
    if (strcmp(ty, "ByteLevel") == 0) {
        *bytelevel = 1;
        if (json_is_true(json_object_get(p, "add_prefix_space")))
            return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: ByteLevel "
                                                    "add_prefix_space=true is not supported");
        json_t *ur = json_object_get(p, "use_regex");
        if (!ur || json_is_true(ur)) /* the default is true */
            return tok_add_split(t, TOK_RE_GPT2, strlen(TOK_RE_GPT2), 0, err);
        return RRM_OK;
    }
    return rrm_errf(err, RRM_E_UNSUPPORTED,
                    "tokenizer.json: pre-tokenizer '%s' is not supported (Split, ByteLevel)", ty);
}

static int check_model(json_t *m, rrm_err *err)
{
    const char *ty = type_of(m);
    if (ty[0] && strcmp(ty, "BPE") != 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: model type '%s' is not BPE", ty);
    if (json_is_true(json_object_get(m, "byte_fallback")))
        return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: BPE byte_fallback=true is not "
                                                "supported");
    static const char *const empty_keys[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(m, empty_keys[i]);
        if (v && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0))
            return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: BPE %s is not supported",
                            empty_keys[i]);
    }
    json_t *d = json_object_get(m, "dropout");
    if (d && !json_is_null(d) && json_number_value(d) != 0.0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: BPE dropout is not supported");
    if (!json_is_object(json_object_get(m, "vocab")) || !json_is_array(json_object_get(m, "merges")))
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: model lacks a vocab object or a "
                                           "merges array");
    return RRM_OK;
}

/* Highest id in vocab and added_tokens, + 1. */
static int count_ids(json_t *vocab, json_t *added, int64_t *n, rrm_err *err)
{
    int64_t hi = -1;
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) >= TOK_MAX_VOCAB)
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: vocab entry '%.40s' has no "
                                               "valid id", key);
        if (json_integer_value(v) > hi) hi = json_integer_value(v);
    }
    size_t i;
    json_array_foreach(added, i, v) {
        json_t *id = json_object_get(v, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) >= TOK_MAX_VOCAB)
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: added_tokens[%zu] has no valid "
                                               "id", i);
        if (json_integer_value(id) > hi) hi = json_integer_value(id);
    }
    *n = hi + 1;
    return RRM_OK;
}

static int load_merges(struct rrm_tokenizer *t, json_t *merges, rrm_err *err)
{
    size_t i;
    json_t *v;
    int rc = tok_reserve_merges(t, (int64_t)json_array_size(merges), err);
    json_array_foreach(merges, i, v) {
        if (rc != RRM_OK) break;
        if (json_is_string(v)) {
            const char *s = json_string_value(v), *sp = strchr(s, ' ');
            if (!sp || strchr(sp + 1, ' '))
                return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: merges[%zu] '%.40s' is not "
                                                   "'a b'", i, s);
            rc = tok_add_merge(t, (int64_t)i, s, (size_t)(sp - s), sp + 1, strlen(sp + 1), err);
        } else if (json_is_array(v) && json_array_size(v) == 2 &&
                   json_is_string(json_array_get(v, 0)) && json_is_string(json_array_get(v, 1))) {
            json_t *a = json_array_get(v, 0), *b = json_array_get(v, 1);
            rc = tok_add_merge(t, (int64_t)i, json_string_value(a), json_string_length(a),
                               json_string_value(b), json_string_length(b), err);
        } else {
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: merges[%zu] is neither 'a b' "
                                               "nor [a, b]", i);
        }
    }
    return rc;
}

static int load_added(struct rrm_tokenizer *t, json_t *added, rrm_err *err)
{
    size_t i;
    json_t *v;
    json_array_foreach(added, i, v) {
        json_t *c = json_object_get(v, "content");
        if (!json_is_string(c))
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: added_tokens[%zu] lacks content",
                            i);
        struct tok_added f = {0};
        f.special = json_is_true(json_object_get(v, "special"));
        f.lstrip = json_is_true(json_object_get(v, "lstrip"));
        f.rstrip = json_is_true(json_object_get(v, "rstrip"));
        f.single_word = json_is_true(json_object_get(v, "single_word"));
        /* tokenizers: `normalized` defaults to !special */
        json_t *nz = json_object_get(v, "normalized");
        f.normalized = nz ? json_is_true(nz) : !f.special;
        int rc = tok_add_added(t, (int32_t)json_integer_value(json_object_get(v, "id")),
                               json_string_value(c), json_string_length(c), &f, err);
        if (rc != RRM_OK) return rc;
    }
    return RRM_OK;
}

static int build(struct rrm_tokenizer **out, json_t *root, rrm_err *err)
{
    json_t *model = json_object_get(root, "model");
    json_t *added = json_object_get(root, "added_tokens");
    json_t *empty = NULL;
    if (!json_is_object(model))
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: no 'model' object");
    int rc = check_model(model, err);
    if (rc != RRM_OK) return rc;
    if (!added || json_is_null(added)) added = empty = json_array();
    if (!json_is_array(added)) {
        json_decref(empty);
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: added_tokens is not an array");
    }
    json_t *vocab = json_object_get(model, "vocab");
    int64_t n_vocab = 0;
    struct rrm_tokenizer *t = NULL;
    rc = count_ids(vocab, added, &n_vocab, err);
    if (rc == RRM_OK) rc = tok_new(&t, n_vocab, err);
    const char *key;
    json_t *v;
    json_object_foreach(vocab, key, v) {
        if (rc != RRM_OK) break;
        rc = tok_set_piece(t, (int32_t)json_integer_value(v), key, strlen(key), 1, err);
    }
    if (rc == RRM_OK) rc = tok_index_vocab(t, err);
    if (rc == RRM_OK) rc = load_merges(t, json_object_get(model, "merges"), err);
    if (rc == RRM_OK) rc = load_added(t, added, err);
    if (rc == RRM_OK) rc = load_normalizer(t, json_object_get(root, "normalizer"), err);
    json_t *pre = json_object_get(root, "pre_tokenizer");
    int bytelevel = 0;
    if (rc == RRM_OK && pre && !json_is_null(pre)) rc = load_pretok(t, pre, &bytelevel, err);
    if (rc == RRM_OK && !bytelevel)
        rc = rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: no ByteLevel pre-tokenizer (rrm "
                                              "implements byte-level BPE only)");
    json_t *dec = json_object_get(root, "decoder");
    if (rc == RRM_OK && dec && !json_is_null(dec) && strcmp(type_of(dec), "ByteLevel") != 0)
        rc = rrm_errf(err, RRM_E_UNSUPPORTED, "tokenizer.json: decoder '%s' is not supported "
                                              "(only ByteLevel)", type_of(dec));
    if (rc == RRM_OK) t->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
    json_decref(empty);
    if (rc != RRM_OK) {
        rrm_tokenizer_free(t);
        return rc;
    }
    snprintf(t->source, sizeof t->source, "tokenizer.json");
    *out = t;
    return RRM_OK;
}

int tok_load_json_buf(struct rrm_tokenizer **out, const char *buf, size_t len, const char *what,
                      rrm_err *err)
{
    json_t *root;
    int rc = rrm_json_parse(&root, buf, len, TOK_JSON_MAX, what, err);
    if (rc != RRM_OK) return rc;
    rc = build(out, root, err);
    json_decref(root);
    return rc;
}

int tok_load_json(struct rrm_tokenizer **out, const char *path, rrm_err *err)
{
    char *buf;
    size_t len;
    int rc = rrm_read_file(path, TOK_JSON_MAX, &buf, &len, err);
    if (rc != RRM_OK) return rc;
    rc = tok_load_json_buf(out, buf, len, path, err);
    rrm_free(buf);
    if (rc != RRM_OK) rrm_err_prefix(err, "%s", path);
    return rc;
}

/* bos_token / eos_token of tokenizer_config.json: a string or {"content": ...}. */
static int config_token(const struct rrm_tokenizer *t, json_t *cfg, const char *key,
                        int32_t *id, rrm_err *err)
{
    json_t *v = json_object_get(cfg, key);
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!v || json_is_null(v)) return RRM_OK;
    if (!json_is_string(v))
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer_config.json: %s is not a string", key);
    int32_t k = rrm_token_id(t, json_string_value(v), json_string_length(v));
    if (k < 0)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer_config.json: %s '%.60s' is not a token",
                        key, json_string_value(v));
    *id = k;
    return RRM_OK;
}

int tok_load_config(struct rrm_tokenizer *t, const char *path, rrm_err *err)
{
    json_t *cfg;
    int rc = rrm_json_load_file(&cfg, path, (size_t)1 << 24, err);
    if (rc != RRM_OK) return rc;
    if (!json_is_object(cfg)) rc = rrm_errf(err, RRM_E_FORMAT, "%s: not an object", path);
    if (rc == RRM_OK) rc = config_token(t, cfg, "bos_token", &t->bos_id, err);
    if (rc == RRM_OK) rc = config_token(t, cfg, "eos_token", &t->eos_id, err);
    if (rc == RRM_OK) t->add_bos = json_is_true(json_object_get(cfg, "add_bos_token"));
    json_decref(cfg);
    return rc;
}
