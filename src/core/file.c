/*
 * file.c — memory-mapped input files, bounded whole-file reads, atomic writes, paths.
 * Model weights are never read into malloc'd memory: they stay in read-only maps (DESIGN.md §4).
 */
#define _GNU_SOURCE
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int rrm_mmap_open(struct rrm_mmap *m, const char *path, int populate, rrm_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return rrm_errf(err, RRM_E_IO, "open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return rrm_errf(err, RRM_E_IO, "stat '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return rrm_errf(err, RRM_E_IO, "'%s' is not a regular file", path);
    }
    m->data = NULL;
    m->size = (size_t)st.st_size;
    if (m->size > 0) {
        int flags = MAP_PRIVATE | (populate ? MAP_POPULATE : 0);
        void *p = mmap(NULL, m->size, PROT_READ, flags, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            return rrm_errf(err, RRM_E_IO, "mmap '%s' (%zu bytes): %s", path, m->size,
                            strerror(e));
        }
        m->data = p;
    }
    close(fd);
    return RRM_OK;
}

void rrm_mmap_close(struct rrm_mmap *m)
{
    if (m && m->data) munmap((void *)m->data, m->size);
    if (m) {
        m->data = NULL;
        m->size = 0;
    }
}

int rrm_read_file(const char *path, size_t max_bytes, char **out, size_t *len, rrm_err *err)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) return rrm_errf(err, RRM_E_IO, "open '%s': %s", path, strerror(errno));
    struct rrm_str s = {0};
    char buf[65536];
    size_t n;
    int rc = RRM_OK;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (s.len + n > max_bytes) {
            rc = rrm_errf(err, RRM_E_LIMIT, "'%s' is larger than the limit of %zu bytes", path,
                          max_bytes);
            break;
        }
        if (rrm_str_append(&s, buf, n) != RRM_OK) {
            rc = rrm_errf(err, RRM_E_NOMEM, "reading '%s': out of memory at %zu bytes", path,
                          s.len);
            break;
        }
    }
    if (rc == RRM_OK && ferror(f))
        rc = rrm_errf(err, RRM_E_IO, "read '%s': %s", path, strerror(errno));
    if (f != stdin) fclose(f);
    if (rc == RRM_OK && !s.p && rrm_str_append(&s, "", 0) != RRM_OK)
        rc = rrm_errf(err, RRM_E_NOMEM, "reading '%s': out of memory", path);
    if (rc != RRM_OK) {
        rrm_str_free(&s);
        return rc;
    }
    *out = s.p;
    if (len) *len = s.len;
    return RRM_OK;
}

int rrm_write_file(const char *path, const void *buf, size_t len, rrm_err *err)
{
    char *tmp = rrm_malloc(strlen(path) + 32);
    if (!tmp) return rrm_errf(err, RRM_E_NOMEM, "write '%s': out of memory", path);
    sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int rc = rrm_errf(err, RRM_E_IO, "create '%s': %s", tmp, strerror(errno));
        rrm_free(tmp);
        return rc;
    }
    const uint8_t *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int rc = rrm_errf(err, RRM_E_IO, "write '%s': %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            rrm_free(tmp);
            return rc;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        int rc = rrm_errf(err, RRM_E_IO, "finish '%s': %s", path, strerror(errno));
        unlink(tmp);
        rrm_free(tmp);
        return rc;
    }
    rrm_free(tmp);
    return RRM_OK;
}

int rrm_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *rrm_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = rrm_malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a > 0 && dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

double rrm_time_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
