/*
 * report.c — DIR/report.json, DIR/report.md and DIR/report.svg from a run's results (sorted by
 * dataset order). Scores are percentages. Accuracy vs k: vote i of a row is sampled with a seed
 * that depends on the row and i only (src/judge/run.c), so the first j votes of a k-vote run are
 * exactly the votes a j-vote run would cast; voting@j for j = 1, 2, 4, ..., k is computed from
 * them. Reference numbers are the seed paper's (DESIGN.md §6) and, for PandaLM, the baselines
 * recomputed from the shipped judge outputs (pandalm/PROVENANCE.md).
 */
#include "eval/eval.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct reference {
    int bench;
    const char *who;
    int k;
    double value;
    const char *metric;
};

static const struct reference refs[] = {
    {EVAL_BENCH_REWARDBENCH, "RRM-7B (paper)", 1, 82.2, "overall"},
    {EVAL_BENCH_REWARDBENCH, "RRM-7B voting@16 (paper)", 16, 84.8, "overall"},
    {EVAL_BENCH_REWARDBENCH, "RRM-32B (paper)", 1, 91.2, "overall"},
    {EVAL_BENCH_REWARDBENCH, "RRM-32B voting@16 (paper)", 16, 91.9, "overall"},
    {EVAL_BENCH_PANDALM, "RRM-7B (paper; tie handling not stated)", 1, 72.9, "paper"},
    {EVAL_BENCH_PANDALM, "RRM-7B voting@16 (paper)", 16, 75.9, "paper"},
    {EVAL_BENCH_PANDALM, "RRM-32B (paper)", 1, 78.8, "paper"},
    {EVAL_BENCH_PANDALM, "RRM-32B voting@16 (paper)", 16, 80.2, "paper"},
    {EVAL_BENCH_PANDALM, "GPT-3.5 (shipped outputs)", 1, 77.40, "overall"},
    {EVAL_BENCH_PANDALM, "GPT-3.5 (shipped outputs)", 1, 69.77, "agreement"},
    {EVAL_BENCH_PANDALM, "PandaLM-7B (shipped outputs)", 1, 71.03, "overall"},
    {EVAL_BENCH_PANDALM, "PandaLM-7B (shipped outputs)", 1, 66.77, "agreement"},
};

static json_t *pct(double x)
{
    return isnan(x) ? json_null() : json_real(round(x * 1e6) / 1e4); /* 4 decimals of a percent */
}

static const char *bench_title(int b)
{
    static const char *const t[] = {"RewardBench", "PandaLM test", "LLMBar", "JudgeBench",
                                    "JSONL"};
    return b >= 0 && b <= 4 ? t[b] : "?";
}

/* Scores of results rs using the first j votes of each row (j = 0: the recorded winner). */
static int score_with(int bench, int both, const struct eval_results *rs, int j,
                      struct eval_scores *sc, rrm_err *err)
{
    struct eval_outcome *o = rrm_calloc((size_t)(rs->n ? rs->n : 1), sizeof *o);
    if (!o) return rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    int rc = RRM_OK;
    for (int64_t i = 0; rc == RRM_OK && i < rs->n; i++) {
        const struct eval_result *r = &rs->r[i];
        o[i].subset = r->subset;
        o[i].gold = r->gold;
        o[i].winner = r->winner;
        if (j > 0) o[i].winner = eval_decide(bench, r->picks, j, EVAL_KEEP_PICKS, both);
    }
    if (rc == RRM_OK) rc = eval_score(bench, both, o, rs->n, sc, err);
    rrm_free(o);
    return rc;
}

struct totals {
    int64_t votes, invalid, gen_tokens, prompt_tokens, errors;
    double seconds;
};

static struct totals totals_of(const struct eval_results *rs)
{
    struct totals t = {0};
    for (int64_t i = 0; i < rs->n; i++) {
        t.votes += rs->r[i].k;
        t.invalid += rs->r[i].n_invalid;
        t.gen_tokens += rs->r[i].gen_tokens;
        t.prompt_tokens += rs->r[i].prompt_tokens;
        t.errors += rs->r[i].error;
        t.seconds += rs->r[i].seconds;
    }
    return t;
}

static double ratio(double a, double b)
{
    return b > 0 ? a / b : NAN;
}

/* Rows of shard i/n of a selection of `sel` rows (row j goes to shard j % n + 1). */
static int64_t shard_rows(int64_t sel, int i, int n)
{
    return sel >= i ? (sel - i) / n + 1 : 0;
}

struct kcurve {
    int n;
    int k[16];
    double overall[16];
};

