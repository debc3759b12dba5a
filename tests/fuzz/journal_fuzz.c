/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal_fuzz.c: libFuzzer target for the operation journal reader
 *
 * Each input is read as the contents of a journal file. Whatever reads
 * must give a value for each of its keys through the journal API, its
 * disk targets must each name a group, and it must write out as a
 * journal that reads back to the same values and writes out to the same
 * text. A broken promise aborts.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "util_error.h"
#include "snapshot_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (256 * 1024)
#define FUZZ_PATH "/fuzz/.create.journal"


static G_GNUC_NORETURN void
fuzzFail(const char *what, const char *a, const char *b)
{
    fprintf(stderr, "journal_fuzz: %s\n--- first:\n%s\n--- second:\n%s\n",
            what, a ? a : "(null)", b ? b : xsnapGetLastErrorMessage());
    abort();
}


/* The journal API's name for a group: NULL for the operation itself,
 * the disk target for a disk group; FALSE for any other group. */
static bool
fuzzGroupTarget(const char *group, const char **target)
{
    size_t plen = strlen(XSNAP_SNAPSHOT_JOURNAL_DISK_PREFIX);

    if (g_str_equal(group, XSNAP_SNAPSHOT_JOURNAL_GROUP)) {
        *target = NULL;
        return true;
    }
    if (g_str_has_prefix(group, XSNAP_SNAPSHOT_JOURNAL_DISK_PREFIX) && group[plen]) {
        *target = group + plen;
        return true;
    }
    return false;
}


/* Every key of @a must read the same through the API in @b. */
static void
fuzzCompare(xsnapSnapshotJournal *a, xsnapSnapshotJournal *b,
            const char *textA, const char *textB)
{
    g_auto(GStrv) groups = g_key_file_get_groups(a->data, NULL);
    g_auto(GStrv) targetsA = xsnapSnapshotJournalTargets(a);
    g_auto(GStrv) targetsB = xsnapSnapshotJournalTargets(b);
    size_t i;
    size_t j;

    if (g_strv_length(targetsA) != g_strv_length(targetsB))
        fuzzFail("the disk targets differ once written and read", textA, textB);
    for (i = 0; targetsA[i]; i++) {
        if (!g_str_equal(targetsA[i], targetsB[i]))
            fuzzFail("the disk targets differ once written and read", textA, textB);
    }

    for (i = 0; groups && groups[i]; i++) {
        g_auto(GStrv) keys = g_key_file_get_keys(a->data, groups[i], NULL, NULL);
        const char *target;

        if (!fuzzGroupTarget(groups[i], &target))
            continue;
        for (j = 0; keys && keys[j]; j++) {
            g_autofree char *va = xsnapSnapshotJournalGet(a, target, keys[j]);
            g_autofree char *vb = xsnapSnapshotJournalGet(b, target, keys[j]);

            if (g_strcmp0(va, vb) != 0)
                fuzzFail("a value differs once written and read", textA, textB);
        }
    }
}


/*
 * A journal holding what the API reads from @from, built with the API as
 * an operation builds its journal: the values of the operation and disk
 * groups that read as strings (a bad escape or bytes that are not UTF-8
 * read as none), set one by one.
 */
static xsnapSnapshotJournal *
fuzzRebuild(xsnapSnapshotJournal *from)
{
    g_auto(GStrv) groups = g_key_file_get_groups(from->data, NULL);
    xsnapSnapshotJournal *journal = g_new0(xsnapSnapshotJournal, 1);
    size_t i;
    size_t j;

    journal->lockFd = -1;
    journal->path = g_strdup(from->path);
    journal->data = g_key_file_new();
    for (i = 0; groups && groups[i]; i++) {
        g_auto(GStrv) keys = g_key_file_get_keys(from->data, groups[i], NULL, NULL);
        const char *target;

        if (!fuzzGroupTarget(groups[i], &target))
            continue;
        for (j = 0; keys && keys[j]; j++) {
            g_autofree char *val = xsnapSnapshotJournalGet(from, target, keys[j]);

            if (val)
                xsnapSnapshotJournalSet(journal, target, keys[j], val);
        }
    }
    return journal;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(xsnapSnapshotJournal) journal = NULL;
    g_autoptr(xsnapSnapshotJournal) raw = NULL;
    g_autoptr(xsnapSnapshotJournal) built = NULL;
    g_autoptr(xsnapSnapshotJournal) again = NULL;
    g_autofree char *rawText = NULL;
    g_autofree char *text1 = NULL;
    g_autofree char *text2 = NULL;
    g_auto(GStrv) targets = NULL;
    g_autofree char *input = NULL;
    size_t i;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    /* For messages only: the reader itself gets every byte. */
    input = g_strndup((const char *)data, size);

    if (!(journal = xsnapSnapshotJournalParse(FUZZ_PATH, (const char *)data, size))) {
        xsnapResetLastError();
        return 0;
    }

    /* What the store and the cleanup tool ask of every journal. */
    g_free(xsnapSnapshotJournalGet(journal, NULL, "snapshot"));
    targets = xsnapSnapshotJournalTargets(journal);
    for (i = 0; targets[i]; i++) {
        g_autofree char *group = g_strdup_printf("%s%s",
                                                 XSNAP_SNAPSHOT_JOURNAL_DISK_PREFIX,
                                                 targets[i]);
        if (!g_key_file_has_group(journal->data, group))
            fuzzFail("a disk target names no group", input, group);
        g_free(xsnapSnapshotJournalGet(journal, targets[i], "overlay"));
    }

    /* Written out as it was read, it must still read. (GKeyFile writes
     * such values as they were in the file, so a hand-made value with
     * trailing carriage returns loses one per round: only the journals
     * the API builds are promised to survive unchanged, below.) */
    rawText = g_key_file_to_data(journal->data, NULL, NULL);
    if (!(raw = xsnapSnapshotJournalParse(FUZZ_PATH, rawText, strlen(rawText))))
        fuzzFail("a written journal does not read", input, rawText);

    /* Built with the API and written as Write does, it must read back to
     * the same values and write out to the same text. */
    built = fuzzRebuild(journal);
    text1 = g_key_file_to_data(built->data, NULL, NULL);
    if (!(again = xsnapSnapshotJournalParse(FUZZ_PATH, text1, strlen(text1))))
        fuzzFail("a journal built with the API does not read", input, text1);
    fuzzCompare(built, again, text1, text1);
    text2 = g_key_file_to_data(again->data, NULL, NULL);
    if (!g_str_equal(text1, text2))
        fuzzFail("writing a journal built with the API is not stable", text1, text2);
    xsnapResetLastError();
    return 0;
}
