/*
 * tables_apply on arbitrary messages (a reference topic is written by anyone with access to it): each input is a
 * sequence of messages, each a header byte (kind, tombstone bit), a key length byte, the key, a value length byte
 * and the value. Whatever is applied, a code's entry is the last valid message's, and a lookup never fails.
 */
#include <stdlib.h>
#include <string.h>

#include "query-service/tables.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    tables_t *t = tables_new();
    size_t i = 0;
    while (i + 3 <= size) {
        unsigned char head = data[i++];
        size_t klen = data[i++];
        if (i + klen + 1 > size)
            break;
        const char *key = (const char *)data + i;
        i += klen;
        size_t vlen = data[i++];
        if (i + vlen > size)
            vlen = size - i;
        const char *value = (const char *)data + i;
        i += vlen;
        reference_kind_t kind = (reference_kind_t)(head % REFERENCE_KINDS);
        bool tombstone = (head & 0x80) != 0;
        int rc = tables_apply(t, kind, key, klen, tombstone ? NULL : value, tombstone ? 0 : vlen);
        const table_entry_t *e = tables_get(t, kind, key, klen);
        if (tombstone && e != NULL)
            abort(); /* a tombstone deletes */
        if (!tombstone && rc == 0 && e == NULL)
            abort(); /* a valid entry is held */
        if (e != NULL && e->name != NULL)
            (void)strlen(e->name);
        if (e != NULL && e->has_position && (e->latitude < -90 || e->latitude > 90 || e->latitude_text == NULL))
            abort();
    }
    tables_free(t);
    return 0;
}
