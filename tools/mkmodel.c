/*
 * mkmodel.c — makes a random Qwen2 model from a seed and a shape, written both as a Hugging Face
 * directory (config.json, model.safetensors or shards + index, tokenizer files, generation
 * config) and as GGUF files (one per requested type) holding the same weights plus the tokenizer
 * metadata llama.cpp needs (tokenizer.ggml.*, as llama.cpp's convert_hf_to_gguf.py writes them).
 * The same seed and shape always give byte-identical files: every tensor draws from its own RNG
 * seeded from (seed, tensor name), so the order of writing does not matter.
 *
 *   mkmodel --shape tiny --seed 1 --out DIR [--gguf f32,f16,bf16,q8_0,q4_k_m,...] [--hf-dtype f32|f16|bf16]
 *           [--shards N] [--tokenizer-dir D] [--rope-theta X] [--n-layer N] ...
 *   mkmodel --list
 *
 * Weights: embeddings N(0, 1); matrices N(0, 1/sqrt(fan_in)); the output head 3/sqrt(n_embd) so
 * that random logits are spread enough for stable greedy tests; norms 1 + 0.1 N; biases 0.1 N.
 * GGUF: per-tensor types follow `rrm quantize` (llama.cpp's mix rules, src/model/quantize.c:
 * 1-D tensors stay F32, output head Q6_K for quantized types, Q4_K_M/Q5_K_M bumps, fallbacks);
 * where llama.cpp would refuse (rows not a multiple of a 32-block) the tensor is written F16.
 */
#include "core/core.h"
#include "formats/formats.h"
#include "kernels/kernels.h"
#include "model/qwen2.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

struct shape {
    const char *name;
    int64_t n_embd, n_head, n_head_kv, n_ff, n_layer;
    int tied;
    double rope_theta;
    const char *note;
};

/* Named shapes used by the tests: head_dim 12/16/64/128, GQA ratios 1, 2, 4, 7, tied and not. */
static const struct shape shapes[] = {
    {"tiny", 64, 4, 2, 160, 2, 1, 10000.0, "head_dim 16, GQA 2, tied"},
    {"hd12-gqa7", 84, 7, 1, 96, 2, 0, 1000000.0, "head_dim 12, GQA 7, odd rows (q8_0 falls back)"},
    {"hd64-mha", 128, 2, 2, 256, 2, 0, 10000.0, "head_dim 64, GQA 1 (MHA)"},
    {"hd128-gqa2", 256, 2, 1, 384, 2, 1, 1000000.0, "head_dim 128, GQA 2, tied"},
    {"k256-a", 256, 4, 2, 512, 2, 0, 10000.0, "all dims multiples of 256 (k-quants), head_dim 64"},
    {"k256-b", 256, 2, 1, 768, 3, 1, 1000000.0, "multiples of 256, head_dim 128, GQA 2, tied"},
    {"qwen2.5-0.5b", 896, 14, 2, 4864, 24, 1, 1000000.0, "Qwen2.5-0.5B / R1-distill-1.5B-like"},
    {"rrm-7b", 3584, 28, 4, 18944, 28, 0, 10000.0, "RRM-7B (DeepSeek-R1-Distill-Qwen-7B)"},
};

struct opts {
    struct shape s;
    uint64_t seed;
    const char *out;
    const char *tok_dir;
    const char *gguf_types;
    int hf_type;
    int shards;
    int64_t n_vocab;
    int64_t n_ctx;
    double rms_eps;
};

/* ---- random tensors ---- */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a 64 offset basis */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* A generated tensor in f32 (already rounded to the HF dtype, so every export holds the same
 * values). ne is ggml order. */
struct gen_tensor {
    char hf_name[96];
    char gguf_name[64];
    int n_dims;
    int64_t ne[2];
    float *data;
};

