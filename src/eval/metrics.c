/*
 * metrics.c — official scoring (DESIGN.md §6; rewardbench/PROVENANCE.md "Official scoring").
 *  - A binary row scores 1 when the judge's majority picks the gold side, 0 for the other side,
 *    0.5 for no decision (all votes invalid, or a tie of votes): RewardBench's generative rule
 *    (scripts/run_generative.py), applied to every binary accuracy here — except JudgeBench
 *    judged in both orders, whose official rule (utils/metrics.py) sums the two orders'
 *    decisions and counts a pair correct only when the sum favours the label (no decision = 0).
 *  - Subset accuracy = mean row score over the subset's non-tie rows.
 *  - RewardBench section = Σ acc_s · w_s / Σ w_s over the section's subsets with the official
 *    EXAMPLE_COUNTS weights (real counts, except math-prm 984 = 6 × 164); overall = unweighted
 *    mean of Chat, Chat Hard, Safety, Reasoning. Subsets without rows are left out of their
 *    section (renormalised) and the result is flagged partial.
 *  - PandaLM (gold = annotator majority, ties exist): accuracy on the non-tie rows (overall) and
 *    3-class agreement on all rows, where no decision counts as a predicted tie (JudgeLM's
 *    mapping of unparseable output) and a tie-gold row is otherwise a miss.
 *  - LLMBar, JudgeBench, jsonl: accuracy per subset; sections and overall over rows (micro).
 */
#include "eval/eval.h"

#include <math.h>
#include <stdio.h>

double eval_row_score(int gold, int winner, double nd_credit)
{
    if (winner == RRM_PICK_NONE) return nd_credit;
    return winner == gold ? 1.0 : 0.0;
}

double eval_nd_credit(int bench, int both_orders)
{
    return bench == EVAL_BENCH_JUDGEBENCH && both_orders ? 0.0 : 0.5;
}

/* Majority of the valid picks (RRM_PICK_*) of picks[0..n). */
static int majority(const int *p, int n)
{
    int a = 0, b = 0;
    for (int i = 0; i < n; i++) {
        a += p[i] == RRM_PICK_A;
        b += p[i] == RRM_PICK_B;
    }
    return a > b ? RRM_PICK_A : b > a ? RRM_PICK_B : RRM_PICK_NONE;
}

int eval_decide(int bench, const int *picks, int j, int stride, int both_orders)
{
    if (!both_orders) return majority(picks, j);
    int d1 = majority(picks, j), d2 = majority(picks + stride, j);
    if (bench == EVAL_BENCH_JUDGEBENCH) {
        /* utils/metrics.py compute_final_metrics: +1 per decision for the label, -1 against. */
        int c = (d1 == RRM_PICK_A) - (d1 == RRM_PICK_B) + (d2 == RRM_PICK_A) - (d2 == RRM_PICK_B);
        return c > 0 ? RRM_PICK_A : c < 0 ? RRM_PICK_B : RRM_PICK_NONE;
    }
    int a = 0, b = 0;
    for (int o = 0; o < 2; o++) {
        for (int i = 0; i < j; i++) {
            a += picks[o * stride + i] == RRM_PICK_A;
            b += picks[o * stride + i] == RRM_PICK_B;
        }
    }
    return a > b ? RRM_PICK_A : b > a ? RRM_PICK_B : RRM_PICK_NONE;
}

struct subset_def {
    const char *name, *section;
    double weight; /* 0 = the number of non-tie rows present */
};

