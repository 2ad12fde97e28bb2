/*
 * tokenizer.h — internal header of the byte-level BPE tokenizer (Qwen2 / DeepSeek-R1-distill,
 * GPT-2 style). Spec: Hugging Face `tokenizers` (BPE model, ByteLevel pre-tokenizer/decoder,
 * AddedVocabulary, NFC normalizer); https://github.com/huggingface/tokenizers.
 *
 * Pipeline of an encode: UTF-8 check -> split on added tokens that match the raw text ->
 * NFC (utf8proc) -> split on added tokens that match normalized text -> the pre-tokenizer regex
 * chain (PCRE2, UTF + UCP + JIT, behaviour Isolated) -> bytes of each piece -> BPE merges by rank.
 * Invariants: after load a `struct rrm_tokenizer` is never written, so encode and decode may run
 * concurrently on one object; every vocabulary piece is >= 1 byte, so n ids <= n bytes of text.
 */
#ifndef RRM_TOKENIZER_H
#define RRM_TOKENIZER_H

#include "core/core.h"

#define TOK_MAX_SPLITS 4    /* pre-tokenizer regex stages */
#define TOK_MAX_VOCAB (1 << 22) /* ids (4M) — far above any real vocabulary */
#define TOK_MAX_PIECE 4096  /* bytes of one vocabulary entry */

/* Qwen2 pre-tokenizer regex (Qwen2.5 / DeepSeek-R1-distill tokenizer.json, llama.cpp "qwen2"). */
#define TOK_RE_QWEN2                                                                       \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"                     \
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
/* GPT-2 ByteLevel regex (tokenizers ByteLevel use_regex = true; llama.cpp "gpt2"). */
#define TOK_RE_GPT2                                                                        \
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* Llama-3 regex (llama.cpp "llama-bpe"). */
#define TOK_RE_LLAMA3                                                                      \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|"                \
    " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* An added token (tokenizer.json added_tokens, or a GGUF control/user-defined token). */
struct tok_added {
    int32_t id;
    uint32_t off, len;  /* content bytes in tok->blob */
    uint8_t special, lstrip, rstrip, normalized, single_word;
};

/* Open-addressing map: (id a, id b) -> (rank, merged id). */
struct tok_pair_slot {
    uint64_t key; /* (a << 32) | b; UINT64_MAX = empty */
    int32_t rank;
    int32_t id;
};

struct rrm_tokenizer {
    int32_t n_vocab;        /* ids are 0..n_vocab-1; gaps (unused ids) have piece length 0 */
    uint32_t *piece_off;    /* (n_vocab) offset into blob of the decoded bytes of each id */
    uint32_t *piece_len;    /* (n_vocab) their length */
    uint32_t max_piece;     /* longest piece in bytes */
    uint8_t *attr;          /* (n_vocab) TOK_ATTR_* */
    char *blob;             /* piece bytes, then added-token contents */
    size_t blob_len, blob_cap;
    /* bytes -> id of ordinary (BPE) vocabulary entries */
    uint32_t *str_slots;    /* id + 1, 0 = empty; capacity str_mask + 1 */
    uint32_t str_mask;
    int32_t byte_id[256];   /* id of the single-byte piece for each byte */
    struct tok_pair_slot *pairs;
    uint32_t pair_mask;
    int64_t n_merges;
    struct tok_added *added; /* sorted by content length, longest first */
    int n_added;
    uint8_t added_first[256]; /* 1 if some added token starts with this byte */
    int nfc;                /* normalizer NFC */
    int ignore_merges;      /* BPE ignore_merges: a piece that is a vocab entry is one id */
    int add_prefix_space;   /* ByteLevel add_prefix_space */
    int n_splits;
    void *re[TOK_MAX_SPLITS]; /* pcre2_code_8 * */
    int32_t bos_id, eos_id;  /* -1 when unknown */
    int add_bos;
    char source[16];        /* "tokenizer.json" or "gguf" */
};

enum { TOK_ATTR_NORMAL = 0, TOK_ATTR_ADDED = 1, TOK_ATTR_SPECIAL = 2, TOK_ATTR_UNUSED = 4 };

/* ---- vocab.c: building the tables (load time only) ---- */

