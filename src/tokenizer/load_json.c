/*
 * load_json.c — a tokenizer from Hugging Face `tokenizer.json` (model BPE with vocab and merges
 * as "a b" strings or [a, b] pairs; added_tokens; normalizer NFC; pre_tokenizer Split (Regex or
 * String, behaviour Isolated) and ByteLevel; decoder ByteLevel) plus bos/eos from
 * `tokenizer_config.json` in the same directory. Anything that would change the ids and that
 * rrm does not implement is RRM_E_UNSUPPORTED naming the field, never silently ignored.
 */
#include "tokenizer/tokenizer.h"

#include "tokenizer/json_scan.h"

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
    return RRM_OK;
}

/* The raw spans of model.vocab and model.merges inside the file. */
struct big_parts {
    struct js vocab, merges;
    int have_vocab, have_merges;
};

#define KEY_CAP (2 * TOK_MAX_PIECE + 8) /* a ByteLevel string of TOK_MAX_PIECE bytes */

/* Highest id in vocab and added_tokens, + 1. */
static int count_ids(const struct big_parts *bp, json_t *added, int64_t *n, rrm_err *err)
{
    int64_t hi = -1, id;
    struct js s = bp->vocab;
    int first = 1, r, rc = js_expect(&s, '{', err);
    char key[KEY_CAP];
    while (rc == RRM_OK && (r = js_next_member(&s, &first, key, sizeof key, NULL, err)) == 1) {
        if ((rc = js_int(&s, &id, err)) != RRM_OK) break;
        if (id >= TOK_MAX_VOCAB)
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: vocab id %lld over %d",
                            (long long)id, TOK_MAX_VOCAB);
        if (id > hi) hi = id;
    }
    if (rc == RRM_OK && r < 0) rc = r;
    if (rc != RRM_OK) return rc;
    size_t i;
    json_t *v;
    json_array_foreach(added, i, v) {
        json_t *jid = json_object_get(v, "id");
        if (!json_is_integer(jid) || json_integer_value(jid) < 0 ||
            json_integer_value(jid) >= TOK_MAX_VOCAB)
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: added_tokens[%zu] has no valid "
                                               "id", i);
        if (json_integer_value(jid) > hi) hi = json_integer_value(jid);
    }
    *n = hi + 1;
    return RRM_OK;
}

static int load_vocab(struct rrm_tokenizer *t, const struct big_parts *bp, rrm_err *err)
{
    struct js s = bp->vocab;
    int first = 1, r, rc = js_expect(&s, '{', err);
    char key[KEY_CAP];
    size_t kl;
    int64_t id;
    while (rc == RRM_OK && (r = js_next_member(&s, &first, key, sizeof key, &kl, err)) == 1) {
        if ((rc = js_int(&s, &id, err)) == RRM_OK)
            rc = tok_set_piece(t, (int32_t)id, key, kl, 1, err);
    }
    return rc != RRM_OK ? rc : r < 0 ? r : RRM_OK;
}

/* Counts the merges (a first pass: the pair map is sized from it). */
static int count_merges(const struct big_parts *bp, int64_t *n, rrm_err *err)
{
    struct js s = bp->merges;
    int first = 1, r, rc = js_expect(&s, '[', err);
    int64_t k = 0;
    while (rc == RRM_OK && (r = js_next_elem(&s, &first, err)) == 1) {
        rc = js_skip(&s, err);
        k++;
    }
    *n = k;
    return rc != RRM_OK ? rc : r < 0 ? r : RRM_OK;
}

static int load_merge(struct rrm_tokenizer *t, struct js *s, int64_t i, rrm_err *err)
{
    char a[KEY_CAP], b[KEY_CAP];
    size_t la, lb;
    int rc;
    if (s->p < s->end && *s->p == '"') {
        if ((rc = js_string(s, a, sizeof a, &la, err)) != RRM_OK) return rc;
        char *sp = memchr(a, ' ', la);
        if (!sp || memchr(sp + 1, ' ', la - (size_t)(sp + 1 - a)))
            return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: merges[%lld] '%.*s' is not 'a b'",
                            (long long)i, (int)(la < 40 ? la : 40), a);
        return tok_add_merge(t, i, a, (size_t)(sp - a), sp + 1, la - (size_t)(sp + 1 - a), err);
    }
    if ((rc = js_expect(s, '[', err)) != RRM_OK ||
        (rc = js_string(s, a, sizeof a, &la, err)) != RRM_OK ||
        (rc = js_expect(s, ',', err)) != RRM_OK ||
        (rc = js_string(s, b, sizeof b, &lb, err)) != RRM_OK || (rc = js_expect(s, ']', err)))
        return rrm_err_prefix(err, "tokenizer.json: merges[%lld] is neither 'a b' nor [a, b]",
                              (long long)i);
    return tok_add_merge(t, i, a, la, b, lb, err);
}

