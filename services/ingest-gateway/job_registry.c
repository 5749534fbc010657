#include "job_registry.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

typedef struct entry_s {
    replay_job_t *job;
    struct entry_s *next;
} entry_t;

struct job_registry_s {
    entry_t *jobs; /* newest first */
    unsigned kept;
    uint64_t started;
    replay_counts_t dropped; /* of the jobs no longer held */
};

job_registry_t *job_registry_new(unsigned kept)
{
    job_registry_t *r = xcalloc(1, sizeof(*r));
    r->kept = kept;
    return r;
}

void job_registry_free(job_registry_t *r)
{
    if (r == NULL)
        return;
    while (r->jobs != NULL) {
        entry_t *e = r->jobs;
        r->jobs = e->next;
        replay_job_free(e->job);
        free(e);
    }
    free(r);
}

static void prune(job_registry_t *r)
{
    unsigned finished = 0;
    for (entry_t **pp = &r->jobs; *pp != NULL;) {
        entry_t *e = *pp;
        if (replay_job_state(e->job) == REPLAY_FINISHED && ++finished > r->kept) {
            replay_counts_add(&r->dropped, replay_job_counts(e->job));
            *pp = e->next;
            replay_job_free(e->job);
            free(e);
            continue;
        }
        pp = &e->next;
    }
}

void job_registry_add(job_registry_t *r, replay_job_t *job)
{
    entry_t *e = xcalloc(1, sizeof(*e));
    e->job = job;
    e->next = r->jobs;
    r->jobs = e;
    r->started++;
    prune(r);
}

replay_job_t *job_registry_find(const job_registry_t *r, const char *id)
{
    for (const entry_t *e = r->jobs; e != NULL; e = e->next)
        if (strcmp(replay_job_id(e->job), id) == 0)
            return e->job;
    return NULL;
}

void job_registry_each(const job_registry_t *r, void (*fn)(replay_job_t *job, void *data), void *data)
{
    for (const entry_t *e = r->jobs; e != NULL; e = e->next)
        fn(e->job, data);
}

unsigned job_registry_running(const job_registry_t *r)
{
    unsigned n = 0;
    for (const entry_t *e = r->jobs; e != NULL; e = e->next)
        n += replay_job_state(e->job) != REPLAY_FINISHED;
    return n;
}

uint64_t job_registry_started(const job_registry_t *r)
{
    return r->started;
}

void job_registry_totals(const job_registry_t *r, replay_counts_t *out)
{
    *out = r->dropped;
    for (const entry_t *e = r->jobs; e != NULL; e = e->next)
        replay_counts_add(out, replay_job_counts(e->job));
}
