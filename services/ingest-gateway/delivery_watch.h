/*
 * delivery_watch: tells when the producer holds messages that nothing acknowledges any more, and when
 * acknowledgements come again. librdkafka retries by itself and reports nothing while a partition waits for a
 * leader or a request in flight; without this, such a stall only shows as a replay that stopped moving.
 * Pure state: the producer feeds it the clock, librdkafka's queue length and its count of delivery reports from
 * a periodic timer (nothing per event), and logs what it says.
 */
#ifndef INGEST_DELIVERY_WATCH_H
#define INGEST_DELIVERY_WATCH_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    DELIVERY_WATCH_SAME,    /* nothing to tell */
    DELIVERY_WATCH_STALLED, /* messages waited stall_after_us with no delivery report */
    DELIVERY_WATCH_FLOWING, /* reports came again (or the queue emptied) after a stall */
} delivery_watch_change_t;

typedef struct delivery_watch_s {
    int64_t stall_after_us;
    uint64_t reports;          /* the report count at the last check */
    int64_t last_report_us;    /* when the count was last seen to move (0: never) */
    int64_t waiting_since_us;  /* the queue was seen non-empty at every check since (0: empty at the last) */
    int64_t quiet_since_us;    /* when stalled: since when nothing was reported while messages waited */
    bool stalled;
    uint64_t stalls;           /* stalls begun */
} delivery_watch_t;

void delivery_watch_init(delivery_watch_t *w, int64_t stall_after_us);

/*
 * One periodic look: waiting is how many messages librdkafka holds (queued or in flight), reports how many
 * delivery reports were served so far (acknowledged or failed: either way librdkafka answered).
 */
delivery_watch_change_t delivery_watch_check(delivery_watch_t *w, int64_t now_us, int waiting, uint64_t reports);

/* How long messages have waited with no report, us: the stall's length so far, or the one just ended. */
int64_t delivery_watch_quiet_for(const delivery_watch_t *w, int64_t now_us);

#endif
