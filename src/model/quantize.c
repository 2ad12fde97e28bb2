/*
 * quantize.c — `rrm quantize`: GGUF in, GGUF out with another weight type, tensor by tensor.
 * The per-tensor type follows llama.cpp's llama_tensor_get_type (src/llama-quant.cpp) for the
 * types rrm computes with: for quantized targets output.weight (or token_embd.weight when the
 * head is tied) gets Q6_K (Q8_0 when n_in % 256 != 0); for Q4_K_M / Q5_K_M, attn_v.weight and
 * ffn_down.weight get Q6_K on the "use_more_bits" layers (the first and last eighth and every
 * third in between, counted in file order); a type whose block does not divide n_in falls back
 * (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16); tensors of one dimension and names not
 * ending in "weight" keep their type. All metadata is copied except general.file_type and
 * general.quantization_version, which are set. Memory: the input stays memory-mapped, one
 * output tensor and one f32 row are held at a time; the output is written to a temp file and
 * renamed (nothing is left behind on failure).
 */
#include "model/qwen2.h"

#include <stdio.h>
#include <strings.h>

static const struct qwen2_qmix mixes[] = {
    {"F32", 0, RRM_TYPE_F32},     {"F16", 1, RRM_TYPE_F16},     {"BF16", 32, RRM_TYPE_BF16},
    {"Q8_0", 7, RRM_TYPE_Q8_0},   {"Q4_0", 2, RRM_TYPE_Q4_0},   {"Q4_1", 3, RRM_TYPE_Q4_1},
    {"Q5_0", 8, RRM_TYPE_Q5_0},   {"Q5_1", 9, RRM_TYPE_Q5_1},   {"Q4_K_M", 15, RRM_TYPE_Q4_K},
    {"Q5_K_M", 17, RRM_TYPE_Q5_K}, {"Q6_K", 18, RRM_TYPE_Q6_K},
};

const struct qwen2_qmix *qwen2_qmix_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof mixes / sizeof mixes[0]; i++) {
        if (strcasecmp(name, mixes[i].name) == 0) return &mixes[i];
    }
    return NULL;
}

const char *qwen2_qmix_names(void)
{
    return "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K_M, Q5_K_M, Q6_K";
}

void qwen2_qstate_init(struct qwen2_qstate *s, const char *const *names, int64_t n)
{
    memset(s, 0, sizeof *s);
    for (int64_t i = 0; i < n; i++) {
        if (strstr(names[i], "attn_v.weight")) s->n_attn_v++;
        if (strstr(names[i], "ffn_down")) s->n_ffn_down++;
        if (strcmp(names[i], "output.weight") == 0) s->has_output = 1;
    }
}