static json_t *report_json(const struct eval_settings *s, const struct eval_results *rs,
                           const struct eval_scores *sc, const struct kcurve *kc)
{
    json_t *o = json_object(), *subs = json_array(), *secs = json_array(), *rf = json_array();
    struct totals t = totals_of(rs);
    int64_t expected = shard_rows(s->selection_rows, s->shard_i, s->shard_n);
    json_object_set_new(o, "bench", json_string(s->bench));
    json_object_set_new(o, "settings", eval_settings_json(s));
    json_object_set_new(o, "rows", json_integer(rs->n));
    json_object_set_new(o, "rows_expected", json_integer(expected));
    json_object_set_new(o, "complete", json_boolean(rs->n == expected));
    for (int i = 0; i < sc->n_subsets; i++) {
        const struct eval_subset_score *u = &sc->subsets[i];
        json_t *x = json_object();
        json_object_set_new(x, "name", json_string(u->name));
        json_object_set_new(x, "section", u->section ? json_string(u->section) : json_null());
        json_object_set_new(x, "weight", json_real(u->weight));
        json_object_set_new(x, "rows", json_integer(u->rows));
        json_object_set_new(x, "correct", json_integer(u->correct));
        json_object_set_new(x, "wrong", json_integer(u->wrong));
        json_object_set_new(x, "no_decision", json_integer(u->no_decision));
        json_object_set_new(x, "ties", json_integer(u->ties));
        json_object_set_new(x, "accuracy", pct(u->score));
        json_array_append_new(subs, x);
    }
    for (int i = 0; i < sc->n_sections; i++) {
        const struct eval_section_score *c = &sc->sections[i];
        json_t *x = json_object();
        json_object_set_new(x, "name", json_string(c->name));
        json_object_set_new(x, "score", pct(c->score));
        json_object_set_new(x, "subsets_present", json_integer(c->subsets_present));
        json_object_set_new(x, "subsets_total", json_integer(c->subsets_total));
        json_array_append_new(secs, x);
    }
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
        if (refs[i].bench != sc->bench) continue;
        json_t *x = json_object();
        json_object_set_new(x, "judge", json_string(refs[i].who));
        json_object_set_new(x, "k", json_integer(refs[i].k));
        json_object_set_new(x, "metric", json_string(refs[i].metric));
        json_object_set_new(x, "value", json_real(refs[i].value));
        json_array_append_new(rf, x);
    }
    json_object_set_new(o, "subsets", subs);
    json_object_set_new(o, "sections", secs);
    json_object_set_new(o, "overall", pct(sc->overall));
    json_object_set_new(o, "overall_partial", json_boolean(sc->overall_partial));
    if (sc->bench == EVAL_BENCH_PANDALM || sc->bench == EVAL_BENCH_JSONL)
        json_object_set_new(o, "agreement", pct(sc->agreement));
    json_object_set_new(o, "reference", rf);
    json_object_set_new(o, "invalid_vote_rate", pct(ratio((double)t.invalid, (double)t.votes)));
    json_object_set_new(o, "no_decision_rate", pct(ratio((double)sc->no_decision,
                                                         (double)sc->rows)));
    json_object_set_new(o, "rows_not_judged", json_integer(t.errors));
    json_object_set_new(o, "mean_reasoning_tokens",
                        json_real(round(100 * ratio((double)t.gen_tokens, (double)t.votes)) /
                                  100));
    json_object_set_new(o, "mean_prompt_tokens",
                        json_real(round(100 * ratio((double)t.prompt_tokens, (double)rs->n)) /
                                  100));
    json_t *kv = json_array();
    for (int i = 0; i < kc->n; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "k", json_integer(kc->k[i]));
        json_object_set_new(x, "overall", pct(kc->overall[i]));
        json_array_append_new(kv, x);
    }
    json_object_set_new(o, "accuracy_vs_k", kv);
    json_t *tm = json_object();
    json_object_set_new(tm, "seconds", json_real(t.seconds));
    json_object_set_new(tm, "judgments_per_hour", json_real(3600 * ratio((double)rs->n,
                                                                         t.seconds)));
    json_object_set_new(tm, "generated_tokens_per_s", json_real(ratio((double)t.gen_tokens,
                                                                      t.seconds)));
    json_object_set_new(o, "timing", tm);
    return o;
}

static void md_pct(struct rrm_str *m, double x)
{
    if (isnan(x)) rrm_str_appendf(m, "–");
    else rrm_str_appendf(m, "%.1f", 100 * x);
}