/* Makes an empty tokenizer with room for n_vocab ids (all unused). */
int tok_new(struct rrm_tokenizer **out, int64_t n_vocab, rrm_err *err);
/* Sets the piece of `id`. `s` is a ByteLevel-encoded vocabulary string (mapped back to bytes) when
 * bytelevel is 1, raw bytes otherwise. Each id at most once (RRM_E_FORMAT otherwise). */
int tok_set_piece(struct rrm_tokenizer *t, int32_t id, const char *s, size_t len, int bytelevel,
                  rrm_err *err);
/* Marks id as an added token with these flags; its piece is the raw content. */
int tok_add_added(struct rrm_tokenizer *t, int32_t id, const char *s, size_t len,
                  const struct tok_added *flags, rrm_err *err);
/* After all pieces: builds the bytes -> id map and the byte table. */
int tok_index_vocab(struct rrm_tokenizer *t, rrm_err *err);
/* Adds merge `rank` of ByteLevel strings a and b (call with ranks 0, 1, 2, ...). */
int tok_add_merge(struct rrm_tokenizer *t, int64_t rank, const char *a, size_t alen,
                  const char *b, size_t blen, rrm_err *err);
int tok_reserve_merges(struct rrm_tokenizer *t, int64_t n, rrm_err *err);
/* Compiles one pre-tokenizer regex (appended to the chain). */
int tok_add_split(struct rrm_tokenizer *t, const char *pattern, size_t len, int literal,
                  rrm_err *err);
/* Sorts added tokens, checks that every byte has a piece. */
int tok_finish(struct rrm_tokenizer *t, rrm_err *err);
/* id of an ordinary vocabulary entry with these bytes, or -1. */
int32_t tok_vocab_find(const struct rrm_tokenizer *t, const char *s, size_t len);
/* Merge of ids a, b: rank and result id, or rank -1. */
static inline uint64_t tok_pair_key(int32_t a, int32_t b)
{
    return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
}
const struct tok_pair_slot *tok_pair_find(const struct rrm_tokenizer *t, int32_t a, int32_t b);
/* ByteLevel: maps a vocabulary string back to bytes (out has room for len bytes). Returns the
 * byte count, or -1 when some character is not in the ByteLevel alphabet. */
int64_t tok_bytelevel_decode(const char *s, size_t len, char *out);
/* ByteLevel: the UTF-8 string (<= 2 bytes) of byte b; returns its length. */
int tok_bytelevel_char(uint8_t b, char out[2]);

/* ---- load_json.c / load_gguf.c ---- */

int tok_load_json(struct rrm_tokenizer **out, const char *path, rrm_err *err);
int tok_load_json_buf(struct rrm_tokenizer **out, const char *buf, size_t len, const char *what,
                      rrm_err *err);
/* tokenizer_config.json next to the tokenizer: bos/eos/add_bos (missing file: unknown). */
int tok_load_config(struct rrm_tokenizer *t, const char *path, rrm_err *err);
struct gguf_file;
int tok_load_gguf(struct rrm_tokenizer **out, const struct gguf_file *f, rrm_err *err);

/* ---- utf8 (encode.c) ---- */

/* Length of the valid UTF-8 prefix of s (strict: no overlongs, surrogates or > U+10FFFF). */
size_t tok_utf8_valid_prefix(const char *s, size_t len);
/* Length of the next unit at s: a complete valid character (*valid = 1) or the maximal invalid
 * subpart (*valid = 0, >= 1 byte; Unicode §3.9 "substitution of maximal subparts"). When the
 * bytes end inside a character that could still be completed, *valid = -1 and the length is
 * what is there. */
size_t tok_utf8_next(const char *s, size_t len, int *valid);

/* ---- bpe.c ---- */

/* Appends the BPE ids of one piece (bytes) to ids[*n...]; the caller guarantees room for len
 * ids. scratch must hold 3 * len int32 values + len heap entries (tok_bpe_scratch). */
int tok_bpe(const struct rrm_tokenizer *t, const uint8_t *s, size_t len, int32_t *ids,
            int64_t *n, void *scratch);
size_t tok_bpe_scratch(size_t len);
/* The two merge loops, exposed for tests: array (small pieces) and heap (long pieces). */
void tok_bpe_array(const struct rrm_tokenizer *t, int32_t *sym, int32_t *rank, size_t *n);
void tok_bpe_heap(const struct rrm_tokenizer *t, int32_t *sym, size_t *n, void *scratch);

#endif /* RRM_TOKENIZER_H */
