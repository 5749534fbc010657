/*
 * handlers_joined: the HTTP routes of the joined views (joined.h) and of the reference tables' state, registered
 * in handlers.c's route table.
 */
#ifndef QUERY_HANDLERS_JOINED_H
#define QUERY_HANDLERS_JOINED_H

#include <h2o.h>

#include "buf.h"

struct query_s;

void handlers_source_airports(h2o_req_t *req, void *data);
void handlers_routes_per_country(h2o_req_t *req, void *data);
void handlers_routes_per_airline(h2o_req_t *req, void *data);
void handlers_equipment(h2o_req_t *req, void *data);
void handlers_longest_routes(h2o_req_t *req, void *data);
void handlers_reference(h2o_req_t *req, void *data);
/* The reference tables' samples of GET /metrics, appended to out. */
void handlers_reference_metrics(struct query_s *q, buf_t *out);

#endif
