/* The least a converter must do with a dense source (issue 20): read the file once, cold, and write its
   non-zero 4 KiB pages to a sparse output, with nothing else - no format, no runtime start-up, no
   progress. 512 KiB reads, one pwrite per run of non-zero pages; with "flush", one fdatasync at the end
   (as qemu-img -t writeback). "threads" reads on a second thread up to 8 chunks ahead of the writing one,
   as qemu-img keeps several reads in flight. ConvertBenchmark compiles it with gcc -O2 and times it
   beside both converters, so "no converter can be 1.3x qemu-img here" is a measurement.
   Usage: copyfloor SOURCE DESTINATION flush|noflush [threads] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { Chunk = 512 * 1024, Page = 4096, Ahead = 8 };
static const char zero_page[Page];

struct ring {
    int in;
    long size;
    char *buf[Ahead];
    long read_count, written_count; /* chunks read, chunks written; guarded by lock */
    int failed;
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

static long chunk_length(long size, long offset) { return size - offset < Chunk ? size - offset : Chunk; }

static int read_chunk(int in, char *buf, long offset, long want)
{
    for (long got = 0; got < want;) {
        ssize_t n = pread(in, buf + got, (size_t)(want - got), offset + got);
        if (n <= 0) return -1;
        got += n;
    }
    return 0;
}

static int write_run(int out, const char *buf, long from, long to, long offset)
{
    for (long done = from; done < to;) {
        ssize_t n = pwrite(out, buf + done, (size_t)(to - done), offset + done);
        if (n <= 0) return -1;
        done += n;
    }
    return 0;
}

static int write_non_zero(int out, const char *buf, long length, long offset)
{
    long run = -1;
    for (long page = 0; page < length; page += Page) {
        long len = length - page < Page ? length - page : Page;
        int is_zero = memcmp(buf + page, zero_page, (size_t)len) == 0;
        if (!is_zero && run < 0) run = page;
        else if (is_zero && run >= 0) { if (write_run(out, buf, run, page, offset)) return -1; run = -1; }
    }
    return run >= 0 ? write_run(out, buf, run, length, offset) : 0;
}

static void *reader(void *arg)
{
    struct ring *r = arg;
    for (long i = 0; i * (long)Chunk < r->size; i++) {
        pthread_mutex_lock(&r->lock);
        while (r->read_count - r->written_count >= Ahead) pthread_cond_wait(&r->changed, &r->lock);
        pthread_mutex_unlock(&r->lock);
        long offset = i * (long)Chunk;
        int bad = read_chunk(r->in, r->buf[i % Ahead], offset, chunk_length(r->size, offset));
        pthread_mutex_lock(&r->lock);
        r->failed |= bad;
        r->read_count++;
        pthread_cond_broadcast(&r->changed);
        pthread_mutex_unlock(&r->lock);
        if (bad) break;
    }
    return NULL;
}

static int copy_threaded(int in, int out, long size)
{
    struct ring r = { .in = in, .size = size };
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.changed, NULL);
    for (int i = 0; i < Ahead; i++) if (!(r.buf[i] = malloc(Chunk))) return -1;
    pthread_t thread;
    if (pthread_create(&thread, NULL, reader, &r) != 0) return -1;
    int bad = 0;
    for (long i = 0; !bad && i * (long)Chunk < size; i++) {
        pthread_mutex_lock(&r.lock);
        while (r.read_count <= i && !r.failed) pthread_cond_wait(&r.changed, &r.lock);
        bad = r.failed;
        pthread_mutex_unlock(&r.lock);
        long offset = i * (long)Chunk;
        if (!bad) bad = write_non_zero(out, r.buf[i % Ahead], chunk_length(size, offset), offset);
        pthread_mutex_lock(&r.lock);
        r.written_count++;
        pthread_cond_broadcast(&r.changed);
        pthread_mutex_unlock(&r.lock);
    }
    /* On a write failure the reader may wait for room: let it finish instead of joining a blocked thread. */
    pthread_mutex_lock(&r.lock);
    r.written_count = 1L << 62;
    pthread_cond_broadcast(&r.changed);
    pthread_mutex_unlock(&r.lock);
    pthread_join(thread, NULL);
    return bad || r.failed ? -1 : 0;
}

static int copy_single(int in, int out, long size)
{
    char *buf = malloc(Chunk);
    if (!buf) return -1;
    for (long offset = 0; offset < size; offset += Chunk) {
        long want = chunk_length(size, offset);
        if (read_chunk(in, buf, offset, want) || write_non_zero(out, buf, want, offset)) return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || (argc == 5 && strcmp(argv[4], "threads") != 0)) {
        fprintf(stderr, "usage: copyfloor SOURCE DESTINATION flush|noflush [threads]\n");
        return 2;
    }
    int in = open(argv[1], O_RDONLY);
    int out = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
    struct stat st;
    if (in < 0 || out < 0 || fstat(in, &st) != 0 || ftruncate(out, st.st_size) != 0) { perror("copyfloor"); return 1; }
    if ((argc == 5 ? copy_threaded : copy_single)(in, out, st.st_size) != 0) { perror("copyfloor: copy"); return 1; }
    if (strcmp(argv[3], "flush") == 0 && fdatasync(out) != 0) { perror("copyfloor: fdatasync"); return 1; }
    return close(out) == 0 ? 0 : 1;
}
