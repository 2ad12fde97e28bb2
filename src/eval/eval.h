/*
 * eval.h — internal interface of src/eval: benchmark readers (RewardBench, PandaLM, LLMBar,
 * JudgeBench, generic JSONL), official scoring, resumable runs (DIR/run.json + an append-only,
 * fsynced DIR/results.jsonl), shard merging and reports (report.json / .md / .svg).
 * Data and scoring rules: DESIGN.md §6 and ../shared/data/<bench>/PROVENANCE.md.
 *
 * Invariants: a row is identified by (subset, id); its position order and its sampling seeds
 * derive from the seed and eval_row_key(subset, id) only, so batching, sharding and resuming never
 * change a row's result. Nothing here prints: bad rows and progress go through callbacks.
 */
#ifndef RRM_EVAL_H
#define RRM_EVAL_H

#include "core/core.h"

#include <stdio.h>

/* Gold preference in the dataset's own terms: a = chosen / response1 / output_1 / response_A. */
enum eval_gold { EVAL_GOLD_TIE = 0, EVAL_GOLD_A = 1, EVAL_GOLD_B = 2 };

enum eval_bench {
    EVAL_BENCH_REWARDBENCH = 0,
    EVAL_BENCH_PANDALM = 1,
    EVAL_BENCH_LLMBAR = 2,
    EVAL_BENCH_JUDGEBENCH = 3,
    EVAL_BENCH_JSONL = 4,
};

/* Largest dataset file read (bytes) and largest row (bytes). */
#define EVAL_MAX_FILE ((size_t)1 << 30)
#define EVAL_MAX_ROW ((size_t)64 << 20)

struct eval_row {
    char *subset, *id;           /* owned, NUL-terminated */
    char *prompt, *a, *b;        /* owned UTF-8 */
    size_t prompt_len, a_len, b_len;
    int gold;                    /* enum eval_gold */
    int64_t ordinal;             /* position in the whole dataset (all files, all subsets) */
    uint64_t key;                /* eval_row_key(subset, id) */
};

/* Reports one malformed row: file, 1-based line of the row's first byte, and what is wrong. */
typedef void (*eval_bad_row_fn)(const char *file, int64_t line, const char *msg, void *user);

struct eval_dataset {
    int bench;                   /* enum eval_bench */
    char *name;                  /* "rewardbench", ..., or "jsonl:FILE" */
    struct eval_row *rows;
    int64_t n_rows;
    char **files;                /* paths read, in order */
    int n_files;
    uint64_t data_hash;          /* FNV-1a 64 of every file's bytes, in order */
    int64_t n_bad;               /* malformed rows skipped */
};

/* FNV-1a 64 (http://www.isthe.com/chongo/tech/comp/fnv/), continued from h (start with
 * EVAL_FNV_INIT). */
#define EVAL_FNV_INIT 0xcbf29ce484222325ull
uint64_t eval_fnv(uint64_t h, const void *data, size_t n);
/* Row key: FNV-1a of subset, a NUL byte and id. */
uint64_t eval_row_key(const char *subset, const char *id);

/* Parses a benchmark name: "rewardbench", "pandalm", "llmbar", "judgebench" or "jsonl:FILE".
 * Returns the enum value or RRM_E_INVAL (message lists the names). */
int eval_bench_parse(const char *name, rrm_err *err);

/* Loads a benchmark. data_dir is the folder holding rewardbench/, pandalm/, ... (unused for
 * jsonl:FILE). With fail_bad == 0 malformed rows (missing or non-string fields, invalid UTF-8,
 * NUL bytes, bad labels, duplicate (subset, id)) are reported through bad_row (may be NULL) and
 * skipped; with fail_bad == 1 the first one is an RRM_E_FORMAT error naming file and line.
 * A file that cannot be read or whose structure is broken (not JSONL / not a JSON array) is
 * always an error. *out is filled on success only (free with eval_dataset_free). */
int eval_dataset_load(struct eval_dataset *out, const char *bench, const char *data_dir,
                      int fail_bad, eval_bad_row_fn bad_row, void *user, rrm_err *err);
void eval_dataset_free(struct eval_dataset *d);
/* Rows of one in-memory JSONL or JSON-array text for bench `bench` (dataset.c's reader; for
 * tests and the fuzz target). `file` names the text in messages and as subset source. */
int eval_dataset_parse(struct eval_dataset *d, int bench, const char *file, const char *text,
                       size_t len, int fail_bad, eval_bad_row_fn bad_row, void *user,
                       rrm_err *err);

