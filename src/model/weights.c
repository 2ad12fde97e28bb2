/*
 * weights.c — binds a table of stored tensors to the Qwen2 layout by name (GGUF names as
 * llama.cpp's convert_hf_to_gguf.py writes them, or Hugging Face names), checks every shape and
 * type against the hyper-parameters, converts norms and biases to f32 copies, and answers
 * rrm_model_get_info / rrm_model_tensor. Unexpected extra tensors are logged (RRM_LOG_WARN) and
 * ignored; missing ones are an error naming them. After this the model is immutable.
 */
#include "model/qwen2.h"

#include <stdio.h>

/* Slots: 3 globals then 12 per layer. */
enum { G_EMBD, G_NORM, G_OUT, N_GLOBAL };
enum {
    L_Q, L_K, L_V, L_O, L_GATE, L_UP, L_DOWN, /* matrices */
    L_BQ, L_BK, L_BV, L_ATTN_NORM, L_FFN_NORM, /* vectors */
    N_PER_LAYER
};

static const char *const global_names[2][N_GLOBAL] = {
    {"token_embd.weight", "output_norm.weight", "output.weight"},
    {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"},
};
static const char *const layer_names[2][N_PER_LAYER] = {
    {"attn_q.weight", "attn_k.weight", "attn_v.weight", "attn_output.weight", "ffn_gate.weight",
     "ffn_up.weight", "ffn_down.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias",
     "attn_norm.weight", "ffn_norm.weight"},
    {"self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
     "self_attn.o_proj.weight", "mlp.gate_proj.weight", "mlp.up_proj.weight",
     "mlp.down_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.bias",
     "self_attn.v_proj.bias", "input_layernorm.weight", "post_attention_layernorm.weight"},
};
static const char *const layer_prefix[2] = {"blk.", "model.layers."};

/* Slot of a tensor name, or -1 when it is not part of Qwen2. */
static int64_t slot_of(const char *name, int naming, int64_t n_layer)
{
    for (int g = 0; g < N_GLOBAL; g++) {
        if (strcmp(name, global_names[naming][g]) == 0) return g;
    }
    size_t pl = strlen(layer_prefix[naming]);
    if (strncmp(name, layer_prefix[naming], pl) != 0) return -1;
    const char *s = name + pl;
    int64_t l = 0;
    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '.')) return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        l = l * 10 + (*s - '0');
        if (l >= n_layer) return -1;
    }
    if (*s++ != '.') return -1;
    for (int k = 0; k < N_PER_LAYER; k++) {
        if (strcmp(s, layer_names[naming][k]) == 0) return N_GLOBAL + l * N_PER_LAYER + k;
    }
    return -1;
}

int qwen2_gguf_name(const char *hf_name, char *out, size_t n)
{
    int64_t s = slot_of(hf_name, QWEN2_NAMES_HF, (int64_t)1 << 20);
    if (s < 0) return -1;
    if (s < N_GLOBAL) {
        snprintf(out, n, "%s", global_names[QWEN2_NAMES_GGUF][s]);
    } else {
        snprintf(out, n, "%s%lld.%s", layer_prefix[QWEN2_NAMES_GGUF],
                 (long long)((s - N_GLOBAL) / N_PER_LAYER),
                 layer_names[QWEN2_NAMES_GGUF][(s - N_GLOBAL) % N_PER_LAYER]);
    }
    return 0;
}

/* Expected shape of a slot: ne0 (n_in or length), ne1 (n_out, 1 for vectors), dimension names
 * for messages. Returns 1 for matrices, 0 for vectors. */
