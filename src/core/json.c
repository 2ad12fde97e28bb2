/*
 * json.c — a thin, bounded wrapper over Jansson: size limit before parsing, NUL bytes rejected,
 * errors that name the source with line and column. Jansson's own allocations are routed through
 * rrm_malloc so OOM injection and leak counts cover them.
 */
#include "core.h"

#include <jansson.h>
#include <pthread.h>

/* Set when an allocation fails inside Jansson on this thread: Jansson does not always report
 * OOM as json_error_out_of_memory, and the caller must see RRM_E_NOMEM, not a format error. */
static _Thread_local int json_oom;

static void *json_alloc(size_t n)
{
    void *p = rrm_malloc(n);
    if (!p) json_oom = 1;
    return p;
}

static void json_dealloc(void *p)
{
    rrm_free(p);
}

static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void json_setup(void)
{
    json_set_alloc_funcs(json_alloc, json_dealloc);
}

void rrm_json_init(void)
{
    pthread_once(&json_once, json_setup);
}

int rrm_json_dump(const json_t *j, int flags, char **out, rrm_err *err)
{
    rrm_json_init();
    if (!j || !out) return rrm_errf(err, RRM_E_INVAL, "json: dump of a NULL value");
    char *s = json_dumps(j, (size_t)flags);
    if (!s) return rrm_errf(err, RRM_E_NOMEM, "json: out of memory while serialising");
    *out = s;
    return RRM_OK;
}

int rrm_json_parse(json_t **out, const char *buf, size_t len, size_t max_bytes, const char *what,
                   rrm_err *err)
{
    pthread_once(&json_once, json_setup);
    if (len > max_bytes)
        return rrm_errf(err, RRM_E_LIMIT, "json: %s is %zu bytes, over the limit of %zu", what, len,
                        max_bytes);
    json_error_t je;
    json_oom = 0;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (json_oom || json_error_code(&je) == json_error_out_of_memory)
            return rrm_errf(err, RRM_E_NOMEM, "json: %s: out of memory while parsing", what);
        return rrm_errf(err, RRM_E_FORMAT, "json: %s: line %d column %d: %s", what, je.line,
                        je.column, je.text);
    }
    if (json_oom) { /* parsed, but some value was dropped on the way */
        json_decref(root);
        return rrm_errf(err, RRM_E_NOMEM, "json: %s: out of memory while parsing", what);
    }
    *out = root;
    return RRM_OK;
}

int rrm_json_load_file(json_t **out, const char *path, size_t max_bytes, rrm_err *err)
{
    char *buf;
    size_t len;
    int rc = rrm_read_file(path, max_bytes, &buf, &len, err);
    if (rc != RRM_OK) return rc;
    rc = rrm_json_parse(out, buf, len, max_bytes, path, err);
    rrm_free(buf);
    return rc;
}