/* ---- scoring (metrics.c) ---- */

/* One finished row as scoring needs it. */
struct eval_outcome {
    const char *subset;
    int gold;                    /* enum eval_gold */
    int winner;                  /* enum rrm_pick: 1 = a, 2 = b, 0 = no decision */
};

/* Score of one row of a binary benchmark: 1 if winner == gold, 0 for the other side, and
 * nd_credit when there is no decision. gold must not be a tie. */
double eval_row_score(int gold, int winner, double nd_credit);
/* Credit for no decision: 0.5 (RewardBench's rule for unparseable judge output, used for every
 * single-order run), 0 for JudgeBench judged in both orders (its official rule: a pair is
 * correct only when the two orders' decisions sum to the gold side). */
double eval_nd_credit(int bench, int both_orders);
/* The row's decision from its votes in the caller's terms (RRM_PICK_*): picks[0..j) are order 1
 * (a shown first), with both orders picks[stride..stride+j) are order 2. One order: majority of
 * the valid votes. Both orders: JudgeBench's counter (each order's majority: +1 for a, -1 for b;
 * the sign decides), other benchmarks the majority of all 2j votes. No decision = RRM_PICK_NONE. */
int eval_decide(int bench, const int *picks, int j, int stride, int both_orders);

#define EVAL_MAX_SUBSETS 64
#define EVAL_MAX_SECTIONS 8

struct eval_subset_score {
    char name[256];              /* a copy (outlives the outcomes) */
    const char *section;         /* NULL when the bench has no sections */
    double weight;               /* official weight (RewardBench) or rows */
    int64_t rows, correct, wrong, no_decision, ties; /* ties: gold tie rows (PandaLM) */
    double score;                /* accuracy in [0, 1] over non-tie rows; NAN when none */
};

struct eval_section_score {
    const char *name;
    double score;                /* weighted mean of the present subsets; NAN when none */
    double reference;            /* NAN when the seed has no number for it */
    int subsets_present, subsets_total;
};

struct eval_scores {
    int bench;
    int n_subsets, n_sections;
    struct eval_subset_score subsets[EVAL_MAX_SUBSETS];
    struct eval_section_score sections[EVAL_MAX_SECTIONS];
    int64_t rows, no_decision;
    double overall;              /* RewardBench: mean of present sections; PandaLM: non-tie
                                  * accuracy; others: accuracy over all rows; NAN when none */
    int overall_partial;         /* 1 when a section or subset of the benchmark has no rows */
    double agreement;            /* PandaLM: 3-class agreement on all rows (no decision = tie) */
};

/* Scores n outcomes of bench. Subsets not in the bench's table (jsonl, judgebench categories)
 * are added in order of first appearance. Errors: RRM_E_LIMIT (more than EVAL_MAX_SUBSETS
 * subsets), RRM_E_FORMAT (an unknown RewardBench subset, a tie gold outside PandaLM/jsonl). */
int eval_score(int bench, int both_orders, const struct eval_outcome *o, int64_t n,
               struct eval_scores *out, rrm_err *err);

/* ---- runs, results and reports (harness.c, results.c, report.c) ---- */

#define EVAL_KEEP_PICKS 64
/* One line of results.jsonl, parsed back (everything the report needs). */
struct eval_result {
    char *subset, *id;           /* owned */
    int64_t ordinal;
    int gold, winner, swapped;
    int k, orders;               /* votes per order; orders 2 with --both-orders */
    int picks[2 * EVAL_KEEP_PICKS]; /* first min(k, 64) votes of each order: RRM_PICK_*, order 2
                                     * from EVAL_KEEP_PICKS on (for accuracy vs k) */
    int n_invalid;               /* invalid votes */
    int64_t prompt_tokens, gen_tokens; /* gen: summed over votes */
    double seconds;              /* this row's share of its batch's wall time */
    int error;                   /* 1: not judgeable (prompt over the context, bad text) */
};

struct eval_results {
    struct eval_result *r;
    int64_t n, cap;
};
void eval_results_free(struct eval_results *rs);

/* Reads DIR/results.jsonl (missing = empty). A last line without its newline or that does not
 * parse (a write torn by a kill) is dropped: with repair == 1 the file is truncated to the last
 * complete line. Any other damaged line, or a (subset, id) twice, is RRM_E_FORMAT naming the
 * line. *torn (may be NULL) gets 1 when a torn line was found. */
int eval_results_read(const char *path, int repair, struct eval_results *out, int *torn,
                      rrm_err *err);
