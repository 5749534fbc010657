/*
 * ingest-gateway: replays routes.dat into Kafka as Avro AirlineRouteEvents, over HTTP.
 * main only wires things together: configuration, logging, the loop, the gateway.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"
#include "log.h"

int main(int argc, char **argv)
{
    static gateway_t gw;
    config_option_t opts[32];
    size_t n = gateway_config_options(&gw.cfg, opts, 32);
    char errstr[512];
    const char *summary = "Replays the OpenFlights routes file into Kafka as Avro AirlineRouteEvents.";
    int rc = config_parse(opts, n, &gw.cfg.kafka_props, argc, argv, "ingest-gateway", summary, errstr, sizeof(errstr));
    if (rc == 1)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "ingest-gateway: %s\n", errstr);
        config_usage(stderr, "ingest-gateway", summary, opts, n);
        return 2;
    }
    log_level_t level;
    if (log_level_parse(gw.cfg.log_level, &level) != 0) {
        fprintf(stderr, "ingest-gateway: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    log_init("ingest-gateway", level);
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t *loop = uv_default_loop();
    if (gateway_start(&gw, loop, errstr, sizeof(errstr)) != 0) {
        log_error("start_failed", "%s", errstr);
        gateway_free(&gw);
        return 1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    gateway_free(&gw);
    log_info("stopped", "ingest-gateway stopped");
    return 0;
}
