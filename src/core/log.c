/*
 * log.c — the process-wide log callback (ggml/llama log_set). The library never prints; without a
 * callback messages are dropped.
 */
#include "core.h"

#include <stdio.h>

static rrm_log_cb log_cb;
static void *log_user;

void rrm_log_set(rrm_log_cb cb, void *user)
{
    log_cb = cb;
    log_user = user;
}

void rrm_logf(int level, const char *fmt, ...)
{
    if (!log_cb) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_cb(level, buf, log_user);
}
