/*
 * hf_config.c — Hugging Face config.json for Qwen2ForCausalLM (field names and defaults from
 * transformers' Qwen2Config: rope_theta 10000, rms_norm_eps 1e-6, tie_word_embeddings false,
 * num_key_value_heads = num_attention_heads, max_position_embeddings 32768, hidden_act "silu").
 * Settings that change the math and that rrm does not implement are RRM_E_UNSUPPORTED naming the
 * field; wrong JSON types and missing required fields are RRM_E_FORMAT. Sanity caps (RRM_E_LIMIT
 * above them) keep later size computations far from overflow:
 *   hidden_size <= 65536, intermediate_size <= 1048576, num_hidden_layers <= 1024,
 *   num_attention_heads <= 1024, head_dim <= 1024, vocab_size <= 1 << 24,
 *   max_position_embeddings <= 1 << 24, token ids <= 1 << 31.
 */
#include "formats/formats.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

#define HF_MAX_CONFIG ((size_t)16 << 20) /* config.json bytes; real ones are ~1 KB */

/* Integer value v of field `key`: absent (NULL) or null -> def (error when required); range
 * [lo, hi]. */
static int int_val(json_t *v, const char *what, const char *key, int required, int64_t def,
                   int64_t lo, int64_t hi, int64_t *out, rrm_err *err)
{
    if (!v || json_is_null(v)) {
        if (required)
            return rrm_errf(err, RRM_E_FORMAT, "config: '%s': missing required field '%s'", what,
                            key);
        *out = def;
        return RRM_OK;
    }
    if (!json_is_integer(v))
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' must be an integer", what,
                        key);
    int64_t x = (int64_t)json_integer_value(v);
    if (x < lo)
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' = %lld is below %lld", what,
                        key, (long long)x, (long long)lo);
    if (x > hi)
        return rrm_errf(err, RRM_E_LIMIT, "config: '%s': field '%s' = %lld exceeds the cap %lld",
                        what, key, (long long)x, (long long)hi);
    *out = x;
    return RRM_OK;
}

static int get_int(json_t *root, const char *what, const char *key, int required, int64_t def,
                   int64_t lo, int64_t hi, int64_t *out, rrm_err *err)
{
    return int_val(json_object_get(root, key), what, key, required, def, lo, hi, out, err);
}

/* Positive finite number (integer or real); absent or null -> def. */
static int get_pos(json_t *root, const char *what, const char *key, double def, double *out,
                   rrm_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return RRM_OK;
    }
    if (!json_is_number(v))
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' must be a number", what, key);
    double x = json_number_value(v);
    if (!(x > 0) || !isfinite(x))
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' = %g must be positive and "
                        "finite", what, key, x);
    *out = x;
    return RRM_OK;
}

/* Boolean field; absent or null -> def. */
static int get_bool(json_t *root, const char *what, const char *key, int def, int *out,
                    rrm_err *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return RRM_OK;
    }
    if (!json_is_boolean(v))
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' must be true or false", what,
                        key);
    *out = json_is_true(v);
    return RRM_OK;
}

/* String field copied into dst[cap]; absent or null -> def. */
static int get_str(json_t *root, const char *what, const char *key, const char *def, char *dst,
                   size_t cap, rrm_err *err)
{
    json_t *v = json_object_get(root, key);
    const char *s = def;
    if (v && !json_is_null(v)) {
        if (!json_is_string(v))
            return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' must be a string", what,
                            key);
        s = json_string_value(v);
        if (json_string_length(v) >= cap)
            return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' is longer than %zu bytes",
                            what, key, cap - 1);
    }
    snprintf(dst, cap, "%s", s);
    return RRM_OK;
}

/* A token id: integer, null (-1) or a non-empty array of integers (its first element). */
static int get_token(json_t *root, const char *what, const char *key, int64_t *out, rrm_err *err)
{
    json_t *v = json_object_get(root, key);
    if (json_is_array(v)) {
        if (json_array_size(v) == 0)
            return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' is an empty array", what,
                            key);
        v = json_array_get(v, 0);
        if (!v || json_is_null(v))
            return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field '%s' starts with null", what,
                            key);
    }
    return int_val(v, what, key, 0, -1, 0, (int64_t)1 << 31, out, err);
}

/* Architecture and the switches rrm does not implement. */
static int check_arch(json_t *root, const char *what, struct hf_config *c, rrm_err *err)
{
    json_t *a = json_object_get(root, "architectures");
    char act[32];
    int on, rc;
    if (!json_is_array(a) || json_array_size(a) == 0 || !json_is_string(json_array_get(a, 0)))
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': field 'architectures' must be a "
                        "non-empty array of strings", what);
    const char *arch = json_string_value(json_array_get(a, 0));
    if (strcmp(arch, "Qwen2ForCausalLM") != 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "config: '%s': architectures[0] '%.64s' is not "
                        "supported (Qwen2ForCausalLM only)", what, arch);
    snprintf(c->architecture, sizeof c->architecture, "%s", arch);
    if ((rc = get_str(root, what, "model_type", "qwen2", c->model_type, sizeof c->model_type, err)))
        return rc;
    if (strcmp(c->model_type, "qwen2") != 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "config: '%s': model_type '%s' is not supported "
                        "(qwen2 only)", what, c->model_type);
    if ((rc = get_str(root, what, "hidden_act", "silu", act, sizeof act, err))) return rc;
    if (strcmp(act, "silu") != 0)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "config: '%s': hidden_act '%s' is not supported "
                        "(silu only)", what, act);
    if ((rc = get_bool(root, what, "use_sliding_window", 0, &on, err))) return rc;
    if (on)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "config: '%s': use_sliding_window true is not "
                        "supported", what);
    if ((rc = get_bool(root, what, "use_mrope", 0, &on, err))) return rc;
    if (on)
        return rrm_errf(err, RRM_E_UNSUPPORTED, "config: '%s': use_mrope true is not supported",
                        what);
    json_t *rs = json_object_get(root, "rope_scaling");
    if (rs && !json_is_null(rs))
        return rrm_errf(err, RRM_E_UNSUPPORTED, "config: '%s': rope_scaling is set; only plain "
                        "RoPE is supported", what);
    return RRM_OK;
}

