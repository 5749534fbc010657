#include "continuity.h"

#include <stdio.h>

int64_t continuity_start(continuity_t *c, const position_t *pos)
{
    if (pos->next_offset > 0 && pos->fingerprint != 0) {
        c->phase = CONTINUITY_VERIFY;
        c->check_offset = pos->next_offset - 1;
        c->fingerprint = pos->fingerprint;
        return c->check_offset;
    }
    c->phase = CONTINUITY_FIRST;
    c->check_offset = -1;
    c->fingerprint = 0;
    return pos->next_offset > 0 ? pos->next_offset : CONTINUITY_BEGINNING;
}

continuity_verdict_t continuity_message(continuity_t *c, const position_t *pos, int64_t offset, uint64_t fingerprint,
                                        char *why, size_t why_size)
{
    switch (c->phase) {
    case CONTINUITY_VERIFY:
        if (offset == c->check_offset) {
            if (fingerprint != c->fingerprint) {
                snprintf(why, why_size,
                         "the message at offset %lld is not the one the state applied there: the topic was deleted "
                         "and created again",
                         (long long)offset);
                return CONTINUITY_RESET;
            }
            c->phase = CONTINUITY_RUNNING;
            return CONTINUITY_DROP;
        }
        if (offset < c->check_offset)
            return CONTINUITY_DROP; /* fetched before the seek */
        /* The message applied last is gone (compacted away, or a transaction marker): go on unchecked. */
        c->phase = CONTINUITY_FIRST;
        /* fall through */
    case CONTINUITY_FIRST:
        if (offset < pos->next_offset) {
            snprintf(why, why_size, "offsets went backwards: offset %lld delivered, the state is at %lld",
                     (long long)offset, (long long)pos->next_offset);
            return CONTINUITY_RESET;
        }
        c->phase = CONTINUITY_RUNNING;
        return offset > pos->next_offset ? CONTINUITY_SKIP : CONTINUITY_APPLY;
    case CONTINUITY_RUNNING:
        if (offset < pos->next_offset) {
            snprintf(why, why_size, "offsets went backwards: offset %lld delivered, the state is at %lld",
                     (long long)offset, (long long)pos->next_offset);
            return CONTINUITY_RESET;
        }
        return CONTINUITY_APPLY;
    case CONTINUITY_ASKING:
        break;
    }
    return CONTINUITY_DROP;
}

continuity_verdict_t continuity_end(continuity_t *c, const position_t *pos, int64_t end_offset, char *why,
                                    size_t why_size)
{
    if (c->phase == CONTINUITY_ASKING || end_offset < 0 || end_offset >= pos->next_offset)
        return CONTINUITY_DROP;
    snprintf(why, why_size, "the partition ends at offset %lld but the state has read up to %lld: the topic was "
             "deleted and created again, or truncated", (long long)end_offset, (long long)pos->next_offset);
    return CONTINUITY_RESET;
}

void continuity_out_of_range(continuity_t *c)
{
    c->phase = CONTINUITY_ASKING;
}

continuity_verdict_t continuity_range(continuity_t *c, const position_t *pos, int64_t first, int64_t end,
                                      int64_t *read_from, char *why, size_t why_size)
{
    if (end < pos->next_offset) {
        snprintf(why, why_size, "the partition ends at offset %lld but the state has read up to %lld: the topic was "
                 "deleted and created again, or truncated", (long long)end, (long long)pos->next_offset);
        return CONTINUITY_RESET;
    }
    c->phase = CONTINUITY_RUNNING;
    if (first > pos->next_offset) {
        *read_from = first;
        return CONTINUITY_SKIP;
    }
    *read_from = pos->next_offset;
    return CONTINUITY_APPLY;
}