static int gen_fill(struct gen_tensor *t, uint64_t seed, double mean, double std, int hf_type)
{
    int64_t n = t->ne[0] * (t->n_dims > 1 ? t->ne[1] : 1);
    t->data = rrm_malloc((size_t)n * sizeof(float));
    if (!t->data) return RRM_E_NOMEM;
    struct rrm_rng r;
    rrm_rng_seed(&r, seed ^ name_hash(t->hf_name));
    for (int64_t i = 0; i < n; i++) {
        float v = (float)(mean + std * rrm_rng_normal(&r));
        if (hf_type == RRM_TYPE_BF16) v = rrm_bf16_to_f32(rrm_f32_to_bf16(v));
        if (hf_type == RRM_TYPE_F16) v = rrm_f16_to_f32(rrm_f32_to_f16(v));
        t->data[i] = v;
    }
    return RRM_OK;
}

static void gen_set(struct gen_tensor *t, const char *hf, const char *gg, int n_dims, int64_t ne0,
                    int64_t ne1)
{
    snprintf(t->hf_name, sizeof t->hf_name, "%s", hf);
    snprintf(t->gguf_name, sizeof t->gguf_name, "%s", gg);
    t->n_dims = n_dims;
    t->ne[0] = ne0;
    t->ne[1] = n_dims > 1 ? ne1 : 1;
    t->data = NULL;
}

/* Builds every tensor of the model in HF order. Returns the count or a negative error. */
static int64_t gen_model(const struct opts *o, struct gen_tensor **out)
{
    const struct shape *s = &o->s;
    int64_t hd = s->n_embd / s->n_head, nq = s->n_head * hd, nkv = s->n_head_kv * hd;
    int64_t n = 3 + 12 * s->n_layer + (s->tied ? 0 : 1);
    struct gen_tensor *t = rrm_calloc((size_t)n, sizeof *t);
    if (!t) return RRM_E_NOMEM;
    int64_t k = 0;
    double out_std = 3.0 / sqrt((double)s->n_embd);
    gen_set(&t[k++], "model.embed_tokens.weight", "token_embd.weight", 2, s->n_embd, o->n_vocab);
    for (int64_t l = 0; l < s->n_layer; l++) {
        char hf[96], gg[64];
#define LAYER(hfn, ggn, nd, a, b)                                                  \
    do {                                                                           \
        snprintf(hf, sizeof hf, "model.layers.%lld.%s", (long long)l, hfn);        \
        snprintf(gg, sizeof gg, "blk.%lld.%s", (long long)l, ggn);                 \
        gen_set(&t[k++], hf, gg, nd, a, b);                                        \
    } while (0)
        LAYER("input_layernorm.weight", "attn_norm.weight", 1, s->n_embd, 1);
        LAYER("self_attn.q_proj.weight", "attn_q.weight", 2, s->n_embd, nq);
        LAYER("self_attn.q_proj.bias", "attn_q.bias", 1, nq, 1);
        LAYER("self_attn.k_proj.weight", "attn_k.weight", 2, s->n_embd, nkv);
        LAYER("self_attn.k_proj.bias", "attn_k.bias", 1, nkv, 1);
        LAYER("self_attn.v_proj.weight", "attn_v.weight", 2, s->n_embd, nkv);
        LAYER("self_attn.v_proj.bias", "attn_v.bias", 1, nkv, 1);
        LAYER("self_attn.o_proj.weight", "attn_output.weight", 2, nq, s->n_embd);
        LAYER("post_attention_layernorm.weight", "ffn_norm.weight", 1, s->n_embd, 1);
        LAYER("mlp.gate_proj.weight", "ffn_gate.weight", 2, s->n_embd, s->n_ff);
        LAYER("mlp.up_proj.weight", "ffn_up.weight", 2, s->n_embd, s->n_ff);
        LAYER("mlp.down_proj.weight", "ffn_down.weight", 2, s->n_ff, s->n_embd);
#undef LAYER
    }
    gen_set(&t[k++], "model.norm.weight", "output_norm.weight", 1, s->n_embd, 1);
    if (!s->tied) gen_set(&t[k++], "lm_head.weight", "output.weight", 2, s->n_embd, o->n_vocab);
    for (int64_t i = 0; i < k; i++) {
        const char *nm = t[i].hf_name;
        double mean = 0, std;
        if (strstr(nm, "norm")) {
            mean = 1.0;
            std = 0.1;
        } else if (strstr(nm, "bias")) {
            std = 0.1;
        } else if (strstr(nm, "embed_tokens")) {
            std = 1.0;
        } else if (strstr(nm, "lm_head")) {
            std = out_std;
        } else {
            std = 1.0 / sqrt((double)t[i].ne[0]);
        }
        if (gen_fill(&t[i], o->seed, mean, std, o->hf_type) != RRM_OK) {
            for (int64_t j = 0; j < i; j++) rrm_free(t[j].data);
            rrm_free(t);
            return RRM_E_NOMEM;
        }
    }
    *out = t;
    return k;
}