/* Markdown table cells must not contain '|' or newlines (subset names come from data). */
static void md_text(struct rrm_str *m, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') rrm_str_append(m, "\\|", 2);
        else if (*s == '\n' || *s == '\r') rrm_str_append(m, " ", 1);
        else rrm_str_append(m, s, 1);
    }
}

static int report_md(struct rrm_str *m, const struct eval_settings *s,
                     const struct eval_results *rs, const struct eval_scores *sc,
                     const struct kcurve *kc)
{
    struct totals t = totals_of(rs);
    int64_t expected = shard_rows(s->selection_rows, s->shard_i, s->shard_n);
    rrm_str_appendf(m, "# rrm eval: %s\n\n", bench_title(sc->bench));
    rrm_str_appendf(m, "- benchmark: `%s`, data hash %s\n", s->bench, s->data_hash);
    rrm_str_appendf(m, "- model: `%s` (fingerprint %s)\n", s->model, s->model_id);
    rrm_str_appendf(m, "- k = %lld votes, seed %llu, temperature %g, top-p %g, max tokens %lld, "
                       "think budget %lld\n", (long long)s->k, (unsigned long long)s->seed,
                    s->temperature, s->top_p, (long long)s->max_tokens,
                    (long long)s->think_budget);
    rrm_str_appendf(m, "- rows: %lld of %lld%s", (long long)rs->n, (long long)expected,
                    rs->n == expected ? "" : " (**incomplete**)");
    if (s->shard_n > 1) rrm_str_appendf(m, ", shard %d/%d", s->shard_i, s->shard_n);
    if (s->limit) rrm_str_appendf(m, ", --limit %lld", (long long)s->limit);
    if (s->subsets[0]) rrm_str_appendf(m, ", --subset %s", s->subsets);
    if (s->both_orders)
        rrm_str_appendf(m, "\n- both orders: every row judged with each response first (2 x k "
                           "votes)");
    if (s->both_orders && sc->bench == EVAL_BENCH_JUDGEBENCH)
        rrm_str_appendf(m, "\n- scoring (JudgeBench official): each order's majority counts +1 "
                           "for the label and -1 against; a row is correct when the sum is > 0, "
                           "else it scores 0\n\n");
    else
        rrm_str_appendf(m, "\n- scoring: a row scores 1 for the gold side, 0 for the other, 0.5 "
                           "with no decision (all votes invalid or a tie of votes)%s\n\n",
                        sc->bench == EVAL_BENCH_JUDGEBENCH
                            ? "; JudgeBench's official rule judges both orders: --both-orders"
                            : "");
    rrm_str_appendf(m, "## Overall\n\n| judge | k | %s |\n|---|---|---|\n",
                    sc->bench == EVAL_BENCH_PANDALM ? "accuracy (non-tie rows)" : "score");
    rrm_str_appendf(m, "| **this run** | %lld | **", (long long)s->k);
    md_pct(m, sc->overall);
    rrm_str_appendf(m, "**%s |\n", sc->overall_partial ? " (partial)" : "");
    for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
        if (refs[i].bench == sc->bench && strcmp(refs[i].metric, "agreement") != 0)
            rrm_str_appendf(m, "| %s | %d | %.1f |\n", refs[i].who, refs[i].k, refs[i].value);
    if (sc->bench == EVAL_BENCH_PANDALM || sc->bench == EVAL_BENCH_JSONL) {
        rrm_str_appendf(m, "\n3-class agreement on all %lld rows (no decision = tie): **",
                        (long long)sc->rows);
        md_pct(m, sc->agreement);
        rrm_str_appendf(m, "**");
        for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++)
            if (refs[i].bench == sc->bench && strcmp(refs[i].metric, "agreement") == 0)
                rrm_str_appendf(m, "; %s %.2f", refs[i].who, refs[i].value);
        rrm_str_appendf(m, "\n");
    }
    if (sc->n_sections) {
        rrm_str_appendf(m, "\n## Sections\n\n| section | score | subsets with rows |\n"
                           "|---|---|---|\n");
        for (int i = 0; i < sc->n_sections; i++) {
            const struct eval_section_score *c = &sc->sections[i];
            rrm_str_appendf(m, "| %s | ", c->name);
            md_pct(m, c->score);
            rrm_str_appendf(m, " | %d of %d |\n", c->subsets_present, c->subsets_total);
        }
    }
    rrm_str_appendf(m, "\n## Subsets\n\n| subset | section | weight | rows | accuracy | correct "
                       "| wrong | no decision | gold ties |\n");
    rrm_str_appendf(m, "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < sc->n_subsets; i++) {
        const struct eval_subset_score *u = &sc->subsets[i];
        rrm_str_appendf(m, "| ");
        md_text(m, u->name);
        rrm_str_appendf(m, " | %s | ", u->section ? u->section : "");
        if (u->weight > 0) rrm_str_appendf(m, "%g", u->weight);
        else rrm_str_appendf(m, "rows");
        rrm_str_appendf(m, " | %lld | ", (long long)u->rows);
        md_pct(m, u->score);
        rrm_str_appendf(m, " | %lld | %lld | %lld | %lld |\n", (long long)u->correct,
                        (long long)u->wrong, (long long)u->no_decision, (long long)u->ties);
    }
    if (kc->n > 1) {
        rrm_str_appendf(m, "\n## Accuracy vs k (majority of the first k votes)\n\n| k | score |\n"
                           "|---|---|\n");
        for (int i = 0; i < kc->n; i++) {
            rrm_str_appendf(m, "| %d | ", kc->k[i]);
            md_pct(m, kc->overall[i]);
            rrm_str_appendf(m, " |\n");
        }
    }
    rrm_str_appendf(m, "\n## Votes\n\n- invalid-vote rate: ");
    md_pct(m, ratio((double)t.invalid, (double)t.votes));
    rrm_str_appendf(m, "%% of %lld votes\n- no-decision rate: ", (long long)t.votes);
    md_pct(m, ratio((double)sc->no_decision, (double)sc->rows));
    rrm_str_appendf(m, "%% of rows\n- rows not judged (prompt over the context, bad text; scored "
                       "as no decision): %lld\n", (long long)t.errors);
    rrm_str_appendf(m, "- mean reasoning tokens per vote: %.1f; mean prompt tokens: %.1f\n\n",
                    ratio((double)t.gen_tokens, (double)t.votes),
                    ratio((double)t.prompt_tokens, (double)rs->n));
    return rrm_str_appendf(m, "Time: %.1f s judging, %.1f judgments/hour, %.1f generated "
                              "tokens/s\n", t.seconds, 3600 * ratio((double)rs->n, t.seconds),
                           ratio((double)t.gen_tokens, t.seconds));
}

