/*
 * judge.h — internal interface of src/judge: the RRM prompt messages, position order, verdict
 * parsing and voting (public parts in include/rrm.h, "judge and rank"), plus JSON builders for
 * the CLI and server. Protocol: DESIGN.md §5; exact strings in ../shared/data/rrm-protocol/,
 * embedded by tools/embed_text.sh into protocol_text.c.
 */
#ifndef RRM_JUDGE_H
#define RRM_JUDGE_H

#include "core/core.h"

/* protocol_text.c (generated) */
extern const char judge_system_prompt[];
extern const size_t judge_system_prompt_len;
extern const char judge_analysis_suffix[];
extern const size_t judge_analysis_suffix_len;

/* Checks that text[0..len) is UTF-8 without NUL bytes; on failure returns RRM_E_FORMAT with a
 * message naming `what` and the byte offset. */
int judge_check_text(const char *what, const char *text, size_t len, rrm_err *err);

/* ---- JSON (judge_json.c); each returns a new reference or NULL on OOM ---- */

/* {"verdict": "assistant_1", "reason": "ok", "has_think_end": true, "answer_begin": N,
 *  "box": [begin, end] | null, "box_text": "..." | null} — box_text is the box's bytes when they
 *  are valid UTF-8, else null. `text` is the parsed text (may be NULL when len is 0). */
json_t *judge_verdict_json(const rrm_verdict_info *v, const char *text, size_t len);
/* {"winner": "A" | "B" | null, "a": n, "b": n, "invalid": n, "votes": n, "confidence": x} */
json_t *judge_vote_json(const rrm_vote_result *v);
/* "A", "B" or NULL for RRM_PICK_NONE / unknown. */
const char *judge_pick_name(int pick);

#endif /* RRM_JUDGE_H */
