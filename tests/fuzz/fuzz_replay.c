/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_replay.c: runs a libFuzzer target over files, without libFuzzer
 *
 * Arguments are files or directories (every regular file inside is
 * run). Without arguments, runs the target's seed corpus under
 * $abs_top_srcdir: FUZZ_SEED_DIRS, a list of quoted directories the
 * build defines per target (by default the <domainsnapshot> seeds,
 * tests/xml/snapshot, tests/xml/snapshot-diff and tests/fuzz/corpus).
 * A broken promise in the target aborts, failing the test.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#ifndef FUZZ_SEED_DIRS
# define FUZZ_SEED_DIRS "tests/xml/snapshot", "tests/xml/snapshot-diff", \
    "tests/fuzz/corpus"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replayFile(const char *path, size_t *count)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fprintf(stderr, "cannot read %s: %s\n", path, err->message);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    (*count)++;
    return 0;
}


static int
replayPath(const char *path, size_t *count)
{
    g_autoptr(GDir) dir = NULL;
    const char *name;
    int ret = 0;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR))
        return replayFile(path, count);
    if (!(dir = g_dir_open(path, 0, NULL))) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_REGULAR) && replayFile(child, count) < 0)
            ret = -1;
    }
    return ret;
}


int
main(int argc, char **argv)
{
    size_t count = 0;
    int ret = 0;
    int i;

    if (argc > 1) {
        for (i = 1; i < argc; i++) {
            if (replayPath(argv[i], &count) < 0)
                ret = 1;
        }
    } else {
        const char *top = getenv("abs_top_srcdir");
        const char *dirs[] = { FUZZ_SEED_DIRS };
        size_t j;

        for (j = 0; j < G_N_ELEMENTS(dirs); j++) {
            g_autofree char *path = g_build_filename(top ? top : ".", dirs[j], NULL);

            if (replayPath(path, &count) < 0)
                ret = 1;
        }
    }
    printf("replayed %zu inputs\n", count);
    return ret;
}