/* Sizes, with the caps of the file comment; head_dim and num_key_value_heads derived. */
static int read_dims(json_t *root, const char *what, struct hf_config *c, rrm_err *err)
{
    int rc;
    if ((rc = get_int(root, what, "hidden_size", 1, 0, 1, 65536, &c->hidden_size, err)) ||
        (rc = get_int(root, what, "intermediate_size", 1, 0, 1, 1 << 20, &c->intermediate_size,
                      err)) ||
        (rc = get_int(root, what, "num_hidden_layers", 1, 0, 1, 1024, &c->num_hidden_layers,
                      err)) ||
        (rc = get_int(root, what, "num_attention_heads", 1, 0, 1, 1024, &c->num_attention_heads,
                      err)) ||
        (rc = get_int(root, what, "num_key_value_heads", 0, c->num_attention_heads, 1,
                      c->num_attention_heads, &c->num_key_value_heads, err)) ||
        (rc = get_int(root, what, "vocab_size", 1, 0, 1, 1 << 24, &c->vocab_size, err)) ||
        (rc = get_int(root, what, "max_position_embeddings", 0, 32768, 1, 1 << 24,
                      &c->max_position_embeddings, err)))
        return rc;
    if (c->num_attention_heads % c->num_key_value_heads != 0)
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': num_attention_heads %lld is not a "
                        "multiple of num_key_value_heads %lld", what,
                        (long long)c->num_attention_heads, (long long)c->num_key_value_heads);
    json_t *hd = json_object_get(root, "head_dim");
    if (hd && !json_is_null(hd))
        return get_int(root, what, "head_dim", 1, 0, 1, 1024, &c->head_dim, err);
    if (c->hidden_size % c->num_attention_heads != 0)
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': hidden_size %lld is not a multiple of "
                        "num_attention_heads %lld", what, (long long)c->hidden_size,
                        (long long)c->num_attention_heads);
    c->head_dim = c->hidden_size / c->num_attention_heads;
    if (c->head_dim > 1024)
        return rrm_errf(err, RRM_E_LIMIT, "config: '%s': head_dim %lld exceeds the cap 1024", what,
                        (long long)c->head_dim);
    return RRM_OK;
}

static int read_config(json_t *root, const char *what, struct hf_config *c, rrm_err *err)
{
    int rc;
    if (!json_is_object(root))
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': not a JSON object", what);
    if ((rc = check_arch(root, what, c, err)) || (rc = read_dims(root, what, c, err))) return rc;
    if ((rc = get_pos(root, what, "rope_theta", 10000.0, &c->rope_theta, err)) ||
        (rc = get_pos(root, what, "rms_norm_eps", 1e-6, &c->rms_norm_eps, err)) ||
        (rc = get_bool(root, what, "tie_word_embeddings", 0, &c->tie_word_embeddings, err)) ||
        (rc = get_token(root, what, "bos_token_id", &c->bos_token_id, err)) ||
        (rc = get_token(root, what, "eos_token_id", &c->eos_token_id, err)))
        return rc;
    if (c->rms_norm_eps >= 1)
        return rrm_errf(err, RRM_E_FORMAT, "config: '%s': rms_norm_eps %g is not below 1", what,
                        c->rms_norm_eps);
    /* transformers >= 4.56 writes "dtype"; older versions "torch_dtype". */
    const char *dk = json_object_get(root, "torch_dtype") ? "torch_dtype" : "dtype";
    return get_str(root, what, dk, "", c->torch_dtype, sizeof c->torch_dtype, err);
}

int hf_config_parse(struct hf_config *out, const char *json, size_t len, const char *what,
                    rrm_err *err)
{
    json_t *root = NULL;
    struct hf_config c;
    memset(&c, 0, sizeof c);
    if (!what) what = "config.json";
    int rc = rrm_json_parse(&root, json, len, HF_MAX_CONFIG, what, err);
    if (rc) return rc;
    rc = read_config(root, what, &c, err);
    json_decref(root);
    if (rc == RRM_OK) *out = c;
    return rc;
}

int hf_config_load(struct hf_config *out, const char *path, rrm_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = rrm_read_file(path, HF_MAX_CONFIG, &buf, &len, err);
    if (rc) return rc;
    rc = hf_config_parse(out, buf, len, path, err);
    rrm_free(buf);
    return rc;
}
