/* fuzz_safetensors.c — libFuzzer target: any bytes given to the safetensors reader either open
 * (every tensor's data lies inside the buffer, names are unique) or fail with a message. */
#include "formats/formats.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct st_set *s = NULL;
    rrm_err err = {0};
    struct fmt_limits lim = {.max_tensors = 4096, .max_header = 1 << 20};
    if (st_open_buf(&s, data, size, "fuzz.safetensors", &lim, &err) != RRM_OK) {
        if (!err.msg[0]) __builtin_trap();
        return 0;
    }
    volatile unsigned sink = 0;
    for (int64_t i = 0; i < st_n_tensors(s); i++) {
        const struct fmt_tensor *t = st_tensor(s, i);
        const uint8_t *p = t->data;
        if (t->nbytes && (p < data || p + t->nbytes > data + size)) __builtin_trap();
        if (t->nbytes) sink += p[0] + p[t->nbytes - 1];
        if (st_find_tensor(s, t->name) != t) __builtin_trap();
    }
    (void)sink;
    st_close(s);
    return 0;
}