static void gen_free(struct gen_tensor *t, int64_t n)
{
    for (int64_t i = 0; t && i < n; i++) rrm_free(t[i].data);
    rrm_free(t);
}

/* Converts n f32 values into `type` (a new buffer) and returns its size in *nbytes. */
static void *convert(const float *src, int64_t n, int type, size_t *nbytes)
{
    if (rrm_row_bytes(type, n, nbytes) != RRM_OK) return NULL;
    void *dst = rrm_malloc(*nbytes);
    if (dst && kern_quantize_row(type, src, dst, n) != RRM_OK) {
        rrm_free(dst);
        return NULL;
    }
    return dst;
}

/* ---- HF directory ---- */

static int write_config(const struct opts *o, rrm_err *err)
{
    const struct shape *s = &o->s;
    json_t *c = json_pack(
        "{s:[s],s:f,s:I,s:I,s:s,s:I,s:f,s:I,s:I,s:s,s:I,s:I,s:I,s:f,s:n,s:f,s:I,s:b,s:s,s:s,"
        "s:b,s:b,s:I}",
        "architectures", "Qwen2ForCausalLM", "attention_dropout", 0.0, "bos_token_id",
        (json_int_t)151643, "eos_token_id", (json_int_t)151643, "hidden_act", "silu",
        "hidden_size", (json_int_t)s->n_embd, "initializer_range", 0.02, "intermediate_size",
        (json_int_t)s->n_ff, "max_position_embeddings", (json_int_t)o->n_ctx, "model_type",
        "qwen2", "num_attention_heads", (json_int_t)s->n_head, "num_hidden_layers",
        (json_int_t)s->n_layer, "num_key_value_heads", (json_int_t)s->n_head_kv,
        "rms_norm_eps", o->rms_eps, "rope_scaling", "rope_theta", s->rope_theta,
        "sliding_window", (json_int_t)4096, "tie_word_embeddings", s->tied, "torch_dtype",
        o->hf_type == RRM_TYPE_BF16 ? "bfloat16" : o->hf_type == RRM_TYPE_F16 ? "float16"
                                                                             : "float32",
        "transformers_version", "4.44.0", "use_cache", 1, "use_sliding_window", 0, "vocab_size",
        (json_int_t)o->n_vocab);
    if (!c) return rrm_errf(err, RRM_E_NOMEM, "mkmodel: cannot build config.json");
    json_object_set_new(c, "max_window_layers", json_integer(s->n_layer));
    json_object_set_new(c, "use_mrope", json_false());
    char *txt = json_dumps(c, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(c);
    if (!txt) return rrm_errf(err, RRM_E_NOMEM, "mkmodel: cannot print config.json");
    char *path = rrm_path_join(o->out, "config.json");
    int rc = path ? rrm_write_file(path, txt, strlen(txt), err)
                  : rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory");
    rrm_free(path);
    free(txt);
    return rc;
}

static int copy_file(const char *from_dir, const char *name, const char *to_name,
                     const char *out_dir, rrm_err *err)
{
    char *src = rrm_path_join(from_dir, name), *dst = rrm_path_join(out_dir, to_name);
    char *buf = NULL;
    size_t len = 0;
    int rc = (!src || !dst) ? rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory")
                            : rrm_read_file(src, (size_t)1 << 30, &buf, &len, err);
    if (rc == RRM_OK) rc = rrm_write_file(dst, buf, len, err);
    rrm_free(buf);
    rrm_free(src);
    rrm_free(dst);
    return rc;
}

static int write_hf(const struct opts *o, struct gen_tensor *t, int64_t n, rrm_err *err)
{
    struct fmt_tensor *ft = rrm_calloc((size_t)n, sizeof *ft);
    void **bufs = rrm_calloc((size_t)n, sizeof *bufs);
    int rc = RRM_OK;
    if (!ft || !bufs) {
        rc = rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t cnt = t[i].ne[0] * t[i].ne[1];
        bufs[i] = convert(t[i].data, cnt, o->hf_type, &ft[i].nbytes);
        if (!bufs[i]) {
            rc = rrm_errf(err, RRM_E_NOMEM, "mkmodel: cannot convert '%s'", t[i].hf_name);
            goto done;
        }
        ft[i].name = t[i].hf_name;
        ft[i].type = o->hf_type;
        ft[i].n_dims = t[i].n_dims;
        ft[i].ne[0] = t[i].ne[0];
        ft[i].ne[1] = t[i].ne[1];
        ft[i].ne[2] = ft[i].ne[3] = 1;
        ft[i].data = bufs[i];
    }
    if (o->shards > 1) {
        uint64_t total = 0;
        for (int64_t i = 0; i < n; i++) total += ft[i].nbytes;
        rc = st_write_sharded(o->out, ft, n, total / (uint64_t)o->shards + 1, err);
    } else {
        char *path = rrm_path_join(o->out, "model.safetensors");
        rc = path ? st_write_file(path, ft, n, err)
                  : rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory");
        rrm_free(path);
    }
    if (rc != RRM_OK) goto done;
    rc = copy_file(o->tok_dir, "tokenizer.reconstructed.json", "tokenizer.json", o->out, err);
    if (rc == RRM_OK)
        rc = copy_file(o->tok_dir, "tokenizer_config.json", "tokenizer_config.json", o->out, err);
    if (rc == RRM_OK)
        rc = copy_file(o->tok_dir, "generation_config.json", "generation_config.json", o->out,
                       err);
    if (rc == RRM_OK) rc = write_config(o, err);
done:
    for (int64_t i = 0; bufs && i < n; i++) rrm_free(bufs[i]);
    rrm_free(bufs);
    rrm_free(ft);
    return rc;
}

/* ---- GGUF ---- */

/* The tokenizer keys from the shared tokenizer directory (DeepSeek-R1-distill ids). */
static int mk_tokenizer_meta(struct gguf_writer *w, const char *tok_dir, int64_t n_vocab,
                             rrm_err *err)
{
    char *tpath = rrm_path_join(tok_dir, "tokenizer.reconstructed.json");
    char *cpath = rrm_path_join(tok_dir, "tokenizer_config.json");
    int rc = tpath && cpath ? qwen2_gguf_tokenizer_meta(w, tpath, cpath, n_vocab, 151646, 151643, err)
                            : rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory");
    rrm_free(tpath);
    rrm_free(cpath);
    return rc;
}

static int write_gguf(const struct opts *o, struct gen_tensor *t, int64_t n,
                      const struct qwen2_qmix *mix, rrm_err *err)
{
    const struct shape *s = &o->s;
    struct gguf_writer *w = NULL;
    int rc = gguf_writer_init(&w, err);
    if (rc != RRM_OK) return rc;
    void **bufs = rrm_calloc((size_t)n, sizeof *bufs);
    char name[64];
    snprintf(name, sizeof name, "rrm-random-%s-seed%llu", s->name, (unsigned long long)o->seed);
    if (!bufs) {
        rc = rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory");
        goto done;
    }
    /* the config.json values (write_config), as rrm quantize reads them from an HF dir */
    struct hf_config hc = {.hidden_size = s->n_embd, .intermediate_size = s->n_ff,
                           .num_hidden_layers = s->n_layer, .num_attention_heads = s->n_head,
                           .num_key_value_heads = s->n_head_kv, .max_position_embeddings = o->n_ctx,
                           .head_dim = s->n_embd / s->n_head, .rope_theta = s->rope_theta,
                           .rms_norm_eps = o->rms_eps};
    if ((rc = gguf_w_str(w, "general.architecture", "qwen2", 5, err)) ||
        (rc = gguf_w_str(w, "general.name", name, strlen(name), err)) ||
        (rc = gguf_w_u32(w, "general.file_type", mix->ftype, err)) ||
        (qwen2_qmix_quantized(mix) && (rc = gguf_w_u32(w, "general.quantization_version", 2, err))) ||
        (rc = qwen2_gguf_hparams_meta(w, &hc, err)) ||
        (rc = mk_tokenizer_meta(w, o->tok_dir, o->n_vocab, err)))
        goto done;
    const char **names = rrm_calloc((size_t)n + 1, sizeof *names);
    if (!names) {
        rc = rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory");
        goto done;
    }
    for (int64_t i = 0; i < n; i++) names[i] = t[i].gguf_name;
    struct qwen2_qstate st;
    qwen2_qstate_init(&st, names, n);
    rrm_free(names);
    for (int64_t i = 0; i < n; i++) {
        int tt = qwen2_quant_type(mix, &st, t[i].gguf_name, t[i].n_dims, t[i].ne[0], RRM_TYPE_F32);
        if (tt < 0) tt = RRM_TYPE_F16;
        size_t nbytes;
        bufs[i] = convert(t[i].data, t[i].ne[0] * t[i].ne[1], tt, &nbytes);
        if (!bufs[i]) {
            rc = rrm_errf(err, RRM_E_NOMEM, "mkmodel: cannot convert '%s'", t[i].gguf_name);
            goto done;
        }
        rc = gguf_w_tensor(w, t[i].gguf_name, tt, t[i].n_dims, t[i].ne, bufs[i], nbytes, 0, err);
        if (rc != RRM_OK) goto done;
    }
    char fname[64];
    size_t k = (size_t)snprintf(fname, sizeof fname, "model-");
    for (const char *c = mix->name; *c && k + 6 < sizeof fname; c++)
        fname[k++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    snprintf(fname + k, sizeof fname - k, ".gguf");
    char *path = rrm_path_join(o->out, fname);
    rc = path ? gguf_writer_write(w, path, err)
              : rrm_errf(err, RRM_E_NOMEM, "mkmodel: out of memory");
    rrm_free(path);
done:
    for (int64_t i = 0; bufs && i < n; i++) rrm_free(bufs[i]);
    rrm_free(bufs);
    gguf_writer_free(w);
    return rc;
}

/* ---- command line ---- */

static int parse_type(const char *s)
{
    static const int types[] = {RRM_TYPE_F32, RRM_TYPE_F16, RRM_TYPE_BF16, RRM_TYPE_Q8_0};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, rrm_type_name(types[i])) == 0) return types[i];
    }
    return -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: mkmodel --shape NAME --seed S --out DIR [--gguf f32,f16,bf16,q8_0,q4_k_m,...]\n"
            "               [--hf-dtype f32|f16|bf16] [--shards N] [--tokenizer-dir DIR]\n"
            "               [--n-embd N --n-head N --n-head-kv N --n-ff N --n-layer N]\n"
            "               [--tied 0|1] [--rope-theta X] [--n-ctx N] [--rms-eps X]\n"
            "       mkmodel --list\n");
}