static int slot_shape(const struct qwen2_hparams *hp, int64_t slot, int64_t *ne0, int64_t *ne1,
                      const char **dims)
{
    const int64_t q = hp->n_head * hp->head_dim, kv = hp->n_head_kv * hp->head_dim;
    *ne1 = 1;
    if (slot < N_GLOBAL) {
        *ne0 = hp->n_embd;
        if (slot == G_NORM) return *dims = "n_embd", 0;
        *ne1 = hp->n_vocab;
        return *dims = "n_vocab x n_embd", 1;
    }
    switch ((slot - N_GLOBAL) % N_PER_LAYER) {
    case L_Q: *ne0 = hp->n_embd, *ne1 = q, *dims = "n_head*head_dim x n_embd"; return 1;
    case L_K:
    case L_V: *ne0 = hp->n_embd, *ne1 = kv, *dims = "n_head_kv*head_dim x n_embd"; return 1;
    case L_O: *ne0 = q, *ne1 = hp->n_embd, *dims = "n_embd x n_head*head_dim"; return 1;
    case L_GATE:
    case L_UP: *ne0 = hp->n_embd, *ne1 = hp->n_ff, *dims = "n_ff x n_embd"; return 1;
    case L_DOWN: *ne0 = hp->n_ff, *ne1 = hp->n_embd, *dims = "n_embd x n_ff"; return 1;
    case L_BQ: *ne0 = q, *dims = "n_head*head_dim"; return 0;
    case L_BK:
    case L_BV: *ne0 = kv, *dims = "n_head_kv*head_dim"; return 0;
    default: *ne0 = hp->n_embd, *dims = "n_embd"; return 0;
    }
}

/* Shape "[a x b]" outermost first (PyTorch / safetensors order). */
static void shape_str(char *buf, size_t n, const struct fmt_tensor *t)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int d = t->n_dims - 1; d >= 0 && k < n; d--)
        k += (size_t)snprintf(buf + k, n - k, "%lld%s", (long long)t->ne[d], d ? " x " : "]");
}

/* Checks one bound tensor against its slot: shape, type, byte size. */
static int check_tensor(const struct qwen2_hparams *hp, int64_t slot, const struct fmt_tensor *t,
                        const char *hp_what, rrm_err *err)
{
    int64_t ne0, ne1;
    const char *dims;
    int mat = slot_shape(hp, slot, &ne0, &ne1, &dims);
    int ok = t->n_dims >= 1 && t->n_dims <= (mat ? 2 : 1) && t->ne[0] == ne0 && t->ne[1] == ne1;
    for (int d = 2; d < FMT_MAX_DIMS; d++) ok = ok && t->ne[d] == 1;
    if (!ok) {
        char found[96];
        shape_str(found, sizeof found, t);
        if (mat)
            return rrm_errf(err, RRM_E_FORMAT,
                            "model: tensor '%s' has shape %s, expected [%lld x %lld] (%s) from %s",
                            t->name, found, (long long)ne1, (long long)ne0, dims, hp_what);
        return rrm_errf(err, RRM_E_FORMAT,
                        "model: tensor '%s' has shape %s, expected [%lld] (%s) from %s", t->name,
                        found, (long long)ne0, dims, hp_what);
    }
    if (mat ? !kern_matmul_type_ok(t->type)
            : t->type != RRM_TYPE_F32 && t->type != RRM_TYPE_F16 && t->type != RRM_TYPE_BF16)
        return rrm_errf(err, RRM_E_UNSUPPORTED,
                        "model: tensor '%s' has type %s; %s must be f32, f16, bf16%s", t->name,
                        rrm_type_name(t->type), mat ? "matrices" : "norms and biases",
                        mat ? ", q8_0, q4_0, q4_1, q5_0, q5_1, q4_K, q5_K or q6_K" : "");
    size_t row, total;
    int rc = rrm_row_bytes(t->type, ne0, &row);
    if (rc != RRM_OK || !rrm_mul_size(&total, row, (size_t)ne1) || total != t->nbytes || !t->data)
        return rrm_errf(err, RRM_E_FORMAT,
                        "model: tensor '%s' (%s, %lld x %lld) holds %zu bytes, expected %zu",
                        t->name, rrm_type_name(t->type), (long long)ne1, (long long)ne0,
                        t->nbytes, rc == RRM_OK ? total : (size_t)0);
    return RRM_OK;
}

