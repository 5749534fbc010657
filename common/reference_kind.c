#include "reference_kind.h"

#include <stdio.h>

const char *reference_kind_name(reference_kind_t kind)
{
    static const char *const names[REFERENCE_KINDS] = {"airports", "airlines", "planes"};
    return kind < REFERENCE_KINDS ? names[kind] : "";
}

int reference_kind_topic(const char *topic, reference_kind_t kind, char *out, size_t out_size)
{
    int n = snprintf(out, out_size, "%s.%s", topic, reference_kind_name(kind));
    return n < 0 || (size_t)n >= out_size ? -1 : 0;
}
