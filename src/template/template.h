/*
 * template.h — internal interface of the chat-template module. rrm does not interpret Jinja: each
 * known family is rendered by a C function that reproduces the model's own `chat_template`
 * exactly (checked against @huggingface/jinja in tests/golden/template_jinja.sh), and detect.c
 * maps a template text to its family by the distinctive statements the renderer relies on.
 * One file per family: deepseek_r1.c, chatml.c, llama3.c. Renderers get validated input (roles
 * known to the family, content valid UTF-8) and only fail on allocation.
 */
#ifndef RRM_TEMPLATE_H
#define RRM_TEMPLATE_H

#include "core/core.h"

/* Roles a family may accept (bit i = enum value i). */
enum tmpl_role { TMPL_SYSTEM = 0, TMPL_USER = 1, TMPL_ASSISTANT = 2, TMPL_TOOL = 3 };
#define TMPL_ROLE_BIT(r) (1u << (r))

/* Hard caps on untrusted sizes. */
#define TMPL_MAX_TEXT ((size_t)1 << 20)        /* a chat_template text */
#define TMPL_MAX_CONFIG ((size_t)1 << 26)      /* a tokenizer_config.json */
#define TMPL_MAX_TOKEN 1024                    /* a BOS/EOS token string */
#define TMPL_MAX_OUTPUT ((size_t)1 << 30)      /* one rendered conversation */

struct tmpl_family;

struct rrm_template {
    const struct tmpl_family *fam;
    char *bos; /* never NULL ("" when none) */
    char *eos; /* never NULL */
};

/* Rendered text plus the byte ranges of it that were copied from message content (so the
 * tokenizer can treat exactly those bytes as plain text: a response that contains
 * "<｜User｜>" must not become the special token). Spans are in increasing order. */
struct tmpl_out {
    struct rrm_str s;
    rrm_span *spans;
    size_t n_spans, cap_spans;
};

/* Renders validated messages (role[i] is the enum of msgs[i].role) into out. Returns RRM_OK or
 * RRM_E_NOMEM. Template text goes through tmpl_put, message content through tmpl_put_content. */
typedef int (*tmpl_render_fn)(const struct rrm_template *t, const rrm_message *msgs,
                              const unsigned char *role, size_t n, int add_gen,
                              struct tmpl_out *out);

struct tmpl_family {
    const char *name;
    const char *what;         /* one line for messages: "DeepSeek-R1 (January 2025)" */
    const char *default_bos;  /* used when the source names none */
    const char *default_eos;
    unsigned roles;           /* TMPL_ROLE_BIT set */
    int min_msgs;             /* the Jinja template fails on fewer (messages[0] undefined) */
    tmpl_render_fn render;
    const char *const *markers;   /* NULL-terminated; all must occur in the template text */
    const char *const *forbidden; /* NULL-terminated; none may occur */
    int n_outputs;            /* occurrences of "{{" in the known template text */
};

extern const struct tmpl_family tmpl_deepseek_r1;
extern const struct tmpl_family tmpl_deepseek_r1_think;
extern const struct tmpl_family tmpl_chatml_qwen25;
extern const struct tmpl_family tmpl_chatml_qwen2;
extern const struct tmpl_family tmpl_llama3;

/* All families, in detection order; NULL-terminated. */
extern const struct tmpl_family *const tmpl_families[];

/* Family by exact name, or NULL. */
const struct tmpl_family *tmpl_family_by_name(const char *name);
/* Detects the family of a template text (len bytes). RRM_E_UNSUPPORTED with a message naming
 * the known families when none matches. */
int tmpl_detect(const char *text, size_t len, const struct tmpl_family **out, rrm_err *err);

/* Appends a NUL-terminated string of template text; RRM_E_NOMEM on failure. */
static inline int tmpl_put(struct tmpl_out *o, const char *s)
{
    return rrm_str_append(&o->s, s, strlen(s));
}
/* Appends n bytes of message content and records their span (template.c). */
int tmpl_put_content_n(struct tmpl_out *o, const char *s, size_t n);
static inline int tmpl_put_content(struct tmpl_out *o, const char *s)
{
    return tmpl_put_content_n(o, s, strlen(s));
}

/* Validates UTF-8 (no overlongs, surrogates or code points past U+10FFFF) over len bytes.
 * Returns -1 when valid, else the byte offset of the first bad sequence. */
int64_t tmpl_utf8_check(const char *s, size_t len);


/* ---- messages JSON (messages.c) ---- */

/* Reads `[{"role": "...", "content": "..."}, ...]` into a new array of n messages (rrm_free)
 * whose strings are borrowed from `arr` (valid while it lives). Keys other than role/content
 * are ignored, except a non-empty "tool_calls" (RRM_E_UNSUPPORTED). RRM_E_FORMAT names the
 * index of a bad entry; `what` names the source in messages. */
int tmpl_messages_from_json(const json_t *arr, const char *what, rrm_message **out, size_t *n,
                            rrm_err *err);

#endif /* RRM_TEMPLATE_H */
