/* fuzz_config.c — libFuzzer target: any bytes as config.json parse into a validated Qwen2
 * config or fail with a message naming the field. */
#include "formats/formats.h"

#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hf_config c;
    rrm_err err = {0};
    if (hf_config_parse(&c, (const char *)data, size, "fuzz/config.json", &err) != RRM_OK &&
        !err.msg[0])
        __builtin_trap();
    return 0;
}
