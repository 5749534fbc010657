/* recent: the ring of the most recent events: order, wraparound, sequence numbers, long strings. */
#include "test.h"

#include "query-service/recent.h"

static void make_event(route_event_t *ev, int i, const char *equipment)
{
    memset(ev, 0, sizeof(*ev));
    snprintf(ev->id_buf, sizeof(ev->id_buf), "00000000-0000-4000-8000-%012d", i);
    ev->id = (str_slice_t){ev->id_buf, strlen(ev->id_buf)};
    ev->datetime = (str_slice_t){"2021-05-04 09:58:32.123456", 26};
    ev->airline = (str_slice_t){"2B", 2};
    ev->airline_id = 410 + i;
    ev->source_airport = (str_slice_t){"AER", 3};
    ev->source_airport_id = 2965;
    ev->destination_airport = (str_slice_t){"KZN", 3};
    ev->destination_airport_id = -5;
    ev->codeshare = i % 2 == 0;
    ev->stops = i % 3;
    ev->equipment = (str_slice_t){equipment, strlen(equipment)};
}

static void check_row(const recent_row_t *row, int i, const char *equipment)
{
    char id[40];
    snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i);
    ASSERT_MEM_EQ(row->id, row->id_len, id);
    ASSERT_EQ(row->datetime_us, 1000 + i);
    ASSERT_MEM_EQ(row->airline, row->airline_len, "2B");
    ASSERT_EQ(row->airline_id, 410 + i);
    ASSERT_MEM_EQ(row->source_airport, row->source_airport_len, "AER");
    ASSERT_EQ(row->source_airport_id, 2965);
    ASSERT_MEM_EQ(row->destination_airport, row->destination_airport_len, "KZN");
    ASSERT_EQ(row->destination_airport_id, -5);
    ASSERT_EQ(row->codeshare, i % 2 == 0);
    ASSERT_EQ(row->stops, i % 3);
    ASSERT_MEM_EQ(row->equipment, row->equipment_len, equipment);
}

static void test_empty(void)
{
    recent_t *r = recent_new(0);
    recent_row_t row;
    ASSERT_EQ(recent_capacity(r), RECENT_DEFAULT_CAPACITY);
    ASSERT_EQ(recent_count(r), 0);
    ASSERT(!recent_get(r, 0, &row));
    ASSERT(!recent_get_seq(r, 0, &row));
    recent_free(r);
}

static void test_wraparound(void)
{
    recent_t *r = recent_new(5);
    route_event_t ev;
    recent_row_t row;
    for (int i = 0; i < 3; i++) {
        make_event(&ev, i, "CR2");
        recent_push(r, &ev, 1000 + i);
    }
    ASSERT_EQ(recent_count(r), 3);
    ASSERT(recent_get(r, 0, &row));
    check_row(&row, 0, "CR2");
    for (int i = 3; i < 12; i++) {
        make_event(&ev, i, "CR2");
        recent_push(r, &ev, 1000 + i);
    }
    ASSERT_EQ(recent_count(r), 5);
    ASSERT_EQ(recent_total_pushed(r), 12);
    for (int k = 0; k < 5; k++) {
        ASSERT(recent_get(r, (uint64_t)k, &row));
        check_row(&row, 7 + k, "CR2"); /* oldest first */
    }
    ASSERT(!recent_get(r, 5, &row));
    ASSERT(!recent_get_seq(r, 6, &row)); /* overwritten */
    ASSERT(recent_get_seq(r, 7, &row));
    check_row(&row, 7, "CR2");
    ASSERT(recent_get_seq(r, 11, &row));
    ASSERT(!recent_get_seq(r, 12, &row)); /* not pushed yet */
    recent_free(r);
}

/* Rows that do not fit inline go to the heap, freed or reused when overwritten (ASan checks leaks). */
static void test_long_strings(void)
{
    recent_t *r = recent_new(4);
    route_event_t ev;
    recent_row_t row;
    char longer[3000];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    for (int i = 0; i < 20; i++) {
        const char *eq = i % 3 == 0 ? longer : i % 3 == 1 ? "738 320 319 321 CR2 73H 737 757 767 777 A" : "";
        make_event(&ev, i, eq);
        recent_push(r, &ev, 1000 + i);
        ASSERT(recent_get_seq(r, (uint64_t)i, &row));
        check_row(&row, i, eq);
    }
    for (int i = 16; i < 20; i++) {
        const char *eq = i % 3 == 0 ? longer : i % 3 == 1 ? "738 320 319 321 CR2 73H 737 757 767 777 A" : "";
        ASSERT(recent_get_seq(r, (uint64_t)i, &row));
        check_row(&row, i, eq);
    }
    ASSERT_GT(recent_bytes(r), sizeof(longer));
    recent_free(r);
}

static void test_routes_capacity(void)
{
    recent_t *r = recent_new(100000);
    route_event_t ev;
    recent_row_t row;
    for (int i = 0; i < 66765; i++) {
        make_event(&ev, i, "CR2 738");
        recent_push(r, &ev, 1000 + i);
    }
    ASSERT_EQ(recent_count(r), 66765);
    ASSERT(recent_get(r, 0, &row));
    check_row(&row, 0, "CR2 738");
    ASSERT(recent_get(r, 66764, &row));
    check_row(&row, 66764, "CR2 738");
    recent_free(r);
}

static void test_restore_numbering(void)
{
    recent_t *r = recent_new(3);
    route_event_t ev;
    recent_row_t row;
    recent_set_total_pushed(r, 40);
    ASSERT_EQ(recent_count(r), 0);
    make_event(&ev, 40, "A");
    recent_push(r, &ev, 1040);
    ASSERT(recent_get_seq(r, 40, &row));
    check_row(&row, 40, "A");
    ASSERT(!recent_get_seq(r, 39, &row));
    recent_set_total_pushed(r, 0); /* not empty: ignored */
    ASSERT_EQ(recent_total_pushed(r), 41);
    recent_t *copy = recent_new(3);
    recent_set_total_pushed(copy, 40);
    recent_push_row(copy, &row);
    recent_row_t row2;
    ASSERT(recent_get_seq(copy, 40, &row2));
    check_row(&row2, 40, "A");
    recent_free(copy);
    recent_free(r);
}

int main(void)
{
    RUN_TEST(test_empty);
    RUN_TEST(test_wraparound);
    RUN_TEST(test_long_strings);
    RUN_TEST(test_routes_capacity);
    RUN_TEST(test_restore_numbering);
    return 0;
}
