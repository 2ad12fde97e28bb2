/* fuzz_gguf.c — libFuzzer target: any bytes given to the GGUF reader either open (then every
 * key, array element and tensor is readable and lies inside the buffer) or fail with a message;
 * never a crash, a read outside the buffer or a leak. */
#include "formats/formats.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gguf_file *f = NULL;
    rrm_err err = {0};
    struct fmt_limits lim = {.max_kv = 4096, .max_tensors = 4096, .max_string = 1 << 20,
                             .max_array = 1 << 20};
    if (gguf_open_buf(&f, data, size, "fuzz.gguf", &lim, &err) != RRM_OK) {
        if (!err.msg[0]) __builtin_trap(); /* every failure names its cause */
        return 0;
    }
    volatile unsigned sink = 0;
    for (int64_t i = 0; i < gguf_n_kv(f); i++) {
        const char *key = gguf_kv_key(f, i);
        if (!key) __builtin_trap();
        int64_t n = 0;
        int et = 0;
        const void *d = NULL;
        if (gguf_kv_type(f, i) == GGUF_T_ARRAY &&
            gguf_get_arr(f, key, &et, &n, &d, &err) == RRM_OK && et == GGUF_T_STRING) {
            for (int64_t j = 0; j < n && j < 64; j++) {
                const char *s;
                size_t len;
                if (gguf_get_arr_str(f, key, j, &s, &len, &err) == RRM_OK && len)
                    sink += (unsigned char)s[len - 1];
            }
        }
        const char *s;
        size_t len;
        if (gguf_kv_type(f, i) == GGUF_T_STRING && gguf_get_str(f, key, &s, &len, &err) == RRM_OK &&
            len)
            sink += (unsigned char)s[len - 1];
    }
    for (int64_t i = 0; i < gguf_n_tensors(f); i++) {
        const struct fmt_tensor *t = gguf_tensor(f, i);
        const uint8_t *p = t->data;
        if (p < data || p + t->nbytes > data + size) __builtin_trap();
        if (t->nbytes) sink += p[0] + p[t->nbytes - 1];
        if (gguf_find_tensor(f, t->name) == NULL) __builtin_trap();
    }
    (void)sink;
    gguf_close(f);
    return 0;
}
