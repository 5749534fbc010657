/*
 * continuity: whether what a partition delivers goes on from where the state stands in it.
 *
 * A state is only a function of the topic if each of its partitions was read once, in order, from the
 * beginning. Restarting from a saved position (positions.h) assumes the partition is still the one the state was
 * built from; a topic deleted and created again under the same name, or truncated, breaks that silently: the
 * offsets go backwards (the new partition is shorter) or, worse, the new partition is already longer and reading
 * on would mix two topics. So a partition starts one message early, at the message the state applied last, and
 * its fingerprint must match before anything new is applied; offsets below the position, or a partition that
 * ends before it, mean the topic is not the same. Offsets deleted before they were read (retention) are not an
 * error: they are skipped and reported.
 *
 * Pure logic, no Kafka: the consumer feeds it what librdkafka delivers and does what it answers.
 */
#ifndef QUERY_CONTINUITY_H
#define QUERY_CONTINUITY_H

#include <stddef.h>
#include <stdint.h>

#include "positions.h"

/* Where a partition is in the check. */
typedef enum {
    CONTINUITY_VERIFY,  /* waiting for the message at check_offset, which must have the state's fingerprint */
    CONTINUITY_FIRST,   /* waiting for the first message: it may start past the position (deleted offsets) */
    CONTINUITY_RUNNING, /* checked: messages go to the state */
    CONTINUITY_ASKING   /* out of range: waiting for the partition's first and end offsets (continuity_range) */
} continuity_phase_t;

typedef struct continuity_s {
    continuity_phase_t phase;
    int64_t check_offset;  /* CONTINUITY_VERIFY: the offset of the message the state applied last */
    uint64_t fingerprint;  /* ... and its fingerprint */
} continuity_t;

typedef enum {
    CONTINUITY_APPLY,   /* give the message to the state */
    CONTINUITY_DROP,    /* not for the state (the checked message, or one fetched before a seek) */
    CONTINUITY_SKIP,    /* offsets from the position up to the message's were deleted: skip them, then apply it */
    CONTINUITY_RESET    /* the topic is not the one the state was built from: rebuild (why says what was seen) */
} continuity_verdict_t;

/* Logical offset for "the partition's first offset still held" (librdkafka's RD_KAFKA_OFFSET_BEGINNING). */
#define CONTINUITY_BEGINNING (-2)

/*
 * Arms c for a partition whose state stands at pos. @returns the offset to read from: the message applied last
 * (when its fingerprint is known), else the position, or CONTINUITY_BEGINNING for a partition never read.
 */
int64_t continuity_start(continuity_t *c, const position_t *pos);

/* A message at offset with fingerprint arrived; pos is where the state stands now. */
continuity_verdict_t continuity_message(continuity_t *c, const position_t *pos, int64_t offset, uint64_t fingerprint,
                                        char *why, size_t why_size);

/* The partition's end (high watermark) was reported as end_offset: @returns CONTINUITY_RESET when it ends before
 * the position, else CONTINUITY_DROP (nothing to do). */
continuity_verdict_t continuity_end(continuity_t *c, const position_t *pos, int64_t end_offset, char *why,
                                    size_t why_size);

/* The offset asked for is out of range: c waits for continuity_range. */
void continuity_out_of_range(continuity_t *c);

/*
 * The partition holds offsets [first, end). @returns CONTINUITY_RESET (it ends before the position),
 * CONTINUITY_SKIP (the position was deleted: skip to *read_from = first) or CONTINUITY_APPLY (read on from
 * *read_from, without the check: the message applied last is gone but nothing after it).
 */
continuity_verdict_t continuity_range(continuity_t *c, const position_t *pos, int64_t first, int64_t end,
                                      int64_t *read_from, char *why, size_t why_size);

#endif