static int load_merges(struct rrm_tokenizer *t, const struct big_parts *bp, rrm_err *err)
{
    int64_t n;
    int rc = count_merges(bp, &n, err);
    if (rc == RRM_OK) rc = tok_reserve_merges(t, n, err);
    struct js s = bp->merges;
    int first = 1, r = 0;
    if (rc == RRM_OK) rc = js_expect(&s, '[', err);
    for (int64_t i = 0; rc == RRM_OK && (r = js_next_elem(&s, &first, err)) == 1; i++)
        rc = load_merge(t, &s, i, err);
    return rc != RRM_OK ? rc : r < 0 ? r : RRM_OK;
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

static int load_rest(struct rrm_tokenizer *t, json_t *root, json_t *model, json_t *added,
                     rrm_err *err)
{
    int rc = load_added(t, added, err);
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
    t->ignore_merges = json_is_true(json_object_get(model, "ignore_merges"));
    return rc;
}

static int build(struct rrm_tokenizer **out, json_t *root, const struct big_parts *bp,
                 rrm_err *err)
{
    json_t *model = json_object_get(root, "model");
    json_t *added = json_object_get(root, "added_tokens");
    if (!json_is_object(model) || !bp->have_vocab || !bp->have_merges)
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: no 'model' object with 'vocab' and "
                                           "'merges'");
    int rc = check_model(model, err);
    if (rc != RRM_OK) return rc;
    json_t *empty = NULL;
    if (!added || json_is_null(added)) added = empty = json_array();
    if (!json_is_array(added)) {
        json_decref(empty);
        return rrm_errf(err, RRM_E_FORMAT, "tokenizer.json: added_tokens is not an array");
    }
    int64_t n_vocab = 0;
    struct rrm_tokenizer *t = NULL;
    rc = count_ids(bp, added, &n_vocab, err);
    if (rc == RRM_OK) rc = tok_new(&t, n_vocab, err);
    if (rc == RRM_OK) rc = load_vocab(t, bp, err);
    if (rc == RRM_OK) rc = tok_index_vocab(t, err);
    if (rc == RRM_OK) rc = load_merges(t, bp, err);
    if (rc == RRM_OK) rc = load_rest(t, root, model, added, err);
    json_decref(empty);
    if (rc != RRM_OK) {
        rrm_tokenizer_free(t);
        return rc;
    }
    snprintf(t->source, sizeof t->source, "tokenizer.json");
    *out = t;
    return RRM_OK;
}

/* Keys copied into the small document that Jansson parses; other keys are validated and
 * skipped (post_processor, truncation, padding: they do not change `encode` without specials). */
static int kept(const char *k, int in_model)
{
    static const char *const top[] = {"added_tokens", "normalizer", "pre_tokenizer", "decoder"};
    static const char *const mod[] = {"type", "byte_fallback", "continuing_subword_prefix",
                                      "end_of_word_suffix", "dropout", "ignore_merges"};
    const char *const *l = in_model ? mod : top;
    int n = in_model ? 6 : 4;
    for (int i = 0; i < n; i++)
        if (strcmp(k, l[i]) == 0) return 1;
    return 0;
}

/* Walks one object level: copies kept members to `small` as `"key": value`, records the vocab
 * and merges spans (model level), and recurses into "model" (top level). */
static int split_doc(struct js *s, int in_model, struct rrm_str *small, struct big_parts *bp,
                     rrm_err *err)
{
    int first = 1, r, rc = js_expect(s, '{', err), n_out = 0;
    char key[64];
    size_t kl;
    if (rc == RRM_OK) rc = rrm_str_append(small, "{", 1);
    while (rc == RRM_OK && (r = js_next_member(s, &first, key, sizeof key - 1, &kl, err)) == 1) {
        key[kl] = 0;
        if (strlen(key) != kl) key[0] = 0;
        const char *v0 = s->p;
        int big = in_model && (strcmp(key, "vocab") == 0 || strcmp(key, "merges") == 0);
        int sub = !in_model && strcmp(key, "model") == 0;
        if (big || sub || kept(key, in_model))
            rc = rrm_str_appendf(small, "%s\"%s\": ", n_out++ ? ", " : "", key);
        if (rc != RRM_OK) break;
        if (sub) {
            rc = split_doc(s, 1, small, bp, err);
            continue;
        }
        if ((rc = js_skip(s, err)) != RRM_OK) break;
        if (big) {
            int v = key[0] == 'v';
            struct js *span = v ? &bp->vocab : &bp->merges;
            int *have = v ? &bp->have_vocab : &bp->have_merges;
            if (*have) return rrm_errf(err, RRM_E_FORMAT, "%s: duplicate model.%s", s->what, key);
            *have = 1;
            *span = (struct js){s->start, v0, s->p, s->what};
            rc = rrm_str_append(small, "null", 4);
        } else if (kept(key, in_model)) {
            rc = rrm_str_append(small, v0, (size_t)(s->p - v0));
        }
    }
    if (rc == RRM_OK && r < 0) rc = r;
    if (rc == RRM_OK) rc = rrm_str_append(small, "}", 1);
    return rc == RRM_E_NOMEM ? rrm_errf(err, rc, "tokenizer.json: out of memory") : rc;
}

int tok_load_json_buf(struct rrm_tokenizer **out, const char *buf, size_t len, const char *what,
                      rrm_err *err)
{
    if (len > TOK_JSON_MAX)
        return rrm_errf(err, RRM_E_LIMIT, "%s: %zu bytes, over the limit of %zu", what, len,
                        TOK_JSON_MAX);
    struct js s = {buf, buf, buf + len, what};
    struct rrm_str small = {0};
    struct big_parts bp = {0};
    json_t *root = NULL;
    int rc = split_doc(&s, 0, &small, &bp, err);
    if (rc == RRM_OK) {
        js_ws(&s);
        if (s.p != s.end) rc = rrm_errf(err, RRM_E_FORMAT, "%s: text after the JSON document",
                                        what);
    }
    if (rc == RRM_OK) rc = rrm_json_parse(&root, small.p, small.len, TOK_JSON_MAX, what, err);
    rrm_str_free(&small);
    if (rc == RRM_OK) rc = build(out, root, &bp, err);
    json_decref(root);
    return rc;
}

int tok_load_json(struct rrm_tokenizer **out, const char *path, rrm_err *err)
{
    struct rrm_mmap m;
    int rc = rrm_mmap_open(&m, path, 0, err);
    if (rc != RRM_OK) return rc;
    rc = tok_load_json_buf(out, (const char *)m.data, m.size, path, err);
    rrm_mmap_close(&m);
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