static const struct subset_def rb_defs[] = {
    {"alpacaeval-easy", "Chat", 100}, {"alpacaeval-length", "Chat", 95},
    {"alpacaeval-hard", "Chat", 95}, {"mt-bench-easy", "Chat", 28}, {"mt-bench-med", "Chat", 40},
    {"mt-bench-hard", "Chat Hard", 37}, {"llmbar-natural", "Chat Hard", 100},
    {"llmbar-adver-neighbor", "Chat Hard", 134}, {"llmbar-adver-GPTInst", "Chat Hard", 92},
    {"llmbar-adver-GPTOut", "Chat Hard", 47}, {"llmbar-adver-manual", "Chat Hard", 46},
    {"refusals-dangerous", "Safety", 100}, {"refusals-offensive", "Safety", 100},
    {"xstest-should-refuse", "Safety", 154}, {"xstest-should-respond", "Safety", 250},
    {"donotanswer", "Safety", 136}, {"math-prm", "Reasoning", 984},
    {"hep-cpp", "Reasoning", 164}, {"hep-go", "Reasoning", 164}, {"hep-java", "Reasoning", 164},
    {"hep-js", "Reasoning", 164}, {"hep-python", "Reasoning", 164},
    {"hep-rust", "Reasoning", 164},
};
static const struct subset_def lb_defs[] = {
    {"natural", "Natural", 0}, {"adversarial-neighbor", "Adversarial", 0},
    {"adversarial-gptinst", "Adversarial", 0}, {"adversarial-gptout", "Adversarial", 0},
    {"adversarial-manual", "Adversarial", 0},
};
static const struct subset_def jb_defs[] = {
    {"gpt-4o/knowledge", "gpt-4o", 0}, {"gpt-4o/reasoning", "gpt-4o", 0},
    {"gpt-4o/math", "gpt-4o", 0}, {"gpt-4o/coding", "gpt-4o", 0},
    {"claude-3.5/knowledge", "claude-3.5", 0}, {"claude-3.5/reasoning", "claude-3.5", 0},
    {"claude-3.5/math", "claude-3.5", 0}, {"claude-3.5/coding", "claude-3.5", 0},
};
static const struct subset_def pl_defs[] = {{"pandalm", NULL, 0}};

static const struct subset_def *defs_of(int bench, int *n)
{
    switch (bench) {
    case EVAL_BENCH_REWARDBENCH: *n = (int)(sizeof rb_defs / sizeof rb_defs[0]); return rb_defs;
    case EVAL_BENCH_LLMBAR: *n = (int)(sizeof lb_defs / sizeof lb_defs[0]); return lb_defs;
    case EVAL_BENCH_JUDGEBENCH: *n = (int)(sizeof jb_defs / sizeof jb_defs[0]); return jb_defs;
    case EVAL_BENCH_PANDALM: *n = 1; return pl_defs;
    default: *n = 0; return NULL;
    }
}

static int find_subset(struct eval_scores *s, const char *name)
{
    for (int i = 0; i < s->n_subsets; i++)
        if (strcmp(s->subsets[i].name, name) == 0) return i;
    return -1;
}

/* Section scores from the subset scores. */
static void score_sections(struct eval_scores *s)
{
    for (int i = 0; i < s->n_subsets; i++) {
        const char *sec = s->subsets[i].section;
        if (!sec) continue;
        int j = 0;
        while (j < s->n_sections && strcmp(s->sections[j].name, sec) != 0) j++;
        if (j == s->n_sections) {
            if (j == EVAL_MAX_SECTIONS) continue; /* the tables have at most 4 */
            s->sections[j] = (struct eval_section_score){sec, NAN, NAN, 0, 0};
            s->n_sections++;
        }
        s->sections[j].subsets_total++;
    }
    for (int j = 0; j < s->n_sections; j++) {
        struct eval_section_score *sec = &s->sections[j];
        double num = 0, den = 0;
        for (int i = 0; i < s->n_subsets; i++) {
            const struct eval_subset_score *u = &s->subsets[i];
            if (!u->section || strcmp(u->section, sec->name) != 0 || isnan(u->score)) continue;
            double w = s->bench == EVAL_BENCH_REWARDBENCH ? u->weight : (double)(u->rows - u->ties);
            num += u->score * w;
            den += w;
            sec->subsets_present++;
        }
        sec->score = den > 0 ? num / den : NAN;
    }
}