/* Sorts by ordinal (dataset order). */
void eval_results_sort(struct eval_results *rs);
/* Appends a parsed copy of one JSON result line (as written by the harness). */
int eval_result_from_json(json_t *o, struct eval_result *r, rrm_err *err);

/* Everything that decides the rows' results (stored in run.json; a rerun must match). */
struct eval_settings {
    char bench[512];
    char model[4096];            /* path as given (informational) */
    char model_id[64];           /* fingerprint: file sizes + head/tail hashes + shapes */
    char data_hash[17];
    int64_t k, max_tokens, think_budget, top_k;
    uint64_t seed;
    double temperature, top_p, min_p;
    int kv_f16;
    int both_orders;             /* each row judged in both orders */
    char template_name[64];
    char subsets[1024];          /* "" = all */
    int64_t limit;               /* 0 = all (may change between reruns) */
    int shard_i, shard_n;        /* 1-based */
    int64_t selection_rows;      /* rows of the unsharded selection */
};

json_t *eval_settings_json(const struct eval_settings *s);
int eval_settings_from_json(json_t *j, struct eval_settings *s, rrm_err *err);
/* 0 when a and b may share a results file (everything but limit, selection_rows and the model
 * path); else 1 with a message naming the first difference in `why`. With ignore_shard the
 * shard fields are not compared (merging). */
int eval_settings_differ(const struct eval_settings *a, const struct eval_settings *b,
                         int ignore_shard, char *why, size_t why_len);

/* Model fingerprint of a .gguf file or an HF directory: sizes and FNV-1a of the first and last
 * 64 KiB of every weight/config file (the weights themselves are too big to hash), as 16 hex
 * digits. */
int eval_model_id(const char *path, char out[17], rrm_err *err);

/* Writes DIR/report.json, DIR/report.md and DIR/report.svg for results (sorted by ordinal).
 * Timing (seconds, judgments/hour, tokens/s) is under "timing" in the JSON and on lines
 * starting "Time:" in the markdown, so that a merged report equals an unsharded one elsewhere. */
int eval_report_write(const char *dir, const struct eval_settings *s,
                      const struct eval_results *rs, struct eval_scores *scores, rrm_err *err);

/* Progress of a run, handed to eval_params.progress after every forward and every batch. */
struct eval_progress {
    int64_t rows_done, rows_total;   /* of this shard's selection, resumed rows included */
    int64_t rows_resumed;            /* already in results.jsonl at the start */
    int64_t tokens;                  /* generated by this process so far */
    double seconds;                  /* since this process started judging */
    double score_sum;                /* over rows_done (binary rows; 0.5 for no decision) */
    int64_t scored_rows;
    int batch_done;                  /* 1 when a batch was just written */
};

struct eval_params {
    const char *bench, *data_dir, *out_dir, *model;
    rrm_judge_params judge;          /* k, seed, sampling, token limits, threads, template */
    int64_t limit;
    const char *subsets;             /* comma list or NULL */
    int shard_i, shard_n;            /* 1-based; 1/1 = everything */
    int batch;                       /* rows per judge call (rows x k sequences per forward) */
    int64_t kv_budget;               /* KV tokens at most (0 = the judge's default) */
    int both_orders;                 /* judge each row in both orders (2 x k votes) */
    int fail_bad;
    eval_bad_row_fn bad_row;
    int (*progress)(const struct eval_progress *p, void *user); /* non-zero cancels */
    void (*log)(const char *msg, void *user); /* one-line notes (resume, torn line) */
    void *user;
};
void eval_default_params(struct eval_params *p);

/* Runs (or continues) an evaluation into p->out_dir and writes the report. Errors: the reader's,
 * RRM_E_INVAL (settings differ from DIR/run.json; bad shard; no rows selected), RRM_E_IO,
 * the judge's. *scores (may be NULL) gets the final scores. */
int eval_run(const struct eval_params *p, struct eval_scores *scores, rrm_err *err);

/* Merges shard directories into out_dir (run.json with shard 1/1, results.jsonl in dataset
 * order, report). Errors: RRM_E_INVAL (settings differ, a shard twice, mixed shard counts, a row
 * in two shards), RRM_E_FORMAT, RRM_E_IO. *missing (may be NULL) gets the number of shards
 * absent (the report is then partial). */
int eval_merge(const char *const *dirs, int n_dirs, const char *out_dir, int *missing,
               struct eval_scores *scores, rrm_err *err);

#endif /* RRM_EVAL_H */