static void svg_text(struct rrm_str *m, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': rrm_str_appendf(m, "&amp;"); break;
        case '<': rrm_str_appendf(m, "&lt;"); break;
        case '>': rrm_str_appendf(m, "&gt;"); break;
        case '"': rrm_str_appendf(m, "&quot;"); break;
        default:
            if ((unsigned char)*s >= 0x20) rrm_str_append(m, s, 1);
        }
    }
}

/* Horizontal bars of per-subset accuracy (a dashed line at 50% = chance), then a line chart of
 * accuracy vs k when the run has more than one vote. */
static int report_svg(struct rrm_str *m, const struct eval_scores *sc, const struct kcurve *kc)
{
    const int left = 210, width = 400, row = 18, top = 40;
    int h_bars = top + row * sc->n_subsets + 30, h_k = kc->n > 1 ? 230 : 0;
    int W = left + width + 70, H = h_bars + h_k;
    rrm_str_appendf(m, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                       "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
    rrm_str_appendf(m, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    rrm_str_appendf(m, "<text x=\"10\" y=\"22\" font-size=\"15\">%s: accuracy per subset (%%)"
                       "</text>\n", bench_title(sc->bench));
    for (int i = 0; i < sc->n_subsets; i++) {
        const struct eval_subset_score *u = &sc->subsets[i];
        int y = top + i * row;
        rrm_str_appendf(m, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">", left - 6, y + 13);
        svg_text(m, u->name);
        rrm_str_appendf(m, "</text>\n");
        if (isnan(u->score)) {
            rrm_str_appendf(m, "<text x=\"%d\" y=\"%d\" fill=\"#888\">no rows</text>\n",
                            left + 4, y + 13);
            continue;
        }
        rrm_str_appendf(m, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
                           "fill=\"#4878a8\"/>\n", left, y + 2, u->score * width, row - 4);
        rrm_str_appendf(m, "<text x=\"%.1f\" y=\"%d\">%.1f</text>\n",
                        left + u->score * width + 4, y + 13, 100 * u->score);
    }
    int yb = top + row * sc->n_subsets;
    rrm_str_appendf(m, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#c33\" "
                       "stroke-dasharray=\"4 3\"/>\n", left + width / 2, top - 4,
                    left + width / 2, yb + 4);
    rrm_str_appendf(m, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", left,
                    top - 4, left, yb + 4);
    for (int p = 0; p <= 100; p += 25)
        rrm_str_appendf(m, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%d"
                           "</text>\n", left + p * width / 100, yb + 20, p);
    if (kc->n > 1) {
        int y0 = h_bars + 30, ph = 150, x0 = left;
        double lo = 1, hi = 0;
        for (int i = 0; i < kc->n; i++) {
            if (isnan(kc->overall[i])) continue;
            lo = fmin(lo, kc->overall[i]);
            hi = fmax(hi, kc->overall[i]);
        }
        if (hi < lo) lo = 0, hi = 1;
        lo = fmax(0, floor(lo * 20 - 1) / 20);
        hi = fmin(1, ceil(hi * 20 + 1) / 20);
        rrm_str_appendf(m, "<text x=\"10\" y=\"%d\" font-size=\"15\">overall score vs k "
                           "(voting@k)</text>\n", y0 - 10);
        rrm_str_appendf(m, "<polyline fill=\"none\" stroke=\"#4878a8\" stroke-width=\"2\" "
                           "points=\"");
        for (int i = 0; i < kc->n; i++) {
            if (isnan(kc->overall[i])) continue;
            double x = x0 + (kc->n > 1 ? (double)i * width / (kc->n - 1) : 0);
            double y = y0 + ph - (kc->overall[i] - lo) / (hi - lo) * ph;
            rrm_str_appendf(m, "%.1f,%.1f ", x, y);
        }
        rrm_str_appendf(m, "\"/>\n");
        for (int i = 0; i < kc->n; i++) {
            double x = x0 + (double)i * width / (kc->n - 1);
            rrm_str_appendf(m, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">k=%d</text>\n", x,
                            y0 + ph + 18, kc->k[i]);
            if (isnan(kc->overall[i])) continue;
            double y = y0 + ph - (kc->overall[i] - lo) / (hi - lo) * ph;
            rrm_str_appendf(m, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#4878a8\"/>"
                               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f</text>\n",
                            x, y, x, y - 7, 100 * kc->overall[i]);
        }
        rrm_str_appendf(m, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f</text>\n<text "
                           "x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f</text>\n", x0 - 6,
                        y0 + ph, 100 * lo, x0 - 6, y0 + 10, 100 * hi);
    }
    return rrm_str_appendf(m, "</svg>\n");
}

static int write_text(const char *dir, const char *name, const struct rrm_str *m, rrm_err *err)
{
    char *path = rrm_path_join(dir, name);
    int rc = path ? rrm_write_file(path, m->p ? m->p : "", m->len, err)
                  : rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    rrm_free(path);
    return rc;
}

int eval_report_write(const char *dir, const struct eval_settings *s,
                      const struct eval_results *rs, struct eval_scores *scores, rrm_err *err)
{
    int bench = eval_bench_parse(s->bench, err);
    if (bench < 0) return bench;
    struct eval_scores sc;
    int rc = score_with(bench, s->both_orders, rs, 0, &sc, err);
    if (rc != RRM_OK) return rc;
    struct kcurve kc = {0};
    int kmax = s->k < EVAL_KEEP_PICKS ? (int)s->k : EVAL_KEEP_PICKS;
    for (int j = 1; rc == RRM_OK && kmax > 1; j *= 2) {
        if (j > kmax) j = kmax; /* 1, 2, 4, ..., then k itself */
        struct eval_scores sj;
        rc = score_with(bench, s->both_orders, rs, j, &sj, err);
        kc.k[kc.n] = j;
        kc.overall[kc.n++] = sj.overall;
        if (j == kmax) break;
    }
    if (rc != RRM_OK) return rc;
    json_t *j = report_json(s, rs, &sc, &kc);
    char *js = NULL;
    rc = j ? rrm_json_dump(j, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(10), &js, err)
           : rrm_errf(err, RRM_E_NOMEM, "eval: out of memory");
    json_decref(j);
    struct rrm_str m = {0};
    if (rc == RRM_OK) rc = rrm_str_appendf(&m, "%s\n", js);
    if (rc == RRM_OK) rc = write_text(dir, "report.json", &m, err);
    rrm_free(js);
    rrm_str_free(&m);
    if (rc == RRM_OK) rc = report_md(&m, s, rs, &sc, &kc);
    if (rc == RRM_OK) rc = write_text(dir, "report.md", &m, err);
    rrm_str_free(&m);
    if (rc == RRM_OK) rc = report_svg(&m, &sc, &kc);
    if (rc == RRM_OK) rc = write_text(dir, "report.svg", &m, err);
    rrm_str_free(&m);
    if (rc == RRM_OK && scores) *scores = sc;
    return rc;
}
