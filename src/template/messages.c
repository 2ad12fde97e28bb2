/*
 * messages.c — the chat messages JSON that `rrm template --messages` and the server accept:
 * `[{"role": "user", "content": "..."}, ...]`, the shape transformers' apply_chat_template takes.
 * Strings are borrowed from the parsed JSON (Jansson has already rejected invalid UTF-8, lone
 * surrogate escapes and NUL bytes); the renderer checks roles against the family.
 */
#include "template/template.h"

#include <jansson.h>

int tmpl_messages_from_json(const json_t *arr, const char *what, rrm_message **out, size_t *n,
                            rrm_err *err)
{
    if (!json_is_array(arr))
        return rrm_errf(err, RRM_E_FORMAT,
                        "template: '%s': messages must be a JSON array of {\"role\", \"content\"}",
                        what);
    size_t k = json_array_size(arr);
    rrm_message *m = rrm_calloc(k ? k : 1, sizeof *m);
    if (!m) return rrm_errf(err, RRM_E_NOMEM, "template: out of memory for %zu messages", k);
    for (size_t i = 0; i < k; i++) {
        json_t *e = json_array_get(arr, i);
        json_t *role = json_object_get(e, "role"), *content = json_object_get(e, "content");
        json_t *calls = json_object_get(e, "tool_calls");
        int rc = RRM_OK;
        if (!json_is_object(e))
            rc = rrm_errf(err, RRM_E_FORMAT, "template: '%s': message %zu is not an object",
                          what, i);
        else if (calls && !json_is_null(calls) && !(json_is_array(calls) && !json_array_size(calls)))
            rc = rrm_errf(err, RRM_E_UNSUPPORTED,
                          "template: '%s': message %zu has tool_calls, which rrm does not render",
                          what, i);
        else if (!json_is_string(role))
            rc = rrm_errf(err, RRM_E_FORMAT, "template: '%s': message %zu: \"role\" is not a string",
                          what, i);
        else if (!json_is_string(content))
            rc = rrm_errf(err, RRM_E_FORMAT,
                          "template: '%s': message %zu: \"content\" is not a string (structured "
                          "content parts are not supported)",
                          what, i);
        if (rc != RRM_OK) {
            rrm_free(m);
            return rc;
        }
        m[i].role = json_string_value(role);
        m[i].content = json_string_value(content);
    }
    *out = m;
    *n = k;
    return RRM_OK;
}
