#include "render.h"

#include "envelope.h"
#include "timestamp.h"

void render_top_airports(views_t *views, size_t n, buf_t *out)
{
    counted_entry_t top[RENDER_TOP_MAX];
    size_t count = counted_top(views_airports(views), n, COUNTED_KEY_ASC, top);
    struct json_object *arr = json_object_new_array_ext((int)count);
    for (size_t i = 0; i < count; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "count", json_object_new_int64((int64_t)top[i].count));
        json_object_object_add(o, "source_airport", json_object_new_string_len(top[i].key, (int)top[i].len));
        json_object_array_add(arr, o);
    }
    envelope_render(out, 200, false, "top10_source_airport", arr);
    json_object_put(arr);
}

void render_top_windows(views_t *views, size_t n, buf_t *out)
{
    window_count_t top[RENDER_TOP_MAX];
    size_t count = windows_top(views_windows(views), n, top);
    struct json_object *arr = json_object_new_array_ext((int)count);
    char start[TIMESTAMP_WINDOW_LEN + 1], end[TIMESTAMP_WINDOW_LEN + 1];
    for (size_t i = 0; i < count; i++) {
        timestamp_format_window(top[i].start_us, start);
        timestamp_format_window(top[i].end_us, end);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "count", json_object_new_int64((int64_t)top[i].count));
        json_object_object_add(o, "end", json_object_new_string(end));
        json_object_object_add(o, "equipment", json_object_new_string_len(top[i].equipment, (int)top[i].len));
        json_object_object_add(o, "start", json_object_new_string(start));
        json_object_array_add(arr, o);
    }
    envelope_render(out, 200, false, "top10_equipment_30min_window", arr);
    json_object_put(arr);
}

void render_event_row(buf_t *out, const recent_row_t *row)
{
    char when[TIMESTAMP_HTTP_LEN + 1];
    timestamp_format_http(row->datetime_us, when);
    /* Keys in sorted order, as Flask's jsonify writes them. */
    buf_append_str(out, "{\"airline\":");
    buf_append_json_string(out, row->airline, row->airline_len);
    /* Integers without printf: a full /dump_table renders 100,000 of these. */
    buf_append_str(out, ",\"airline_id\":");
    buf_append_i64(out, row->airline_id);
    buf_append_str(out, row->codeshare ? ",\"codeshare\":true,\"datetime\":\"" : ",\"codeshare\":false,\"datetime\":\"");
    buf_append_str(out, when);
    buf_append_str(out, "\",\"destination_airport\":");
    buf_append_json_string(out, row->destination_airport, row->destination_airport_len);
    buf_append_str(out, ",\"destination_airport_id\":");
    buf_append_i64(out, row->destination_airport_id);
    buf_append_str(out, ",\"equipment\":");
    buf_append_json_string(out, row->equipment, row->equipment_len);
    buf_append_str(out, ",\"id\":");
    buf_append_json_string(out, row->id, row->id_len);
    buf_append_str(out, ",\"source_airport\":");
    buf_append_json_string(out, row->source_airport, row->source_airport_len);
    buf_append_str(out, ",\"source_airport_id\":");
    buf_append_i64(out, row->source_airport_id);
    buf_append_str(out, ",\"stops\":");
    buf_append_i64(out, row->stops);
    buf_append_char(out, '}');
}
