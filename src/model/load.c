/*
 * load.c — rrm_model_load: a Hugging Face directory (config.json + safetensors, single or
 * sharded) or a GGUF file (general.architecture "qwen2", hyper-parameters from the qwen2.* keys
 * that llama.cpp's convert_hf_to_gguf.py writes). Both end in qwen2_model_from_tensors, which
 * checks every tensor against the hyper-parameters; the file object is then owned by the model
 * (weights stay memory-mapped, read-only).
 */
#include "model/qwen2.h"

#include <stdio.h>

/* Missing required GGUF keys are RRM_E_FORMAT for a model (gguf_get_* says RRM_E_INVAL). */
static int req_i64(const struct gguf_file *f, const char *key, int64_t *out, rrm_err *err)
{
    int rc = gguf_get_i64(f, key, out, err);
    if (rc == RRM_E_INVAL) return rrm_errf(err, RRM_E_FORMAT, "model: GGUF key '%s' is missing", key);
    return rc;
}

static int opt_i64(const struct gguf_file *f, const char *key, int64_t def, int64_t *out,
                   rrm_err *err)
{
    *out = def;
    return gguf_find_key(f, key) < 0 ? RRM_OK : gguf_get_i64(f, key, out, err);
}

static int gguf_hparams(const struct gguf_file *f, struct qwen2_hparams *hp, rrm_err *err)
{
    const char *arch;
    size_t len;
    int rc;
    if ((rc = gguf_get_str(f, "general.architecture", &arch, &len, err)) != RRM_OK)
        return rc == RRM_E_INVAL ? rrm_errf(err, RRM_E_FORMAT,
                                            "model: GGUF key 'general.architecture' is missing")
                                 : rc;
    if (len != 5 || memcmp(arch, "qwen2", 5) != 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "model: architecture '%.*s' is not supported (qwen2 only)",
                        (int)(len < 64 ? len : 64), arch);
    int64_t bos, eos, rope_dims;
    memset(hp, 0, sizeof *hp);
    if ((rc = req_i64(f, "qwen2.embedding_length", &hp->n_embd, err)) ||
        (rc = req_i64(f, "qwen2.feed_forward_length", &hp->n_ff, err)) ||
        (rc = req_i64(f, "qwen2.block_count", &hp->n_layer, err)) ||
        (rc = req_i64(f, "qwen2.attention.head_count", &hp->n_head, err)) ||
        (rc = opt_i64(f, "qwen2.attention.head_count_kv", hp->n_head, &hp->n_head_kv, err)) ||
        (rc = opt_i64(f, "qwen2.context_length", 0, &hp->n_ctx_train, err)) ||
        (rc = opt_i64(f, "tokenizer.ggml.bos_token_id", -1, &bos, err)) ||
        (rc = opt_i64(f, "tokenizer.ggml.eos_token_id", -1, &eos, err)))
        return rc;
    if (hp->n_head < 1 || hp->n_embd % hp->n_head)
        return rrm_errf(err, RRM_E_FORMAT, "model: embedding_length %lld is not a multiple of head_count %lld",
                        (long long)hp->n_embd, (long long)hp->n_head);
    if ((rc = opt_i64(f, "qwen2.attention.key_length", hp->n_embd / hp->n_head, &hp->head_dim, err)) ||
        (rc = opt_i64(f, "qwen2.rope.dimension_count", hp->head_dim, &rope_dims, err)))
        return rc;
    if (rope_dims != hp->head_dim)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "model: rope.dimension_count %lld != head_dim %lld (partial RoPE is not supported)",
                        (long long)rope_dims, (long long)hp->head_dim);
    hp->rope_theta = 10000.0; /* llama.cpp's default when rope.freq_base is absent */
    if (gguf_find_key(f, "qwen2.rope.freq_base") >= 0 &&
        (rc = gguf_get_f64(f, "qwen2.rope.freq_base", &hp->rope_theta, err)))
        return rc;
    if ((rc = gguf_get_f64(f, "qwen2.attention.layer_norm_rms_epsilon", &hp->rms_norm_eps, err)))
        return rc == RRM_E_INVAL ? rrm_errf(err, RRM_E_FORMAT, "model: GGUF key 'qwen2.attention.layer_norm_rms_epsilon' is missing") : rc;
    const struct fmt_tensor *e = gguf_find_tensor(f, "token_embd.weight");
    if (!e) return rrm_errf(err, RRM_E_FORMAT, "model: missing tensor 'token_embd.weight'");
    hp->n_vocab = e->ne[1]; /* GGUF has no vocab size key: the embedding rows are it */
    hp->bos_id = bos >= 0 && bos < hp->n_vocab ? (int)bos : -1;
    hp->eos_id = eos >= 0 && eos < hp->n_vocab ? (int)eos : -1;
    return RRM_OK;
}

static void close_gguf(void *p)
{
    gguf_close(p);
}

static void close_st(void *p)
{
    st_close(p);
}