static int check_hparams(const struct qwen2_hparams *hp, const char *hp_what, rrm_err *err)
{
    if (hp->n_vocab < 1 || hp->n_embd < 1 || hp->n_head < 1 || hp->n_head_kv < 1 ||
        hp->head_dim < 2 || hp->head_dim % 2 || hp->n_ff < 1 || hp->n_layer < 1 ||
        hp->n_head % hp->n_head_kv || hp->n_vocab > INT32_MAX || hp->n_layer > 100000 ||
        !(hp->rope_theta > 0) || !(hp->rms_norm_eps >= 0))
        return rrm_errf(err, RRM_E_FORMAT,
                        "model: bad hyper-parameters from %s (n_vocab %lld, n_embd %lld, n_head "
                        "%lld, n_head_kv %lld, head_dim %lld, n_ff %lld, n_layer %lld)",
                        hp_what, (long long)hp->n_vocab, (long long)hp->n_embd,
                        (long long)hp->n_head, (long long)hp->n_head_kv, (long long)hp->head_dim,
                        (long long)hp->n_ff, (long long)hp->n_layer);
    int64_t big = 1 << 24; /* keeps every product below int64 and size_t limits */
    if (hp->n_embd > big || hp->n_ff > big || hp->n_head * hp->head_dim > big)
        return rrm_errf(err, RRM_E_LIMIT, "model: dimensions from %s exceed %lld", hp_what,
                        (long long)big);
    return RRM_OK;
}

/* Fills slots[] from the table: duplicates are an error, extras are logged. */
static int collect(const struct fmt_tensor **slots, int64_t n_slots,
                   const struct qwen2_hparams *hp, const struct fmt_tensor *t, int64_t n,
                   int naming, rrm_err *err)
{
    int64_t extra = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t s = slot_of(t[i].name, naming, hp->n_layer);
        if (s < 0) {
            if (extra++ < 8) rrm_logf(RRM_LOG_WARN, "model: ignoring tensor '%s'", t[i].name);
            continue;
        }
        if (NEVER(s >= n_slots)) return rrm_errf(err, RRM_E_INTERNAL, "model: slot %lld", (long long)s);
        if (slots[s])
            return rrm_errf(err, RRM_E_FORMAT, "model: tensor '%s' appears twice", t[i].name);
        slots[s] = &t[i];
    }
    if (extra) rrm_logf(RRM_LOG_WARN, "model: %lld unexpected tensors ignored", (long long)extra);
    if (slots[G_OUT] && hp->tie_output) {
        rrm_logf(RRM_LOG_INFO, "model: output head tied to token_embd; ignoring '%s'",
                 slots[G_OUT]->name);
        slots[G_OUT] = NULL;
    }
    for (int64_t s = 0; s < n_slots; s++) {
        if (slots[s] || s == G_OUT) continue;
        if (s < N_GLOBAL)
            return rrm_errf(err, RRM_E_FORMAT, "model: missing tensor '%s'",
                            global_names[naming][s]);
        return rrm_errf(err, RRM_E_FORMAT, "model: missing tensor '%s%lld.%s'",
                        layer_prefix[naming], (long long)((s - N_GLOBAL) / N_PER_LAYER),
                        layer_names[naming][(s - N_GLOBAL) % N_PER_LAYER]);
    }
    return RRM_OK;
}

/* A matrix view; misaligned F32/F16/BF16 data is copied into aligned memory owned by m. */
static int bind_mat(rrm_model *m, struct qwen2_mat *w, const struct fmt_tensor *t, rrm_err *err)
{
    w->type = t->type;
    w->n_in = t->ne[0];
    w->n_out = t->ne[1];
    rrm_row_bytes(t->type, w->n_in, &w->row_bytes);
    /* block types are read byte-wise (memcpy / unaligned loads): any alignment */
    size_t align = t->type == RRM_TYPE_F32                               ? 4
                   : t->type == RRM_TYPE_F16 || t->type == RRM_TYPE_BF16 ? 2
                                                                         : 1;
    w->data = t->data;
    if ((uintptr_t)t->data % align == 0) return RRM_OK;
    void *c = rrm_alloc_aligned(t->nbytes);
    if (!c) return rrm_errf(err, RRM_E_NOMEM, "model: out of memory copying '%s'", t->name);
    memcpy(c, t->data, t->nbytes);
    m->copies[m->n_copies++] = c;
    w->data = c;
    rrm_logf(RRM_LOG_WARN, "model: tensor '%s' is misaligned in its file; copied", t->name);
    return RRM_OK;
}

