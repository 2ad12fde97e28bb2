/*
 * template.c — the public chat-template API: finding a model's `chat_template` (HF directory,
 * tokenizer_config.json, .jinja, GGUF), its BOS/EOS strings, family detection or override, and
 * rendering with input checks (roles the family knows, valid UTF-8, size caps). Every file and
 * every message is untrusted input: bad input is an error naming the file or message index.
 * tokenizer_config.json semantics follow transformers: `chat_template` is a string or a list of
 * {"name", "template"} from which "default" is used; `bos_token`/`eos_token` are a string, an
 * AddedToken object {"content": ...}, or null. chat_template.jinja in a directory takes
 * precedence over the JSON key (transformers >= 4.43 saves templates there).
 */
#include "template/template.h"
#include "formats/formats.h"

#include <jansson.h>
#include <stdio.h>
#include <utf8proc.h>

int64_t tmpl_utf8_check(const char *s, size_t len)
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        size_t rest = len - i;
        utf8proc_ssize_t k = utf8proc_iterate(p + i, rest > 4 ? 4 : (utf8proc_ssize_t)rest, &cp);
        if (k <= 0) return (int64_t)i;
        i += (size_t)k;
    }
    return -1;
}

/* Copies a BOS/EOS token string after checking its size and encoding. */
static int dup_token(char **out, const char *s, size_t len, const char *what, const char *key,
                     rrm_err *err)
{
    if (len > TMPL_MAX_TOKEN)
        return rrm_errf(err, RRM_E_LIMIT, "template: '%s': %s is %zu bytes, over the limit of %d",
                        what, key, len, TMPL_MAX_TOKEN);
    int64_t bad = tmpl_utf8_check(s, len);
    if (bad >= 0 || memchr(s, 0, len))
        return rrm_errf(err, RRM_E_FORMAT, "template: '%s': %s is not valid UTF-8 text (byte %lld)",
                        what, key, (long long)(bad >= 0 ? bad : (int64_t)strnlen(s, len)));
    *out = rrm_strndup(s, len);
    return *out ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "template: out of memory");
}

/* Builds the object. text may be NULL only with an override; bos/eos NULL = family default. */
static int make(rrm_template **out, const char *text, size_t len, const char *bos, size_t bos_len,
                const char *eos, size_t eos_len, const char *override, const char *what,
                rrm_err *err)
{
    const struct tmpl_family *fam = NULL;
    if (override) {
        fam = tmpl_family_by_name(override);
        if (!fam)
            return rrm_errf(err, RRM_E_UNSUPPORTED,
                            "template: unknown template name '%.64s'; known families: %s", override,
                            rrm_template_known_families());
    } else if (!text) {
        return rrm_errf(err, RRM_E_UNSUPPORTED,
                        "template: '%s' has no chat_template; use --template NAME (known: %s)",
                        what, rrm_template_known_families());
    } else {
        if (len > TMPL_MAX_TEXT)
            return rrm_errf(err, RRM_E_LIMIT,
                            "template: '%s': chat_template is %zu bytes, over the limit of %zu",
                            what, len, TMPL_MAX_TEXT);
        int64_t bad = tmpl_utf8_check(text, len);
        if (bad >= 0)
            return rrm_errf(err, RRM_E_FORMAT,
                            "template: '%s': chat_template is not valid UTF-8 at byte %lld", what,
                            (long long)bad);
        int rc = tmpl_detect(text, len, &fam, err);
        if (rc != RRM_OK) return rrm_err_prefix(err, "'%s'", what);
    }
    rrm_template *t = rrm_calloc(1, sizeof *t);
    if (!t) return rrm_errf(err, RRM_E_NOMEM, "template: out of memory");
    t->fam = fam;
    if (!bos) bos = fam->default_bos, bos_len = strlen(bos);
    if (!eos) eos = fam->default_eos, eos_len = strlen(eos);
    int rc = dup_token(&t->bos, bos, bos_len, what, "bos_token", err);
    if (rc == RRM_OK) rc = dup_token(&t->eos, eos, eos_len, what, "eos_token", err);
    if (rc != RRM_OK) {
        rrm_template_free(t);
        return rc;
    }
    *out = t;
    return RRM_OK;
}

int rrm_template_from_text(rrm_template **out, const char *text, size_t len, const char *bos,
                           const char *eos, const char *override_name, rrm_err *err)
{
    if (!out) return rrm_errf(err, RRM_E_INVAL, "rrm_template_from_text: out is NULL");
    return make(out, text, len, bos, bos ? strlen(bos) : 0, eos, eos ? strlen(eos) : 0,
                override_name, "template text", err);
}

