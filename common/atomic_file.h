/*
 * atomic_file: replace a file so readers see the old or the new content, never a mix:
 * write a temp file beside it, optionally fsync, rename over the target, optionally fsync the directory.
 * It blocks on the disk: call it from a threadpool job (uv_queue_work) or at shutdown, not in a loop callback.
 */
#ifndef COMMON_ATOMIC_FILE_H
#define COMMON_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Writes data[0..len) to path atomically. durable: fsync the file before the rename and the directory after,
 * so the new content survives a crash (snapshots); without it only atomicity holds (CSV results).
 * @returns 0, or -1 with errstr filled (the target is left untouched, the temp file removed).
 */
int atomic_file_write(const char *path, const void *data, size_t len, bool durable, char *errstr, size_t errstr_size);

#endif
