/*
 * snapshot_format: the layout of snapshot.bin, shared by its writer (snapshot_write.c) and its reader
 * (snapshot_read.c). Internal to the snapshot module; snapshot.h describes the format.
 */
#ifndef QUERY_SNAPSHOT_FORMAT_H
#define QUERY_SNAPSHOT_FORMAT_H

#include <stdint.h>

#define SNAPSHOT_MAGIC "FRSNAP01"
#define SNAPSHOT_MAGIC_LEN 8
/* Sections are added, never changed: every release reads the snapshots of those before and after it. */
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_HEADER_LEN 24 /* magic, version, zero, body length */
#define SNAPSHOT_TRAILER_LEN 8 /* CRC-64-AVRO of header and body */
/* Far above any real state; keeps a bad length from allocating wildly. */
#define SNAPSHOT_MAX_FILE (UINT64_C(1) << 32)

enum {
    SEC_TOPIC = 1,
    SEC_OFFSETS,   /* per partition: the next offset */
    SEC_CONFIG,    /* window size, grace, retention, recent capacity, events applied */
    SEC_AIRPORTS,
    SEC_WINDOWS,   /* the watermark (stored as watermark + grace: the highest event time to older readers), the
                    * late count, the rows */
    SEC_RECENT,
    SEC_EVICTED,   /* equipment_windows.csv's part of the state */
    SEC_POSITIONS, /* per partition: the fingerprint of the message applied last, the offsets skipped */
    SEC_COUNTERS,  /* undecodable messages */
    SEC_META,      /* when the views last held everything the topic held */
    SEC_TIMES,     /* per partition: its event time */
    SEC_SLIDE,     /* the distance between window starts (absent: the window size, tumbling) */
    SEC_ROUTE_COUNTS, /* route_counts.h: per airline, per airport pair, per plane code */
    SEC_COUNT
};

/* Sections every snapshot has; those from EVICTED on came later and are optional. */
#define SEC_REQUIRED_END SEC_EVICTED

extern const char *const snapshot_section_names[SEC_COUNT];

#endif