/* llama.cpp's use_more_bits(i_layer, n_layers) */
static int more_bits(int64_t i, int64_t n)
{
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

static int is_weight(const char *name)
{
    size_t n = strlen(name);
    return n >= 6 && strcmp(name + n - 6, "weight") == 0;
}

int qwen2_quant_type(const struct qwen2_qmix *mix, struct qwen2_qstate *s, const char *name,
                     int n_dims, int64_t ne0, int src_type)
{
    if (n_dims < 2 || !is_weight(name)) return src_type;
    int t = mix->base;
    if (!kern_kq_type(t) && t != RRM_TYPE_Q8_0) return t; /* F32/F16/BF16: no mix rules */
    const int km = mix->ftype == 15 || mix->ftype == 17; /* Q4_K_M, Q5_K_M */
    if (strcmp(name, "output.weight") == 0 ||
        (!s->has_output && strcmp(name, "token_embd.weight") == 0)) {
        if (ne0 % rrm_type_block(t) != 0) t = RRM_TYPE_Q8_0;
        else if (t != RRM_TYPE_Q8_0) t = RRM_TYPE_Q6_K;
    } else if (strcmp(name, "token_embd.weight") == 0) {
        /* the base type */
    } else if (strstr(name, "attn_v.weight")) {
        if (km && more_bits(s->i_attn_v, s->n_attn_v)) t = RRM_TYPE_Q6_K;
        s->i_attn_v++;
    } else if (strstr(name, "ffn_down")) {
        if (km && more_bits(s->i_ffn_down, s->n_ffn_down)) t = RRM_TYPE_Q6_K;
        s->i_ffn_down++;
    }
    if (ne0 % rrm_type_block(t) != 0) {
        switch (t) {
        case RRM_TYPE_Q4_K: t = RRM_TYPE_Q5_0; break;
        case RRM_TYPE_Q5_K: t = RRM_TYPE_Q5_1; break;
        case RRM_TYPE_Q6_K: t = RRM_TYPE_Q8_0; break;
        default: return -1; /* llama.cpp: "Unsupported tensor size encountered" */
        }
        if (ne0 % rrm_type_block(t) != 0) t = RRM_TYPE_F16;
    }
    return t;
}

/* Copies metadata pair i of f into w (all GGUF value types). */
static int copy_kv(struct gguf_writer *w, const struct gguf_file *f, int64_t i, rrm_err *err)
{
    const char *key = gguf_kv_key(f, i);
    const int type = gguf_kv_type(f, i);
    int rc;
    if (type == GGUF_T_STRING) {
        const char *s;
        size_t len;
        if ((rc = gguf_get_str(f, key, &s, &len, err))) return rc;
        return gguf_w_str(w, key, s, len, err);
    }
    if (type == GGUF_T_ARRAY) {
        int et;
        int64_t n;
        const void *data;
        if ((rc = gguf_get_arr(f, key, &et, &n, &data, err))) return rc;
        if (et != GGUF_T_STRING) return gguf_w_arr(w, key, et, data, n, err);
        const char **s = rrm_calloc((size_t)n + 1, sizeof *s);
        size_t *len = rrm_calloc((size_t)n + 1, sizeof *len);
        rc = s && len ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "quantize: out of memory (key '%s')", key);
        for (int64_t k = 0; rc == RRM_OK && k < n; k++) rc = gguf_get_arr_str(f, key, k, &s[k], &len[k], err);
        if (rc == RRM_OK) rc = gguf_w_arr_str(w, key, s, len, n, err);
        rrm_free(s);
        rrm_free(len);
        return rc;
    }
    uint8_t v[8];
    if (type == GGUF_T_FLOAT32 || type == GGUF_T_FLOAT64) {
        double d;
        if ((rc = gguf_get_f64(f, key, &d, err))) return rc;
        float x = (float)d;
        if (type == GGUF_T_FLOAT32) memcpy(v, &x, 4);
        else memcpy(v, &d, 8);
    } else if (type == GGUF_T_BOOL) {
        int b;
        if ((rc = gguf_get_bool(f, key, &b, err))) return rc;
        v[0] = (uint8_t)(b != 0);
    } else {
        int64_t x;
        if ((rc = gguf_get_i64(f, key, &x, err))) return rc;
        memcpy(v, &x, 8); /* little-endian host: the low bytes are the narrower value */
    }
    return gguf_w_scalar(w, key, type, v, err);
}

struct qjob {
    const struct fmt_tensor **t; /* (n) input tensors in output order */
    int *types;                  /* (n) output type of each tensor */
    float *row;                  /* one f32 row of the widest tensor */
    rrm_progress_cb progress;
    void *user;
    uint64_t done, total;
};

/* gguf_fill_fn: tensor i converted row by row into buf. */
static int fill_tensor(void *user, int64_t i, void *buf, size_t nbytes, rrm_err *err)
{
    struct qjob *j = user;
    const struct fmt_tensor *t = j->t[i];
    const int to = j->types[i];
    if (t->type == to) {
        memcpy(buf, t->data, nbytes);
    } else {
        size_t in_rb, out_rb;
        const int64_t ne0 = t->ne[0];
        if (rrm_row_bytes(t->type, ne0, &in_rb) || rrm_row_bytes(to, ne0, &out_rb) || !in_rb)
            return rrm_errf(err, RRM_E_FORMAT, "quantize: tensor '%s': bad row size", t->name);
        const int64_t nr = (int64_t)(t->nbytes / in_rb);
        for (int64_t r = 0; r < nr; r++) {
            int rc = kern_dequantize_row(t->type, (const uint8_t *)t->data + (size_t)r * in_rb, j->row, ne0);
            if (rc == RRM_OK) rc = kern_quantize_row(to, j->row, (uint8_t *)buf + (size_t)r * out_rb, ne0);
            if (rc != RRM_OK)
                return rrm_errf(err, rc, "quantize: tensor '%s': cannot convert %s -> %s", t->name,
                                rrm_type_name(t->type), rrm_type_name(to));
        }
    }
    j->done += t->nbytes;
    if (j->progress && j->progress(j->done, j->total, j->user))
        return rrm_errf(err, RRM_E_CANCELLED, "quantize: cancelled at tensor '%s'", t->name);
    return RRM_OK;
}

