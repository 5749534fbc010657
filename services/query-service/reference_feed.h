/*
 * reference_feed: reads the three reference topics (reference_kind.h) into the tables (tables.h), every
 * partition from its beginning, without a consumer group (as the events consumer: nothing is committed, no group
 * ACL is needed), and then on without pause, so a correction published later reaches the tables. A probe on the
 * threadpool finds the topics' partitions (librdkafka's metadata call waits for the network) every second: a topic
 * that does not exist yet, partitions added.
 *
 * A table is a function of its topic as it now is, what a replica started now would read. A topic deleted (and
 * maybe created again: a user resetting the pipeline) is noticed by the probe (gone, or fewer partitions) or by
 * its offsets going backwards; the table is then emptied, logged as an error, counted, and the topic read again
 * from its beginning. Not noticed: a topic deleted, created again and refilled past the offsets already read,
 * all between two probes (within a second).
 */
#ifndef QUERY_REFERENCE_FEED_H
#define QUERY_REFERENCE_FEED_H

#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "reference_kind.h"
#include "tables.h"

typedef struct reference_feed_s reference_feed_t;

/* Called on the loop after a batch of messages changed the tables (the joined streams push then). */
typedef void (*reference_feed_changed_cb)(void *data);

/*
 * Reads "<topic>.<kind>" for each kind into tables (kept by pointer, not owned). @returns the feed, or NULL with
 * errstr when the Kafka configuration is rejected.
 */
reference_feed_t *reference_feed_new(uv_loop_t *loop, const char *bootstrap_servers, const char *topic,
                                     const config_kv_t *kafka_props, tables_t *tables,
                                     reference_feed_changed_cb on_changed, void *data, char *errstr,
                                     size_t errstr_size);

/* True once every partition of every reference topic was read to the end it had when found. */
bool reference_feed_loaded(const reference_feed_t *f);
/* The partitions being read of kind's topic (0: the topic was not found yet). */
int reference_feed_partitions(const reference_feed_t *f, reference_kind_t kind);

/* How many times kind's table started over because its topic was deleted or created again. */
uint64_t reference_feed_resets(const reference_feed_t *f, reference_kind_t kind);

/* Shutdown: no new probe, no more messages. */
void reference_feed_close(reference_feed_t *f);
/* True while a probe is on the threadpool (the loop must run until it ends before reference_feed_free). */
bool reference_feed_busy(const reference_feed_t *f);
void reference_feed_free(reference_feed_t *f);

#endif
