#include "reference_publish.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "log.h"
#include "reference_file.h"

/* A kind's file and counts; the opaque of each of its messages, so a delivery report finds them. */
typedef struct kind_s {
    reference_publish_t *pub;
    reference_kind_t kind;
    reference_file_t file;
    size_t next; /* the next message of file to produce */
    reference_counts_t counts;
} kind_t;

struct reference_publish_s {
    uv_loop_t *loop;
    producer_t *producer;
    reference_state_t state;
    bool stopped; /* shutdown: nothing more is produced */
    uint64_t run;
    uv_work_t load_work;
    kind_t kinds[REFERENCE_KINDS];
};

reference_publish_t *reference_publish_new(uv_loop_t *loop, producer_t *producer,
                                           const char *const paths[REFERENCE_KINDS])
{
    reference_publish_t *pub = xcalloc(1, sizeof(*pub));
    pub->loop = loop;
    pub->producer = producer;
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        pub->kinds[k].pub = pub;
        pub->kinds[k].kind = (reference_kind_t)k;
        snprintf(pub->kinds[k].counts.path, sizeof(pub->kinds[k].counts.path), "%s", paths[k]);
    }
    return pub;
}

/* Threadpool: reads and parses the files; touches only the kinds' files. */
static void load_work(uv_work_t *w)
{
    reference_publish_t *pub = w->data;
    for (int k = 0; k < REFERENCE_KINDS; k++)
        reference_file_load(&pub->kinds[k].file, (reference_kind_t)k, pub->kinds[k].counts.path);
}

static bool all_delivered(const reference_publish_t *pub)
{
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        const reference_counts_t *c = &pub->kinds[k].counts;
        if (pub->kinds[k].next < pub->kinds[k].file.count || c->delivered + c->failed < c->messages)
            return false;
    }
    return true;
}

static void finish(reference_publish_t *pub)
{
    pub->state = REFERENCE_FINISHED;
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        kind_t *kd = &pub->kinds[k];
        const reference_counts_t *c = &kd->counts;
        reference_file_free(&kd->file);
        kd->next = 0;
        if (c->error[0] != '\0')
            log_warn("reference_failed", "publication %llu: %s", (unsigned long long)pub->run, c->error);
        else
            log_info("reference_published", "publication %llu: %s: %llu entries (%llu rejected lines) as %llu codes",
                     (unsigned long long)pub->run, reference_kind_name(kd->kind), (unsigned long long)c->entries,
                     (unsigned long long)c->rejected, (unsigned long long)c->delivered);
    }
}

/* Produces what is left, until the queue is full (resumed by reference_publish_resume) or all is produced. */
static void produce(reference_publish_t *pub)
{
    char errstr[256];
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        kind_t *kd = &pub->kinds[k];
        while (kd->next < kd->file.count) {
            const reference_message_t *m = &kd->file.messages[kd->next];
            const char *bytes = kd->file.bytes.data;
            int rc = producer_send_compacted(pub->producer, (size_t)k, bytes + m->key_off, m->key_len,
                                             bytes + m->value_off, m->value_len, kd, errstr, sizeof(errstr));
            if (rc == -ENOBUFS)
                return;
            kd->next++;
            kd->counts.messages++;
            if (rc != 0) {
                kd->counts.failed++;
                if (kd->counts.error[0] == '\0')
                    snprintf(kd->counts.error, sizeof(kd->counts.error), "%s", errstr);
            }
        }
    }
    if (all_delivered(pub))
        finish(pub);
}

static void load_done(uv_work_t *w, int status)
{
    reference_publish_t *pub = w->data;
    (void)status;
    pub->state = REFERENCE_PRODUCING;
    if (pub->stopped) {
        finish(pub);
        return;
    }
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        kind_t *kd = &pub->kinds[k];
        reference_counts_t *c = &kd->counts;
        c->lines = kd->file.lines;
        c->entries = kd->file.entries;
        c->rejected = kd->file.rejected;
        if (kd->file.error[0] != '\0')
            memcpy(c->error, kd->file.error, sizeof(c->error)); /* both 512 bytes, NUL-terminated */
    }
    produce(pub);
}

uint64_t reference_publish_start(reference_publish_t *pub)
{
    if (pub->stopped || pub->state == REFERENCE_LOADING || pub->state == REFERENCE_PRODUCING)
        return 0;
    pub->run++;
    pub->state = REFERENCE_LOADING;
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        reference_counts_t *c = &pub->kinds[k].counts;
        char path[sizeof(c->path)];
        memcpy(path, c->path, sizeof(path));
        memset(c, 0, sizeof(*c));
        memcpy(c->path, path, sizeof(path));
    }
    pub->load_work.data = pub;
    uv_queue_work(pub->loop, &pub->load_work, load_work, load_done);
    return pub->run;
}

void reference_publish_resume(reference_publish_t *pub)
{
    if (pub->state == REFERENCE_PRODUCING && !pub->stopped)
        produce(pub);
}

void reference_publish_on_delivery(void *opaque, rd_kafka_resp_err_t err)
{
    kind_t *kd = opaque;
    reference_publish_t *pub = kd->pub;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        kd->counts.delivered++;
    } else {
        kd->counts.failed++;
        if (kd->counts.error[0] == '\0')
            snprintf(kd->counts.error, sizeof(kd->counts.error), "delivery to the %s topic failed: %s",
                     reference_kind_name(kd->kind), rd_kafka_err2str(err));
    }
    if (pub->state == REFERENCE_PRODUCING && all_delivered(pub))
        finish(pub);
}

reference_state_t reference_publish_state(const reference_publish_t *pub)
{
    return pub->state;
}

const char *reference_publish_state_name(reference_state_t state)
{
    static const char *const names[] = {"idle", "loading", "producing", "finished"};
    return names[state];
}

uint64_t reference_publish_run(const reference_publish_t *pub)
{
    return pub->run;
}

const reference_counts_t *reference_publish_counts(const reference_publish_t *pub, reference_kind_t kind)
{
    return &pub->kinds[kind].counts;
}

void reference_publish_stop(reference_publish_t *pub)
{
    pub->stopped = true;
    while (pub->state == REFERENCE_LOADING)
        uv_run(pub->loop, UV_RUN_ONCE);
}

void reference_publish_free(reference_publish_t *pub)
{
    if (pub == NULL)
        return;
    reference_publish_stop(pub);
    for (int k = 0; k < REFERENCE_KINDS; k++)
        reference_file_free(&pub->kinds[k].file);
    free(pub);
}