/* Touches one byte per page so that the weights are resident (rrm_model_params.prefault). */
static void prefault(const struct fmt_tensor *t)
{
    const volatile uint8_t *p = t->data;
    uint8_t sink = 0;
    for (size_t i = 0; i < t->nbytes; i += 4096) sink ^= p[i];
    (void)sink;
}

/* Binds every slot into m (vectors go to m->vecs at *off), reporting progress in bytes. */
static int bind_all(rrm_model *m, const struct fmt_tensor **slots, int64_t n_slots,
                    const rrm_model_params *p, rrm_err *err)
{
    uint64_t total = 0, done = 0;
    for (int64_t s = 0; s < n_slots; s++) total += slots[s] ? slots[s]->nbytes : 0;
    size_t off = 0;
    for (int64_t s = 0; s < n_slots; s++) {
        const struct fmt_tensor *t = slots[s];
        if (!t) continue;
        struct qwen2_layer *L = s >= N_GLOBAL ? &m->layers[(s - N_GLOBAL) / N_PER_LAYER] : NULL;
        int k = L ? (int)((s - N_GLOBAL) % N_PER_LAYER) : (int)s;
        struct qwen2_mat *mats[N_PER_LAYER] = {0};
        const float **vecs[N_PER_LAYER] = {0};
        if (L) {
            struct qwen2_mat *lm[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up,
                                       &L->w_down};
            const float **lv[5] = {&L->bq, &L->bk, &L->bv, &L->attn_norm, &L->ffn_norm};
            memcpy(mats, lm, sizeof lm);
            memcpy(vecs + L_BQ, lv, sizeof lv);
        } else {
            mats[G_EMBD] = &m->tok_embd;
            mats[G_OUT] = &m->output;
            vecs[G_NORM] = &m->output_norm;
        }
        int rc;
        if (mats[k]) {
            if ((rc = bind_mat(m, mats[k], t, err)) != RRM_OK) return rc;
            if (p && p->prefault) prefault(t);
        } else {
            float *v = m->vecs + off;
            kern_dequantize_row(t->type, t->data, v, t->ne[0]);
            *vecs[k] = v;
            off += (size_t)t->ne[0];
        }
        struct qwen2_tensor_info *ti = &m->tensors[m->n_tensors++];
        if (!(ti->name = rrm_strdup(t->name)))
            return rrm_errf(err, RRM_E_NOMEM, "model: out of memory");
        ti->type = t->type;
        ti->n_dims = t->n_dims;
        memcpy(ti->ne, t->ne, sizeof ti->ne);
        ti->nbytes = t->nbytes;
        m->n_params += t->ne[0] * t->ne[1];
        m->weight_bytes += t->nbytes;
        done += t->nbytes;
        if (p && p->progress && p->progress(done, total, p->progress_user))
            return rrm_errf(err, RRM_E_CANCELLED, "model: load cancelled at tensor '%s'",
                            t->name);
    }
    return RRM_OK;
}

