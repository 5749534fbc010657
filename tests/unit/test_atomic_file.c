#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "test.h"

static char dir[] = "/tmp/test_atomic_file.XXXXXX";

static char *read_file(const char *path, size_t *len)
{
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    static char data[4096];
    *len = fread(data, 1, sizeof(data), f);
    fclose(f);
    return data;
}

static int count_entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_replaces_content(void)
{
    char path[256], err[256];
    size_t len;
    snprintf(path, sizeof(path), "%s/out.csv", dir);
    ASSERT_EQ(atomic_file_write(path, "first\n", 6, false, err, sizeof(err)), 0);
    const char *got = read_file(path, &len);
    ASSERT_MEM_EQ(got, len, "first\n");
    ASSERT_EQ(atomic_file_write(path, "second, longer\n", 15, true, err, sizeof(err)), 0);
    got = read_file(path, &len);
    ASSERT_MEM_EQ(got, len, "second, longer\n");
    ASSERT_EQ(atomic_file_write(path, "", 0, true, err, sizeof(err)), 0);
    ASSERT(read_file(path, &len) != NULL);
    ASSERT_EQ(len, 0);
    /* No temp file is left behind. */
    ASSERT_EQ(count_entries(), 1);
}

static void test_failure_leaves_target(void)
{
    char path[256], err[256];
    size_t len;
    snprintf(path, sizeof(path), "%s/missing-dir/out.csv", dir);
    ASSERT_EQ(atomic_file_write(path, "x", 1, false, err, sizeof(err)), -1);
    ASSERT(strstr(err, "missing-dir") != NULL);
    snprintf(path, sizeof(path), "%s/out.csv", dir);
    ASSERT(read_file(path, &len) != NULL);
}

int main(void)
{
    ASSERT(mkdtemp(dir) != NULL);
    RUN_TEST(test_replaces_content);
    RUN_TEST(test_failure_leaves_target);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