int qwen2_qmix_quantized(const struct qwen2_qmix *mix)
{
    return mix->base == RRM_TYPE_Q8_0 || kern_kq_type(mix->base);
}

/* Adds the n tensors t (output names names[i]) to w with their types under mix and writes
 * out. hf: 1-D tensors become F32 (convert_hf_to_gguf.py's choice). */
static int quantize_tensors(struct gguf_writer *w, const struct fmt_tensor **t,
                            const char *const *names, int64_t n, int hf,
                            const struct qwen2_qmix *mix, const char *out,
                            rrm_progress_cb progress, void *user, rrm_err *err)
{
    struct qjob j = {.t = t, .progress = progress, .user = user};
    int rc = RRM_OK;
    j.types = rrm_calloc((size_t)n + 1, sizeof *j.types);
    int64_t widest = 1;
    for (int64_t i = 0; i < n; i++) {
        widest = t[i]->ne[0] > widest ? t[i]->ne[0] : widest;
        j.total += t[i]->nbytes;
    }
    j.row = rrm_malloc((size_t)widest * sizeof *j.row);
    if (!j.types || !j.row) {
        rc = rrm_errf(err, RRM_E_NOMEM, "quantize: out of memory");
        goto done;
    }
    struct qwen2_qstate st;
    qwen2_qstate_init(&st, names, n);
    for (int64_t i = 0; i < n; i++) {
        const int src = hf && t[i]->n_dims == 1 ? RRM_TYPE_F32 : t[i]->type;
        int to = qwen2_quant_type(mix, &st, names[i], t[i]->n_dims, t[i]->ne[0], src);
        size_t nb, rowb;
        if (to < 0) {
            rc = rrm_errf(err, RRM_E_UNSUPPORTED, "quantize: tensor '%s': %lld columns are not a multiple of the %s block (%d)",
                          names[i], (long long)t[i]->ne[0], rrm_type_name(mix->base), rrm_type_block(mix->base));
            goto done;
        }
        if (to != t[i]->type && (!kern_matmul_type_ok(t[i]->type) || !kern_matmul_type_ok(to))) {
            rc = rrm_errf(err, RRM_E_UNSUPPORTED, "quantize: tensor '%s': cannot convert %s to %s",
                          names[i], rrm_type_name(t[i]->type), rrm_type_name(to));
            goto done;
        }
        j.types[i] = to;
        if (rrm_row_bytes(to, t[i]->ne[0], &rowb) ||
            !rrm_mul_size(&nb, rowb, (size_t)(t[i]->ne[1] * t[i]->ne[2] * t[i]->ne[3]))) {
            rc = rrm_errf(err, RRM_E_FORMAT, "quantize: tensor '%s': size overflow", names[i]);
            goto done;
        }
        if ((rc = gguf_w_tensor_deferred(w, names[i], to, t[i]->n_dims, t[i]->ne, nb, err)))
            goto done;
    }
    rc = gguf_writer_write_fill(w, out, fill_tensor, &j, err);
done:
    rrm_free(j.row);
    rrm_free(j.types);
    return rc;
}