static int64_t num_arg(const char *flag, const char *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < 0) {
        fprintf(stderr, "mkmodel: %s wants a non-negative integer, got '%s'\n", flag, v);
        exit(2);
    }
    return x;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->s = shapes[0];
    o->tok_dir = "../shared/data/deepseek-r1-distill-qwen-7b";
    o->gguf_types = "f32";
    o->hf_type = RRM_TYPE_F32;
    o->n_vocab = 152064; /* Qwen2 embedding rows (tokenizer has 151665 ids; rest is padding) */
    o->n_ctx = 4096;
    o->rms_eps = 1e-6;
    o->shards = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) {
            for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
                printf("%-14s n_embd %5lld n_head %2lld n_head_kv %lld n_ff %5lld n_layer %2lld"
                       "  %s\n",
                       shapes[k].name, (long long)shapes[k].n_embd, (long long)shapes[k].n_head,
                       (long long)shapes[k].n_head_kv, (long long)shapes[k].n_ff,
                       (long long)shapes[k].n_layer, shapes[k].note);
            exit(0);
        }
        if (!v) {
            usage();
            return -1;
        }
        i++;
        if (strcmp(a, "--shape") == 0) {
            size_t k;
            for (k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
                if (strcmp(shapes[k].name, v) == 0) break;
            if (k == sizeof shapes / sizeof shapes[0]) {
                fprintf(stderr, "mkmodel: unknown shape '%s' (see --list)\n", v);
                return -1;
            }
            o->s = shapes[k];
        } else if (strcmp(a, "--seed") == 0) {
            o->seed = (uint64_t)num_arg(a, v);
        } else if (strcmp(a, "--out") == 0) {
            o->out = v;
        } else if (strcmp(a, "--gguf") == 0) {
            o->gguf_types = v;
        } else if (strcmp(a, "--hf-dtype") == 0) {
            o->hf_type = parse_type(v);
            if (o->hf_type < 0 || o->hf_type == RRM_TYPE_Q8_0) {
                fprintf(stderr, "mkmodel: --hf-dtype must be f32, f16 or bf16\n");
                return -1;
            }
        } else if (strcmp(a, "--shards") == 0) {
            o->shards = (int)num_arg(a, v);
        } else if (strcmp(a, "--tokenizer-dir") == 0) {
            o->tok_dir = v;
        } else if (strcmp(a, "--n-embd") == 0) {
            o->s.n_embd = num_arg(a, v);
        } else if (strcmp(a, "--n-head") == 0) {
            o->s.n_head = num_arg(a, v);
        } else if (strcmp(a, "--n-head-kv") == 0) {
            o->s.n_head_kv = num_arg(a, v);
        } else if (strcmp(a, "--n-ff") == 0) {
            o->s.n_ff = num_arg(a, v);
        } else if (strcmp(a, "--n-layer") == 0) {
            o->s.n_layer = num_arg(a, v);
        } else if (strcmp(a, "--tied") == 0) {
            o->s.tied = num_arg(a, v) != 0;
        } else if (strcmp(a, "--rope-theta") == 0) {
            o->s.rope_theta = atof(v);
        } else if (strcmp(a, "--n-ctx") == 0) {
            o->n_ctx = num_arg(a, v);
        } else if (strcmp(a, "--rms-eps") == 0) {
            o->rms_eps = atof(v);
        } else {
            fprintf(stderr, "mkmodel: unknown option '%s'\n", a);
            usage();
            return -1;
        }
    }
    const struct shape *s = &o->s;
    if (!o->out || s->n_head < 1 || s->n_head_kv < 1 || s->n_embd % s->n_head ||
        s->n_head % s->n_head_kv || s->n_layer < 1 || s->n_ff < 1 || o->shards < 1 ||
        o->s.rope_theta <= 0) {
        fprintf(stderr, "mkmodel: need --out, n_embd divisible by n_head, n_head divisible by "
                        "n_head_kv, n_layer >= 1, shards >= 1\n");
        return -1;
    }
    return 0;
}

