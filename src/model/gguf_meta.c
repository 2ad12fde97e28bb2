/*
 * gguf_meta.c — GGUF metadata of a Qwen2 model from Hugging Face files, as llama.cpp's
 * convert_hf_to_gguf.py writes it: the qwen2.* hyper-parameters from config.json, and the
 * tokenizer.ggml.* keys from tokenizer.json (+ the chat template from tokenizer_config.json). Shared by tools/mkmodel and `rrm quantize` of an HF
 * directory.
 */
#include "model/qwen2.h"

#include <jansson.h>
#include <stdio.h>

/* Writes the tokenizer.ggml.* keys llama.cpp reads for a "gpt2" (byte-level BPE) vocabulary,
 * the way convert_hf_to_gguf.py does for Qwen2 / DeepSeek-R1-distill: tokens in id order padded
 * with "[PADn]" (type 5, unused) up to the embedding rows, token types 1 normal / 3 control
 * (special added token) / 4 user-defined (other added token), merges as "a b" strings. */
static int tok_meta_arrays(json_t *tj, int64_t n_vocab, const char **tokens, size_t *lens,
                           int32_t *types, char *pads, rrm_err *err)
{
    json_t *vocab = json_object_get(json_object_get(tj, "model"), "vocab");
    json_t *added = json_object_get(tj, "added_tokens");
    if (!json_is_object(vocab) || !json_is_array(added))
        return rrm_errf(err, RRM_E_FORMAT, "gguf meta: tokenizer.json lacks model.vocab or "
                                           "added_tokens");
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        json_int_t id = json_integer_value(val);
        if (!json_is_integer(val) || id < 0 || id >= n_vocab)
            return rrm_errf(err, RRM_E_FORMAT, "gguf meta: vocab id of '%s' out of range", key);
        tokens[id] = key;
        lens[id] = strlen(key);
        types[id] = 1;
    }
    size_t i;
    json_array_foreach(added, i, val) {
        json_t *jid = json_object_get(val, "id"), *jc = json_object_get(val, "content");
        json_int_t id = json_integer_value(jid);
        if (!json_is_integer(jid) || !json_is_string(jc) || id < 0 || id >= n_vocab)
            return rrm_errf(err, RRM_E_FORMAT, "gguf meta: bad added_tokens[%zu]", i);
        tokens[id] = json_string_value(jc);
        lens[id] = json_string_length(jc);
        types[id] = json_is_true(json_object_get(val, "special")) ? 3 : 4;
    }
    for (int64_t id = 0; id < n_vocab; id++) {
        if (tokens[id]) continue;
        char *p = pads + id * 32;
        snprintf(p, 32, "[PAD%lld]", (long long)id);
        tokens[id] = p;
        lens[id] = strlen(p);
        types[id] = 5;
    }
    return RRM_OK;
}

static int tok_meta_merges(struct gguf_writer *w, json_t *tj, rrm_err *err)
{
    json_t *merges = json_object_get(json_object_get(tj, "model"), "merges");
    if (!json_is_array(merges))
        return rrm_errf(err, RRM_E_FORMAT, "gguf meta: tokenizer.json lacks model.merges");
    size_t n = json_array_size(merges), i;
    const char **m = rrm_calloc(n ? n : 1, sizeof *m);
    size_t *ml = rrm_calloc(n ? n : 1, sizeof *ml);
    struct rrm_str joined = {0};
    int rc = (m && ml) ? RRM_OK : RRM_E_NOMEM;
    size_t *offs = rrm_calloc(n ? n : 1, sizeof *offs);
    if (!offs) rc = RRM_E_NOMEM;
    json_t *v;
    /* A merge is "a b" or ["a", "b"]: both become "a b". Offsets first: the buffer moves. */
    json_array_foreach(merges, i, v) {
        if (rc != RRM_OK) break;
        offs[i] = joined.len;
        if (json_is_string(v)) {
            rc = rrm_str_append(&joined, json_string_value(v), json_string_length(v));
        } else if (json_is_array(v) && json_array_size(v) == 2 &&
                   json_is_string(json_array_get(v, 0)) && json_is_string(json_array_get(v, 1))) {
            json_t *a = json_array_get(v, 0), *b = json_array_get(v, 1);
            rc = rrm_str_append(&joined, json_string_value(a), json_string_length(a));
            if (rc == RRM_OK) rc = rrm_str_append(&joined, " ", 1);
            if (rc == RRM_OK)
                rc = rrm_str_append(&joined, json_string_value(b), json_string_length(b));
        } else {
            rc = rrm_errf(err, RRM_E_FORMAT, "gguf meta: bad merges[%zu]", i);
            break;
        }
        ml[i] = joined.len - offs[i];
    }
    if (rc == RRM_OK) {
        for (i = 0; i < n; i++) m[i] = joined.p + offs[i];
        rc = gguf_w_arr_str(w, "tokenizer.ggml.merges", m, ml, (int64_t)n, err);
    } else if (rc == RRM_E_NOMEM) {
        rrm_errf(err, RRM_E_NOMEM, "gguf meta: out of memory for merges");
    }
    rrm_str_free(&joined);
    rrm_free(offs);
    rrm_free(m);
    rrm_free(ml);
    return rc;
}