void rrm_template_free(rrm_template *t)
{
    if (!t) return;
    rrm_free(t->bos);
    rrm_free(t->eos);
    rrm_free(t);
}

const char *rrm_template_family(const rrm_template *t)
{
    return t ? t->fam->name : "";
}
const char *rrm_template_bos(const rrm_template *t)
{
    return t ? t->bos : "";
}
const char *rrm_template_eos(const rrm_template *t)
{
    return t ? t->eos : "";
}

/* ---- tokenizer_config.json ---- */

/* bos_token / eos_token: a string, {"content": string}, null or absent (-> *s = NULL). */
static int json_token(json_t *root, const char *key, const char *what, const char **s, size_t *n,
                      rrm_err *err)
{
    json_t *v = json_object_get(root, key);
    *s = NULL;
    *n = 0;
    if (!v || json_is_null(v)) return RRM_OK;
    if (json_is_object(v)) v = json_object_get(v, "content");
    if (!json_is_string(v))
        return rrm_errf(err, RRM_E_FORMAT,
                        "template: '%s': %s must be a string, an object with a string "
                        "\"content\", or null",
                        what, key);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return RRM_OK;
}

/* chat_template: a string, or a list of {"name", "template"} (the one named "default"). */
static int json_chat_template(json_t *root, const char *what, const char **s, size_t *n,
                              rrm_err *err)
{
    json_t *v = json_object_get(root, "chat_template");
    *s = NULL;
    *n = 0;
    if (!v || json_is_null(v)) return RRM_OK;
    if (json_is_array(v)) {
        json_t *def = NULL;
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e = json_array_get(v, i);
            json_t *name = json_object_get(e, "name"), *tx = json_object_get(e, "template");
            if (!json_is_object(e) || !json_is_string(name) || !json_is_string(tx))
                return rrm_errf(err, RRM_E_FORMAT,
                                "template: '%s': chat_template[%zu] is not an object with string "
                                "\"name\" and \"template\"",
                                what, i);
            if (strcmp(json_string_value(name), "default") == 0) def = tx;
        }
        if (!def)
            return rrm_errf(err, RRM_E_FORMAT,
                            "template: '%s': chat_template is a list of %zu named templates and "
                            "none is named \"default\"",
                            what, json_array_size(v));
        v = def;
    }
    if (!json_is_string(v))
        return rrm_errf(err, RRM_E_FORMAT,
                        "template: '%s': chat_template must be a string or a list of "
                        "{\"name\", \"template\"} objects",
                        what);
    *s = json_string_value(v);
    *n = json_string_length(v);
    return RRM_OK;
}

/* Loads from a tokenizer_config.json; `jinja` (may be NULL) overrides its chat_template. */
static int load_config(rrm_template **out, const char *cfg_path, const char *jinja,
                       size_t jinja_len, const char *override, rrm_err *err)
{
    json_t *root = NULL;
    int rc = rrm_json_load_file(&root, cfg_path, TMPL_MAX_CONFIG, err);
    if (rc != RRM_OK) return rrm_err_prefix(err, "template");
    const char *tx = NULL, *bos = NULL, *eos = NULL;
    size_t tx_n = 0, bos_n = 0, eos_n = 0;
    if (!json_is_object(root))
        rc = rrm_errf(err, RRM_E_FORMAT, "template: '%s': top level is not a JSON object",
                      cfg_path);
    if (rc == RRM_OK) rc = json_chat_template(root, cfg_path, &tx, &tx_n, err);
    if (rc == RRM_OK) rc = json_token(root, "bos_token", cfg_path, &bos, &bos_n, err);
    if (rc == RRM_OK) rc = json_token(root, "eos_token", cfg_path, &eos, &eos_n, err);
    if (rc == RRM_OK && jinja) tx = jinja, tx_n = jinja_len;
    if (rc == RRM_OK) rc = make(out, tx, tx_n, bos, bos_n, eos, eos_n, override, cfg_path, err);
    json_decref(root);
    return rc;
}

/* ---- GGUF ---- */

/* The text of token `id_key`'s id in tokenizer.ggml.tokens, or NULL when the key is absent. */
static int gguf_token(const struct gguf_file *f, const char *id_key, const char **s, size_t *n,
                      rrm_err *err)
{
    *s = NULL;
    *n = 0;
    if (gguf_find_key(f, id_key) < 0) return RRM_OK;
    int64_t id;
    int rc = gguf_get_i64(f, id_key, &id, err);
    if (rc == RRM_OK) rc = gguf_get_arr_str(f, "tokenizer.ggml.tokens", id, s, n, err);
    return rc == RRM_OK ? RRM_OK : rrm_err_prefix(err, "template");
}