/* Copies the tensor views of a file into a new array for qwen2_model_from_tensors. */
static struct fmt_tensor *table_of(int64_t n, const struct fmt_tensor *(*get)(const void *, int64_t),
                                   const void *f)
{
    struct fmt_tensor *t = rrm_calloc(n > 0 ? (size_t)n : 1, sizeof *t);
    for (int64_t i = 0; t && i < n; i++) t[i] = *get(f, i);
    return t;
}

static const struct fmt_tensor *get_gguf(const void *f, int64_t i)
{
    return gguf_tensor(f, i);
}

static const struct fmt_tensor *get_st(const void *f, int64_t i)
{
    return st_tensor(f, i);
}

static int load_gguf(rrm_model **out, const char *path, const rrm_model_params *p, rrm_err *err)
{
    struct gguf_file *f = NULL;
    struct qwen2_hparams hp;
    int rc = gguf_open(&f, path, NULL, err);
    if (rc != RRM_OK) return rc;
    if ((rc = gguf_hparams(f, &hp, err)) != RRM_OK) goto fail;
    int64_t n = gguf_n_tensors(f);
    struct fmt_tensor *t = table_of(n, get_gguf, f);
    if (!t) {
        rc = rrm_errf(err, RRM_E_NOMEM, "model: out of memory");
        goto fail;
    }
    rc = qwen2_model_from_tensors(out, &hp, t, n, QWEN2_NAMES_GGUF, "gguf", "GGUF metadata", p, err);
    rrm_free(t);
    if (rc != RRM_OK) goto fail;
    qwen2_model_own(*out, f, close_gguf);
    return RRM_OK;
fail:
    gguf_close(f);
    return rc;
}

static int load_hf(rrm_model **out, const char *dir, const rrm_model_params *p, rrm_err *err)
{
    struct hf_config cfg;
    struct st_set *s = NULL;
    char *cpath = rrm_path_join(dir, "config.json");
    if (!cpath) return rrm_errf(err, RRM_E_NOMEM, "model: out of memory");
    int rc = hf_config_load(&cfg, cpath, err);
    rrm_free(cpath);
    if (rc != RRM_OK) return rc;
    if ((rc = st_open_dir(&s, dir, NULL, err)) != RRM_OK) return rc;
    struct qwen2_hparams hp = {
        .n_vocab = cfg.vocab_size, .n_embd = cfg.hidden_size,
        .n_head = cfg.num_attention_heads, .n_head_kv = cfg.num_key_value_heads,
        .head_dim = cfg.head_dim, .n_ff = cfg.intermediate_size,
        .n_layer = cfg.num_hidden_layers, .n_ctx_train = cfg.max_position_embeddings,
        .rope_theta = cfg.rope_theta, .rms_norm_eps = cfg.rms_norm_eps,
        .tie_output = cfg.tie_word_embeddings,
        .bos_id = cfg.bos_token_id >= 0 && cfg.bos_token_id < cfg.vocab_size ? (int)cfg.bos_token_id : -1,
        .eos_id = cfg.eos_token_id >= 0 && cfg.eos_token_id < cfg.vocab_size ? (int)cfg.eos_token_id : -1,
    };
    int64_t n = st_n_tensors(s);
    struct fmt_tensor *t = table_of(n, get_st, s);
    if (!t) {
        rc = rrm_errf(err, RRM_E_NOMEM, "model: out of memory");
        goto fail;
    }
    rc = qwen2_model_from_tensors(out, &hp, t, n, QWEN2_NAMES_HF, "safetensors", "config.json", p, err);
    rrm_free(t);
    if (rc != RRM_OK) goto fail;
    qwen2_model_own(*out, s, close_st);
    return RRM_OK;
fail:
    st_close(s);
    return rc;
}


int rrm_model_load(rrm_model **out, const char *path, const rrm_model_params *p, rrm_err *err)
{
    if (!out || !path) return rrm_errf(err, RRM_E_INVAL, "model: NULL argument");
    *out = NULL;
    double t0 = rrm_time_s();
    rrm_model *m = NULL;
    int rc;
    if (rrm_is_dir(path)) rc = load_hf(&m, path, p, err);
    else if (gguf_is_file(path)) rc = load_gguf(&m, path, p, err);
    else {
        FILE *f = fopen(path, "rb");
        if (!f) return rrm_errf(err, RRM_E_IO, "model: cannot open '%s'", path);
        fclose(f);
        return rrm_errf(err, RRM_E_UNSUPPORTED, "model: '%s' is neither a model directory (config.json + safetensors) nor a GGUF file",
                        path);
    }
    if (rc != RRM_OK) return rc;
    rrm_logf(RRM_LOG_INFO, "model: loaded '%s' (%s, %d tensors, %lld params, %.1f MiB) in %.3f s",
             path, m->source, m->n_tensors, (long long)m->n_params,
             (double)m->weight_bytes / (1 << 20), rrm_time_s() - t0);
    *out = m;
    return RRM_OK;
}