int qwen2_quantize_gguf(const char *in, const char *out, const struct qwen2_qmix *mix,
                        rrm_progress_cb progress, void *user, rrm_err *err)
{
    struct gguf_file *f = NULL;
    struct gguf_writer *w = NULL;
    int rc = gguf_open(&f, in, NULL, err);
    if (rc) return rc;
    const int64_t n = gguf_n_tensors(f);
    const struct fmt_tensor **t = rrm_calloc((size_t)n + 1, sizeof *t);
    const char **names = rrm_calloc((size_t)n + 1, sizeof *names);
    if (!t || !names) {
        rc = rrm_errf(err, RRM_E_NOMEM, "quantize: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        t[i] = gguf_tensor(f, i);
        names[i] = t[i]->name;
    }
    if ((rc = gguf_writer_init(&w, err))) goto done;
    for (int64_t i = 0; i < gguf_n_kv(f); i++) {
        const char *key = gguf_kv_key(f, i);
        if (strcmp(key, "general.file_type") == 0 || strcmp(key, "general.quantization_version") == 0)
            continue;
        if ((rc = copy_kv(w, f, i, err))) goto done;
    }
    if ((rc = gguf_w_u32(w, "general.file_type", mix->ftype, err)) ||
        (qwen2_qmix_quantized(mix) && (rc = gguf_w_u32(w, "general.quantization_version", 2, err))))
        goto done;
    rc = quantize_tensors(w, t, names, n, 0, mix, out, progress, user, err);
done:
    gguf_writer_free(w);
    rrm_free(t);
    rrm_free(names);
    gguf_close(f);
    return rc;
}

/* general.* and the qwen2.* hyper-parameter keys for an HF directory. */
static int hf_meta(struct gguf_writer *w, const char *dir, const struct hf_config *c,
                   const struct qwen2_qmix *mix, rrm_err *err)
{
    const char *base = strrchr(dir, '/');
    base = base && base[1] ? base + 1 : dir;
    int rc;
    if ((rc = gguf_w_str(w, "general.architecture", "qwen2", 5, err)) ||
        (rc = gguf_w_str(w, "general.name", base, strlen(base), err)) ||
        (rc = gguf_w_u32(w, "general.file_type", mix->ftype, err)) ||
        (qwen2_qmix_quantized(mix) && (rc = gguf_w_u32(w, "general.quantization_version", 2, err))))
        return rc;
    return qwen2_gguf_hparams_meta(w, c, err);
}

int qwen2_quantize_hf(const char *dir, const char *out, const struct qwen2_qmix *mix,
                      rrm_progress_cb progress, void *user, rrm_err *err)
{
    struct hf_config c;
    struct st_set *set = NULL;
    struct gguf_writer *w = NULL;
    const struct fmt_tensor **t = NULL;
    char **names = NULL;
    int64_t n = 0;
    char *cpath = rrm_path_join(dir, "config.json");
    char *tpath = rrm_path_join(dir, "tokenizer.json");
    char *tcpath = rrm_path_join(dir, "tokenizer_config.json");
    int rc = cpath && tpath && tcpath ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "quantize: out of memory");
    if (rc || (rc = hf_config_load(&c, cpath, err)) || (rc = st_open_dir(&set, dir, NULL, err)))
        goto done;
    const int64_t ns = st_n_tensors(set);
    t = rrm_calloc((size_t)ns + 1, sizeof *t);
    names = rrm_calloc((size_t)ns + 1, sizeof *names);
    if (!t || !names) {
        rc = rrm_errf(err, RRM_E_NOMEM, "quantize: out of memory");
        goto done;
    }
    int64_t n_vocab = c.vocab_size;
    for (int64_t i = 0; i < ns; i++) {
        const struct fmt_tensor *x = st_tensor(set, i);
        char g[96];
        if (qwen2_gguf_name(x->name, g, sizeof g) != 0) {
            rrm_logf(RRM_LOG_WARN, "quantize: ignoring tensor '%s'", x->name);
            continue;
        }
        if (strcmp(g, "output.weight") == 0 && c.tie_word_embeddings) continue;
        if (strcmp(g, "token_embd.weight") == 0) n_vocab = x->ne[1];
        if (!(names[n] = rrm_strdup(g))) {
            rc = rrm_errf(err, RRM_E_NOMEM, "quantize: out of memory");
            goto done;
        }
        t[n++] = x;
    }
    if ((rc = gguf_writer_init(&w, err)) || (rc = hf_meta(w, dir, &c, mix, err)) ||
        (rc = qwen2_gguf_tokenizer_meta(w, tpath, tcpath, n_vocab, c.bos_token_id,
                                        c.eos_token_id, err)))
        goto done;
    rc = quantize_tensors(w, t, (const char *const *)names, n, 1, mix, out, progress, user, err);
done:
    for (int64_t i = 0; names && i < n; i++) rrm_free(names[i]);
    rrm_free(names);
    rrm_free(t);
    gguf_writer_free(w);
    st_close(set);
    rrm_free(cpath);
    rrm_free(tpath);
    rrm_free(tcpath);
    return rc;
}
