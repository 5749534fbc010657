/*
 * job_registry: the gateway's replay jobs, newest first: every one running and the last `kept` finished (so
 * /jobs/{id} still answers), with the counts of the jobs dropped from it added up, so the totals behind
 * /metrics only grow. It owns the jobs. Loop thread only.
 */
#ifndef INGEST_JOB_REGISTRY_H
#define INGEST_JOB_REGISTRY_H

#include <stdint.h>

#include "replay_job.h"

typedef struct job_registry_s job_registry_t;

job_registry_t *job_registry_new(unsigned kept);
/* Frees the registry and every job in it. */
void job_registry_free(job_registry_t *r);

/* Takes job (newest), then drops the oldest finished jobs beyond kept. */
void job_registry_add(job_registry_t *r, replay_job_t *job);
/* @returns the job with this id, or NULL. */
replay_job_t *job_registry_find(const job_registry_t *r, const char *id);
/* Calls fn for every job held, newest first. fn must not add or drop jobs. */
void job_registry_each(const job_registry_t *r, void (*fn)(replay_job_t *job, void *data), void *data);

unsigned job_registry_running(const job_registry_t *r);
uint64_t job_registry_started(const job_registry_t *r);
/* The counts of every job ever added, the dropped ones too. */
void job_registry_totals(const job_registry_t *r, replay_counts_t *out);

#endif
