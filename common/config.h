/*
 * config: command-line flags with environment equivalents, and kcat-style
 * "-X key=value" librdkafka properties. Precedence: default < environment < flag.
 */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include <stddef.h>
#include <stdio.h>

typedef enum { CONFIG_STRING, CONFIG_INT, CONFIG_BOOL } config_type_t;

typedef struct config_option_s {
    const char *name;     /* flag without dashes: "listen" is --listen VALUE or --listen=VALUE */
    const char *env;      /* environment variable, or NULL */
    config_type_t type;
    void *target;         /* char ** (the default, or into argv or the environment: never freed), long *, or int * (bool) */
    const char *fallback; /* the default, written as a flag's value would be ("5000", "true"); NULL: none, target kept */
    long min, max;        /* inclusive bounds for CONFIG_INT */
    const char *help;
} config_option_t;

/* The -X key=value pairs, in the order given; the caller frees with config_kv_free(). */
typedef struct config_kv_s {
    char **keys;
    char **values;
    size_t count;
} config_kv_t;

/*
 * Sets each option's default, then parses the environment, then argv. Bool flags take no value (--loop) or =true/false/1/0.
 * @returns 0 on success, 1 when --help was printed to stdout (caller exits 0),
 *          -1 with a message in errstr (caller prints usage and exits 2).
 */
int config_parse(const config_option_t *opts, size_t n_opts, config_kv_t *kafka_props, int argc, char **argv, const char *prog,
                 const char *summary, char *errstr, size_t errstr_size);
void config_usage(FILE *out, const char *prog, const char *summary, const config_option_t *opts, size_t n_opts);
void config_kv_free(config_kv_t *kv);

#endif