int qwen2_model_from_tensors(rrm_model **out, const struct qwen2_hparams *hp,
                             const struct fmt_tensor *t, int64_t n, int naming,
                             const char *source, const char *hp_what,
                             const rrm_model_params *p, rrm_err *err)
{
    int rc;
    if (naming != QWEN2_NAMES_GGUF && naming != QWEN2_NAMES_HF)
        return rrm_errf(err, RRM_E_INVAL, "model: unknown naming %d", naming);
    if ((rc = check_hparams(hp, hp_what, err)) != RRM_OK) return rc;
    const int64_t n_slots = N_GLOBAL + N_PER_LAYER * hp->n_layer;
    const struct fmt_tensor **slots = rrm_calloc((size_t)n_slots, sizeof *slots);
    rrm_model *m = rrm_calloc(1, sizeof *m);
    if (!slots || !m) {
        rc = rrm_errf(err, RRM_E_NOMEM, "model: out of memory");
        goto fail;
    }
    if ((rc = collect(slots, n_slots, hp, t, n, naming, err)) != RRM_OK) goto fail;
    size_t n_vec = 0;
    for (int64_t s = 0; s < n_slots; s++) {
        int64_t ne0, ne1;
        const char *dims;
        if (!slots[s]) continue;
        if ((rc = check_tensor(hp, s, slots[s], hp_what, err)) != RRM_OK) goto fail;
        if (!slot_shape(hp, s, &ne0, &ne1, &dims)) n_vec += (size_t)ne0;
    }
    m->hp = *hp;
    snprintf(m->arch, sizeof m->arch, "qwen2");
    snprintf(m->source, sizeof m->source, "%s", source ? source : "memory");
    m->layers = rrm_calloc((size_t)hp->n_layer, sizeof *m->layers);
    m->vecs = rrm_calloc(n_vec, sizeof *m->vecs);
    m->tensors = rrm_calloc((size_t)n_slots, sizeof *m->tensors);
    m->copies = rrm_calloc((size_t)n_slots, sizeof *m->copies);
    if (!m->layers || !m->vecs || !m->tensors || !m->copies) {
        rc = rrm_errf(err, RRM_E_NOMEM, "model: out of memory");
        goto fail;
    }
    if ((rc = bind_all(m, slots, n_slots, p, err)) != RRM_OK) goto fail;
    m->tied = slots[G_OUT] == NULL;
    if (m->tied) m->output = m->tok_embd;
    m->hp.tie_output = m->tied;
    rrm_free(slots);
    *out = m;
    return RRM_OK;
fail:
    rrm_free(slots);
    rrm_model_free(m);
    return rc;
}

void qwen2_model_own(rrm_model *m, void *src, void (*close_fn)(void *))
{
    m->src = src;
    m->src_close = close_fn;
}

void rrm_model_free(rrm_model *m)
{
    if (!m) return;
    for (int i = 0; m->tensors && i < m->n_tensors; i++) rrm_free(m->tensors[i].name);
    for (int i = 0; m->copies && i < m->n_copies; i++) rrm_free_aligned(m->copies[i]);
    rrm_free(m->tensors);
    rrm_free(m->copies);
    rrm_free(m->vecs);
    rrm_free(m->layers);
    if (m->src_close) m->src_close(m->src);
    rrm_free(m);
}

rrm_model_params rrm_model_default_params(void)
{
    rrm_model_params p = {.progress = NULL, .progress_user = NULL, .prefault = 0};
    return p;
}

void rrm_model_get_info(const rrm_model *m, rrm_model_info *out)
{
    memset(out, 0, sizeof *out);
    if (!m) return;
    snprintf(out->arch, sizeof out->arch, "%s", m->arch);
    snprintf(out->source, sizeof out->source, "%s", m->source);
    out->n_vocab = m->hp.n_vocab;
    out->n_embd = m->hp.n_embd;
    out->n_head = m->hp.n_head;
    out->n_head_kv = m->hp.n_head_kv;
    out->head_dim = m->hp.head_dim;
    out->n_ff = m->hp.n_ff;
    out->n_layer = m->hp.n_layer;
    out->n_ctx_train = m->hp.n_ctx_train;
    out->rope_theta = m->hp.rope_theta;
    out->rms_norm_eps = m->hp.rms_norm_eps;
    out->tied_output = m->tied;
    out->n_params = m->n_params;
    out->weight_bytes = m->weight_bytes;
    out->n_tensors = m->n_tensors;
    out->bos_id = m->hp.bos_id;
    out->eos_id = m->hp.eos_id;
}

int rrm_model_tensor(const rrm_model *m, int i, const char **name, int *type, int *n_dims,
                     int64_t ne[4], uint64_t *nbytes)
{
    if (!m || i < 0 || i >= m->n_tensors) return RRM_E_INVAL;
    const struct qwen2_tensor_info *t = &m->tensors[i];
    if (name) *name = t->name;
    if (type) *type = t->type;
    if (n_dims) *n_dims = t->n_dims;
    if (ne) memcpy(ne, t->ne, sizeof t->ne);
    if (nbytes) *nbytes = t->nbytes;
    return RRM_OK;
}