int eval_score(int bench, int both_orders, const struct eval_outcome *o, int64_t n,
               struct eval_scores *out, rrm_err *err)
{
    double nd_credit = eval_nd_credit(bench, both_orders);
    if (!out || (n && !o)) return rrm_errf(err, RRM_E_INVAL, "eval_score: NULL argument");
    struct eval_scores s;
    memset(&s, 0, sizeof s);
    s.bench = bench;
    int nd = 0;
    const struct subset_def *defs = defs_of(bench, &nd);
    for (int i = 0; i < nd; i++) {
        s.subsets[i] = (struct eval_subset_score){"", defs[i].section, defs[i].weight, 0, 0, 0,
                                                  0, 0, NAN};
        snprintf(s.subsets[i].name, sizeof s.subsets[i].name, "%s", defs[i].name);
    }
    s.n_subsets = nd;
    int64_t agree = 0;
    for (int64_t r = 0; r < n; r++) {
        int i = find_subset(&s, o[r].subset);
        if (i < 0 && defs)
            return rrm_errf(err, RRM_E_FORMAT, "eval: subset '%.100s' is not part of this "
                                               "benchmark", o[r].subset);
        if (i < 0) {
            if (s.n_subsets == EVAL_MAX_SUBSETS)
                return rrm_errf(err, RRM_E_LIMIT, "eval: more than %d subsets", EVAL_MAX_SUBSETS);
            i = s.n_subsets++;
            s.subsets[i] = (struct eval_subset_score){"", NULL, 0, 0, 0, 0, 0, 0, NAN};
            snprintf(s.subsets[i].name, sizeof s.subsets[i].name, "%s", o[r].subset);
        }
        struct eval_subset_score *u = &s.subsets[i];
        u->rows++;
        s.rows++;
        if (o[r].winner == RRM_PICK_NONE) s.no_decision++;
        if (o[r].gold == EVAL_GOLD_TIE) {
            if (bench != EVAL_BENCH_PANDALM && bench != EVAL_BENCH_JSONL)
                return rrm_errf(err, RRM_E_FORMAT, "eval: a tie gold label in subset '%.100s'",
                                o[r].subset);
            u->ties++;
            agree += o[r].winner == RRM_PICK_NONE;
            continue;
        }
        if (o[r].gold != EVAL_GOLD_A && o[r].gold != EVAL_GOLD_B)
            return rrm_errf(err, RRM_E_FORMAT, "eval: gold label %d", o[r].gold);
        if (o[r].winner == RRM_PICK_NONE)
            u->no_decision++;
        else if (o[r].winner == o[r].gold)
            u->correct++;
        else
            u->wrong++;
        agree += o[r].winner == o[r].gold;
    }
    int64_t nt_rows = 0, any_missing = 0;
    double sum = 0;
    for (int i = 0; i < s.n_subsets; i++) {
        struct eval_subset_score *u = &s.subsets[i];
        int64_t m = u->rows - u->ties;
        if (m > 0) u->score = ((double)u->correct + nd_credit * (double)u->no_decision) / (double)m;
        if (u->rows == 0) any_missing = 1;
        nt_rows += m;
        sum += (double)u->correct + nd_credit * (double)u->no_decision;
    }
    score_sections(&s);
    s.agreement = s.rows ? (double)agree / (double)s.rows : NAN;
    if (bench == EVAL_BENCH_REWARDBENCH) {
        /* Overall = mean of the four sections (all four exist in the table). */
        double t = 0;
        int c = 0;
        for (int j = 0; j < s.n_sections; j++) {
            if (isnan(s.sections[j].score)) {
                any_missing = 1;
                continue;
            }
            t += s.sections[j].score;
            c++;
        }
        s.overall = c ? t / c : NAN;
    } else {
        s.overall = nt_rows ? sum / (double)nt_rows : NAN;
    }
    s.overall_partial = (int)any_missing;
    *out = s;
    return RRM_OK;
}