/* mkdir -p: creates `path` and any missing parents; 0 or -1 with errno set. */
static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        buf[i] = c;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) != 0) return 2;
    if (mkdir_p(o.out) != 0) {
        fprintf(stderr, "mkmodel: mkdir '%s': %s\n", o.out, strerror(errno));
        return 1;
    }
    rrm_err err = {0};
    struct gen_tensor *t = NULL;
    int64_t n = gen_model(&o, &t);
    if (n < 0) {
        fprintf(stderr, "mkmodel: out of memory generating weights\n");
        return 1;
    }
    int rc = write_hf(&o, t, n, &err);
    char types[128];
    snprintf(types, sizeof types, "%s", o.gguf_types);
    for (char *tok = strtok(types, ","); rc == RRM_OK && tok; tok = strtok(NULL, ",")) {
        if (strcmp(tok, "none") == 0) continue;
        const struct qwen2_qmix *mix = qwen2_qmix_find(tok);
        if (!mix) {
            fprintf(stderr, "mkmodel: unknown GGUF type '%s' (%s)\n", tok, qwen2_qmix_names());
            gen_free(t, n);
            return 2;
        }
        rc = write_gguf(&o, t, n, mix, &err);
    }
    gen_free(t, n);
    if (rc != RRM_OK) {
        fprintf(stderr, "mkmodel: %s\n", err.msg);
        return 1;
    }
    return 0;
}