int qwen2_gguf_tokenizer_meta(struct gguf_writer *w, const char *tokenizer_json,
                              const char *tokenizer_config, int64_t n_vocab, int64_t bos,
                              int64_t eos, rrm_err *err)
{
    char *tpath = rrm_strdup(tokenizer_json);
    char *cpath = rrm_strdup(tokenizer_config);
    json_t *tj = NULL, *cj = NULL;
    const char **tokens = rrm_calloc((size_t)n_vocab, sizeof *tokens);
    size_t *lens = rrm_calloc((size_t)n_vocab, sizeof *lens);
    int32_t *types = rrm_calloc((size_t)n_vocab, sizeof *types);
    char *pads = rrm_calloc((size_t)n_vocab, 32);
    int rc = (tpath && cpath && tokens && lens && types && pads)
                 ? RRM_OK
                 : rrm_errf(err, RRM_E_NOMEM, "gguf meta: out of memory");
    if (rc == RRM_OK) rc = rrm_json_load_file(&tj, tpath, (size_t)1 << 28, err);
    if (rc == RRM_OK) rc = rrm_json_load_file(&cj, cpath, (size_t)1 << 24, err);
    if (rc == RRM_OK) rc = tok_meta_arrays(tj, n_vocab, tokens, lens, types, pads, err);
    json_t *tmpl = cj ? json_object_get(cj, "chat_template") : NULL;
    if (rc == RRM_OK &&
        ((rc = gguf_w_str(w, "tokenizer.ggml.model", "gpt2", 4, err)) ||
         (rc = gguf_w_str(w, "tokenizer.ggml.pre", "deepseek-r1-qwen", 16, err)) ||
         (rc = gguf_w_arr_str(w, "tokenizer.ggml.tokens", tokens, lens, n_vocab, err)) ||
         (rc = gguf_w_arr(w, "tokenizer.ggml.token_type", GGUF_T_INT32, types, n_vocab, err)) ||
         (rc = tok_meta_merges(w, tj, err)) ||
         (bos >= 0 && (rc = gguf_w_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)bos, err))) ||
         (eos >= 0 && (rc = gguf_w_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)eos, err))) ||
         (eos >= 0 && (rc = gguf_w_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)eos, err))) ||
         (rc = gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 1, err)) ||
         (rc = gguf_w_bool(w, "tokenizer.ggml.add_eos_token", 0, err))))
        goto done;
    if (rc == RRM_OK && json_is_string(tmpl))
        rc = gguf_w_str(w, "tokenizer.chat_template", json_string_value(tmpl),
                        json_string_length(tmpl), err);
done:
    json_decref(tj);
    json_decref(cj);
    rrm_free(tpath);
    rrm_free(cpath);
    rrm_free(tokens);
    rrm_free(lens);
    rrm_free(types);
    rrm_free(pads);
    return rc;
}


int qwen2_gguf_hparams_meta(struct gguf_writer *w, const struct hf_config *c, rrm_err *err)
{
    int rc;
    if ((rc = gguf_w_u32(w, "qwen2.context_length", (uint32_t)c->max_position_embeddings, err)) ||
        (rc = gguf_w_u32(w, "qwen2.embedding_length", (uint32_t)c->hidden_size, err)) ||
        (rc = gguf_w_u32(w, "qwen2.block_count", (uint32_t)c->num_hidden_layers, err)) ||
        (rc = gguf_w_u32(w, "qwen2.feed_forward_length", (uint32_t)c->intermediate_size, err)) ||
        (rc = gguf_w_u32(w, "qwen2.attention.head_count", (uint32_t)c->num_attention_heads, err)) ||
        (rc = gguf_w_u32(w, "qwen2.attention.head_count_kv", (uint32_t)c->num_key_value_heads, err)) ||
        (rc = gguf_w_f32(w, "qwen2.rope.freq_base", (float)c->rope_theta, err)) ||
        (rc = gguf_w_f32(w, "qwen2.attention.layer_norm_rms_epsilon", (float)c->rms_norm_eps, err)))
        return rc;
    /* convert_hf_to_gguf.py writes key/value_length only when head_dim is not n_embd / n_head */
    if (c->num_attention_heads > 0 && c->head_dim != c->hidden_size / c->num_attention_heads &&
        ((rc = gguf_w_u32(w, "qwen2.attention.key_length", (uint32_t)c->head_dim, err)) ||
         (rc = gguf_w_u32(w, "qwen2.attention.value_length", (uint32_t)c->head_dim, err))))
        return rc;
    return RRM_OK;
}
