/*
 * snapshot_load_buffer on arbitrary bytes (a state directory is the operator's, a disk can flip bits). The
 * header's body length and the CRC trailer are fixed up first, so that the input reaches the sections instead of
 * stopping at the checksum. Whatever loads must save and load again to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "query-service/snapshot.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void save(views_t *v, const char *topic, buf_t *out)
{
    snapshot_state_t s = {v, (char *)topic, {-1, BUF_INIT}, 0};
    snapshot_serialize(&s, out);
    snapshot_seal(out);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 32 || size > (1 << 20))
        return 0;
    buf_t in = BUF_INIT;
    buf_append(&in, data, size);
    uint64_t body = size - 24 - 8;
    for (int i = 0; i < 8; i++)
        in.data[16 + i] = (char)(body >> (8 * i));
    snapshot_seal(&in);

    views_config_t cfg;
    views_config_default(&cfg);
    cfg.recent_capacity = 1000;
    snapshot_state_t s;
    char err[512];
    if (snapshot_load_buffer(in.data, in.len, &cfg, &s, err, sizeof(err)) == 0) {
        buf_t a = BUF_INIT, b = BUF_INIT;
        save(s.views, s.topic, &a);
        snapshot_state_t again;
        if (snapshot_load_buffer(a.data, a.len, &cfg, &again, err, sizeof(err)) != 0)
            abort(); /* what was saved does not load */
        save(again.views, again.topic, &b);
        if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
            abort(); /* a round trip changed the state */
        snapshot_state_clear(&again);
        snapshot_state_clear(&s);
        buf_free(&a);
        buf_free(&b);
    }
    buf_free(&in);
    return 0;
}
