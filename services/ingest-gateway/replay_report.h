/*
 * replay_report: a replay job as JSON, the seed's /produce summary and the progress GET /jobs/{id} shows. Only
 * renders: what it shows comes from the job (replay_job_info).
 */
#ifndef INGEST_REPLAY_REPORT_H
#define INGEST_REPLAY_REPORT_H

#include <json-c/json.h>

#include "replay_job.h"

/* The seed's 8-entry summary (plus "Total delivery failures" when any failed). Caller owns the array. */
struct json_object *replay_report_summary(const replay_counts_t *counts);
/* Progress for GET /jobs/{id}: one object, keys sorted (as Flask's jsonify). Caller owns it. */
struct json_object *replay_report_progress(const replay_info_t *job);

#endif