static int load_gguf(rrm_template **out, const char *path, const char *override, rrm_err *err)
{
    struct gguf_file *f = NULL;
    int rc = gguf_open(&f, path, NULL, err);
    if (rc != RRM_OK) return rrm_err_prefix(err, "template");
    const char *tx = NULL, *bos = NULL, *eos = NULL;
    size_t tx_n = 0, bos_n = 0, eos_n = 0;
    if (gguf_find_key(f, "tokenizer.chat_template") >= 0) {
        rc = gguf_get_str(f, "tokenizer.chat_template", &tx, &tx_n, err);
        if (rc != RRM_OK) rrm_err_prefix(err, "template");
    }
    if (rc == RRM_OK) rc = gguf_token(f, "tokenizer.ggml.bos_token_id", &bos, &bos_n, err);
    if (rc == RRM_OK) rc = gguf_token(f, "tokenizer.ggml.eos_token_id", &eos, &eos_n, err);
    if (rc == RRM_OK && tx && memchr(tx, 0, tx_n))
        rc = rrm_errf(err, RRM_E_FORMAT, "template: '%s': tokenizer.chat_template holds a NUL byte",
                      path);
    if (rc == RRM_OK) rc = make(out, tx, tx_n, bos, bos_n, eos, eos_n, override, path, err);
    gguf_close(f);
    return rc;
}

/* ---- entry point ---- */

static int has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}


static int file_exists(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp) fclose(fp);
    return fp != NULL;
}

static int load_dir(rrm_template **out, const char *dir, const char *override, rrm_err *err)
{
    char *cfg = rrm_path_join(dir, "tokenizer_config.json");
    char *jpath = rrm_path_join(dir, "chat_template.jinja");
    char *jinja = NULL;
    size_t jlen = 0;
    int rc = cfg && jpath ? RRM_OK : rrm_errf(err, RRM_E_NOMEM, "template: out of memory");
    if (rc == RRM_OK && file_exists(jpath)) {
        rc = rrm_read_file(jpath, TMPL_MAX_TEXT, &jinja, &jlen, err);
        if (rc != RRM_OK) rrm_err_prefix(err, "template");
    }
    if (rc == RRM_OK && !file_exists(cfg) && jinja)
        rc = make(out, jinja, jlen, NULL, 0, NULL, 0, override, jpath, err);
    else if (rc == RRM_OK)
        rc = load_config(out, cfg, jinja, jlen, override, err);
    rrm_free(jinja);
    rrm_free(cfg);
    rrm_free(jpath);
    return rc;
}

int rrm_template_load(rrm_template **out, const char *path, const char *override_name,
                      rrm_err *err)
{
    if (!out || !path) return rrm_errf(err, RRM_E_INVAL, "rrm_template_load: NULL argument");
    if (rrm_is_dir(path)) return load_dir(out, path, override_name, err);
    if (gguf_is_file(path)) return load_gguf(out, path, override_name, err);
    if (!has_suffix(path, ".jinja")) return load_config(out, path, NULL, 0, override_name, err);
    char *text = NULL;
    size_t len = 0;
    int rc = rrm_read_file(path, TMPL_MAX_TEXT, &text, &len, err);
    if (rc != RRM_OK) return rrm_err_prefix(err, "template");
    if (memchr(text, 0, len))
        rc = rrm_errf(err, RRM_E_FORMAT, "template: '%s' holds a NUL byte", path);
    else
        rc = make(out, text, len, NULL, 0, NULL, 0, override_name, path, err);
    rrm_free(text);
    return rc;
}

/* ---- rendering ---- */

static const char *const role_names[] = {"system", "user", "assistant", "tool"};

/* Maps and checks every message; fills role[]. */
static int check_messages(const struct tmpl_family *f, const rrm_message *m, size_t n,
                          unsigned char *role, rrm_err *err)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!m[i].role || !m[i].content)
            return rrm_errf(err, RRM_E_INVAL,
                            "template %s: message %zu has no %s (tool calls are not supported)",
                            f->name, i, m[i].role ? "content" : "role");
        int r = -1;
        for (int k = 0; k < 4; k++) {
            if (strcmp(m[i].role, role_names[k]) == 0) r = k;
        }
        if (r < 0 || !(f->roles & TMPL_ROLE_BIT(r)))
            return rrm_errf(err, RRM_E_INVAL,
                            "template %s: message %zu: role '%.32s' is not supported (roles: "
                            "system, user, assistant%s)",
                            f->name, i, m[i].role,
                            (f->roles & TMPL_ROLE_BIT(TMPL_TOOL)) ? ", tool" : "");
        role[i] = (unsigned char)r;
        size_t len = strlen(m[i].content);
        int64_t bad = tmpl_utf8_check(m[i].content, len);
        if (bad >= 0)
            return rrm_errf(err, RRM_E_INVAL,
                            "template %s: message %zu (%s): content is not valid UTF-8 at byte "
                            "%lld of %zu",
                            f->name, i, role_names[r], (long long)bad, len);
        if (!rrm_add_size(&total, total, len) || total > TMPL_MAX_OUTPUT)
            return rrm_errf(err, RRM_E_LIMIT,
                            "template %s: messages 0..%zu hold more than %zu bytes", f->name, i,
                            TMPL_MAX_OUTPUT);
    }
    return RRM_OK;
}

