#include "delivery_watch.h"

void delivery_watch_init(delivery_watch_t *w, int64_t stall_after_us)
{
    *w = (delivery_watch_t){.stall_after_us = stall_after_us};
}

delivery_watch_change_t delivery_watch_check(delivery_watch_t *w, int64_t now_us, int waiting, uint64_t reports)
{
    bool reported = reports != w->reports;
    if (reported) {
        w->reports = reports;
        w->last_report_us = now_us;
    }
    if (waiting <= 0)
        w->waiting_since_us = 0;
    else if (w->waiting_since_us == 0)
        w->waiting_since_us = now_us;

    if (w->stalled) {
        if (!reported && waiting > 0)
            return DELIVERY_WATCH_SAME;
        w->stalled = false;
        return DELIVERY_WATCH_FLOWING;
    }
    if (waiting <= 0)
        return DELIVERY_WATCH_SAME;
    /* Quiet since the later of: the last report, the first check that saw messages waiting. */
    int64_t quiet_since = w->last_report_us > w->waiting_since_us ? w->last_report_us : w->waiting_since_us;
    if (now_us - quiet_since < w->stall_after_us)
        return DELIVERY_WATCH_SAME;
    w->stalled = true;
    w->quiet_since_us = quiet_since;
    w->stalls++;
    return DELIVERY_WATCH_STALLED;
}

int64_t delivery_watch_quiet_for(const delivery_watch_t *w, int64_t now_us)
{
    return now_us - w->quiet_since_us;
}
