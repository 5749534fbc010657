#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

static int config_set(const config_option_t *o, const char *value, const char *source, char *errstr, size_t errstr_size)
{
    switch (o->type) {
    case CONFIG_STRING:
        /* argv and the environment outlive the program's use of them: no copy, so nothing to free or leak. */
        *(const char **)o->target = value;
        return 0;
    case CONFIG_INT: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        /* The whole string must be the number: no blanks around it, no unit suffix. */
        if (errno != 0 || end == value || *end != '\0' || isspace((unsigned char)value[0]) || v < o->min || v > o->max) {
            snprintf(errstr, errstr_size, "%s: --%s must be an integer from %ld to %ld, got '%s'", source, o->name, o->min,
                     o->max, value);
            return -1;
        }
        *(long *)o->target = v;
        return 0;
    }
    case CONFIG_BOOL:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0) {
            *(int *)o->target = 1;
        } else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0) {
            *(int *)o->target = 0;
        } else {
            snprintf(errstr, errstr_size, "%s: --%s must be true or false, got '%s'", source, o->name, value);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int kv_add(config_kv_t *kv, const char *arg, char *errstr, size_t errstr_size)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        snprintf(errstr, errstr_size, "-X takes key=value, got '%s'", arg);
        return -1;
    }
    kv->keys = xrealloc(kv->keys, (kv->count + 1) * sizeof(char *));
    kv->values = xrealloc(kv->values, (kv->count + 1) * sizeof(char *));
    kv->keys[kv->count] = xstrndup(arg, (size_t)(eq - arg));
    kv->values[kv->count] = xstrdup(eq + 1);
    kv->count++;
    return 0;
}

int config_parse(const config_option_t *opts, size_t n_opts, config_kv_t *kafka_props, int argc, char **argv, const char *prog,
                 const char *summary, char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n_opts; i++)
        if (opts[i].fallback != NULL && config_set(&opts[i], opts[i].fallback, "default", errstr, errstr_size) != 0)
            return -1;
    for (size_t i = 0; i < n_opts; i++) {
        const char *v = opts[i].env != NULL ? getenv(opts[i].env) : NULL;
        if (v != NULL && v[0] != '\0') {
            char source[128];
            snprintf(source, sizeof(source), "environment %s", opts[i].env);
            if (config_set(&opts[i], v, source, errstr, errstr_size) != 0)
                return -1;
        }
    }
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            config_usage(stdout, prog, summary, opts, n_opts);
            return 1;
        }
        if (strncmp(arg, "-X", 2) == 0) {
            const char *kv = arg[2] != '\0' ? arg + 2 : (a + 1 < argc ? argv[++a] : NULL);
            if (kv == NULL) {
                snprintf(errstr, errstr_size, "-X needs key=value");
                return -1;
            }
            if (kafka_props == NULL) {
                snprintf(errstr, errstr_size, "-X is not supported by %s", prog);
                return -1;
            }
            if (kv_add(kafka_props, kv, errstr, errstr_size) != 0)
                return -1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            snprintf(errstr, errstr_size, "%s '%s'", arg[0] == '-' ? "unknown flag" : "unexpected argument", arg);
            return -1;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        const config_option_t *o = NULL;
        for (size_t i = 0; i < n_opts; i++)
            if (strlen(opts[i].name) == name_len && strncmp(opts[i].name, name, name_len) == 0)
                o = &opts[i];
        if (o == NULL) {
            snprintf(errstr, errstr_size, "unknown flag '%s'", arg);
            return -1;
        }
        const char *value = eq != NULL ? eq + 1 : NULL;
        if (value == NULL && o->type == CONFIG_BOOL)
            value = "true";
        if (value == NULL) {
            if (a + 1 >= argc) {
                snprintf(errstr, errstr_size, "--%s needs a value", o->name);
                return -1;
            }
            value = argv[++a];
        }
        if (config_set(o, value, "flag", errstr, errstr_size) != 0)
            return -1;
    }
    return 0;
}

void config_usage(FILE *out, const char *prog, const char *summary, const config_option_t *opts, size_t n_opts)
{
    fprintf(out, "Usage: %s [flags] [-X librdkafka.property=value ...]\n%s\n\nFlags (environment variable in brackets):\n",
            prog, summary);
    for (size_t i = 0; i < n_opts; i++) {
        char head[96];
        snprintf(head, sizeof(head), "--%s%s", opts[i].name, opts[i].type == CONFIG_BOOL ? "" : " VALUE");
        fprintf(out, "  %-34s %s", head, opts[i].help);
        if (opts[i].env != NULL)
            fprintf(out, " [%s]", opts[i].env);
        if (opts[i].fallback != NULL && opts[i].fallback[0] != '\0')
            fprintf(out, " (default: %s)", opts[i].fallback);
        fputc('\n', out);
    }
    fprintf(out, "  %-34s any librdkafka property, e.g. -X security.protocol=SASL_SSL (repeatable)\n"
                 "  %-34s this help\n",
            "-X key=value", "--help");
}

void config_kv_free(config_kv_t *kv)
{
    for (size_t i = 0; i < kv->count; i++) {
        free(kv->keys[i]);
        free(kv->values[i]);
    }
    free(kv->keys);
    free(kv->values);
    kv->keys = kv->values = NULL;
    kv->count = 0;
}