int tmpl_put_content_n(struct tmpl_out *o, const char *s, size_t n)
{
    size_t off = o->s.len;
    int rc = rrm_str_append(&o->s, s, n);
    if (rc != RRM_OK || n == 0) return rc;
    if (o->n_spans && o->spans[o->n_spans - 1].off + o->spans[o->n_spans - 1].len == off) {
        o->spans[o->n_spans - 1].len += n; /* adjacent content: one span */
        return RRM_OK;
    }
    if (o->n_spans == o->cap_spans) {
        size_t cap = o->cap_spans ? 2 * o->cap_spans : 8, bytes;
        if (!rrm_mul_size(&bytes, cap, sizeof *o->spans)) return RRM_E_NOMEM;
        rrm_span *p = rrm_realloc(o->spans, bytes);
        if (!p) return RRM_E_NOMEM;
        o->spans = p;
        o->cap_spans = cap;
    }
    o->spans[o->n_spans++] = (rrm_span){off, n};
    return RRM_OK;
}

int rrm_template_render_spans(const rrm_template *t, const rrm_message *msgs, size_t n_msgs,
                              int add_generation_prompt, char **out_text, size_t *out_len,
                              rrm_span **out_spans, size_t *n_spans, rrm_err *err)
{
    if (!t || (!msgs && n_msgs) || !out_text || !out_len)
        return rrm_errf(err, RRM_E_INVAL, "rrm_template_render: NULL argument");
    const struct tmpl_family *f = t->fam;
    if (n_msgs < (size_t)f->min_msgs)
        return rrm_errf(err, RRM_E_INVAL,
                        "template %s: needs at least %d message(s), got %zu (the template reads "
                        "messages[0])",
                        f->name, f->min_msgs, n_msgs);
    if (n_msgs > ((size_t)1 << 24))
        return rrm_errf(err, RRM_E_LIMIT, "template %s: %zu messages, over the limit of %d",
                        f->name, n_msgs, 1 << 24);
    unsigned char *role = rrm_malloc(n_msgs ? n_msgs : 1);
    if (!role) return rrm_errf(err, RRM_E_NOMEM, "template: out of memory for %zu roles", n_msgs);
    struct tmpl_out o = {0};
    int rc = check_messages(f, msgs, n_msgs, role, err);
    if (rc == RRM_OK) rc = rrm_str_append(&o.s, "", 0); /* an empty result is still a buffer */
    if (rc == RRM_OK) rc = f->render(t, msgs, role, n_msgs, add_generation_prompt != 0, &o);
    if (rc == RRM_E_NOMEM) rrm_errf(err, rc, "template %s: out of memory rendering", f->name);
    if (rc == RRM_OK && o.s.len > TMPL_MAX_OUTPUT)
        rc = rrm_errf(err, RRM_E_LIMIT, "template %s: rendered %zu bytes, over the limit of %zu",
                      f->name, o.s.len, TMPL_MAX_OUTPUT);
    rrm_free(role);
    if (rc != RRM_OK) {
        rrm_str_free(&o.s);
        rrm_free(o.spans);
        return rc;
    }
    *out_text = o.s.p;
    *out_len = o.s.len;
    if (out_spans && n_spans) {
        *out_spans = o.spans;
        *n_spans = o.n_spans;
    } else {
        rrm_free(o.spans);
    }
    return RRM_OK;
}

int rrm_template_render(const rrm_template *t, const rrm_message *msgs, size_t n_msgs,
                        int add_generation_prompt, char **out_text, size_t *out_len,
                        rrm_err *err)
{
    return rrm_template_render_spans(t, msgs, n_msgs, add_generation_prompt, out_text, out_len,
                                     NULL, NULL, err);
}

void rrm_template_text_free(char *text)
{
    rrm_free(text);
}
