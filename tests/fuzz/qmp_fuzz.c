/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmp_fuzz.c: libFuzzer target for the QMP replies, as the monitor and
 * the block layer read them
 *
 * Each input is what the device model sends on its QMP socket, from the
 * greeting on, played into one end of a socketpair and then closed for
 * writing; the monitor reads the other end. The client runs the
 * conversation a snapshot operation has: capabilities, the block node
 * query (query-named-block-nodes, x-debug-query-block-graph,
 * query-block), query-jobs, human-monitor-command and a wait for an
 * event; the commands get ids xsnap-1, xsnap-2, ... in that order, and
 * each one runs even when the one before failed. Whatever is read must
 * hold together: every node named and findable, backing chains with a
 * format per file, disks found by their device names or a clean error,
 * events that format and read back to the same JSON. The end of input
 * ends every wait, so nothing times out. A broken promise aborts.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "util_error.h"
#include "qemu_monitor.h"
#include "qemu_block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (64 * 1024)


static G_GNUC_NORETURN void
fuzzFail(const char *what, const char *detail)
{
    fprintf(stderr, "qmp_fuzz: %s\n%s\n", what,
            detail ? detail : xsnapGetLastErrorMessage());
    abort();
}


static void
fuzzCheckList(const xsnapBlockNodeList *list)
{
    GHashTableIter iter;
    gpointer key;
    gpointer value;
    size_t i;

    for (i = 0; i < list->nodes->len; i++) {
        const xsnapBlockNode *node = g_ptr_array_index(list->nodes, i);
        const xsnapBlockNode *found;

        if (!node->nodeName || !node->snapshots || !node->backingFiles ||
            !node->backingFormats)
            fuzzFail("a block node lacks a name or a list", node->nodeName);
        if (g_strv_length(node->backingFiles) != g_strv_length(node->backingFormats))
            fuzzFail("a backing chain has not one format per file", node->nodeName);
        if (!(found = xsnapBlockNodeListFindNode(list, node->nodeName)) ||
            !g_str_equal(found->nodeName, node->nodeName))
            fuzzFail("a listed block node cannot be found by its name", node->nodeName);
        /* By name only: a path would make the lookup ask the file system. */
        if (!xsnapBlockNodeListFindDisk(list, node->nodeName, NULL))
            xsnapResetLastError();
    }

    g_hash_table_iter_init(&iter, list->deviceNodes);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        const xsnapBlockNode *found = xsnapBlockNodeListFindDisk(list, key, NULL);

        if (!found) {
            if (xsnapBlockNodeListFindNode(list, value))
                fuzzFail("a device whose root node is listed is not found", key);
            xsnapResetLastError();
        } else if (!g_str_equal(found->nodeName, value) &&
                   xsnapBlockNodeListFindNode(list, value)) {
            fuzzFail("a device is found on another node than its root", key);
        }
    }
}


/* An event must format and read back to the same text. */
static void
fuzzCheckEvent(json_object *event)
{
    const char *text = json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN);
    g_autofree char *copy = g_strdup(text);
    json_object *again = json_tokener_parse(copy);

    if (!again)
        fuzzFail("a queued event does not read back", copy);
    if (!g_str_equal(copy, json_object_to_json_string_ext(again, JSON_C_TO_STRING_PLAIN)))
        fuzzFail("a queued event formats differently once read back", copy);
    /* Its name need not be a string: such an event is kept, never matched. */
    if (!json_object_object_get_ex(event, "event", NULL))
        fuzzFail("a queued message is no event", copy);
    json_object_put(again);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(xsnapQemuMonitor) mon = NULL;
    g_autoptr(xsnapBlockNodeList) list = NULL;
    g_autofree char *human = NULL;
    xsnapQemuMonitorConfig cfg;
    xsnapQemuJobInfo info = { 0 };
    json_object *event = NULL;
    int sv[2];
    int rc;

    if (size > FUZZ_MAX_INPUT)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    /* The input fits the socket buffer; what does not is cut. */
    if (fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 ||
        (size && write(sv[1], data, size) < 0 && errno != EAGAIN)) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    shutdown(sv[1], SHUT_WR);

    xsnapQemuMonitorConfigInit(&cfg);
    cfg.connectTimeoutMs = 2000;
    cfg.commandTimeoutMs = 2000;
    cfg.maxLineBytes = 16 * 1024;
    cfg.maxEvents = 4;

    if (!(mon = xsnapQemuMonitorOpenFd(sv[0], "fuzz.qmp", &cfg))) {
        xsnapResetLastError();
        close(sv[1]);
        return 0;
    }

    if ((list = xsnapQemuBlockQuery(mon)))
        fuzzCheckList(list);
    xsnapResetLastError();

    rc = xsnapQemuJobQuery(mon, "xsnap-commit-xvda", &info);
    if (rc == 1 && !info.status)
        fuzzFail("a job was found without a status", NULL);
    if (rc != 1 && (info.status || info.error))
        fuzzFail("a job that was not found has a status", info.status);
    xsnapQemuJobInfoClear(&info);
    xsnapResetLastError();

    if (xsnapQemuHumanCommand(mon, "info snapshots", &human) == 0 && !human)
        fuzzFail("human-monitor-command succeeded without text", NULL);
    xsnapResetLastError();

    if (xsnapQemuMonitorWaitEvent(mon, "JOB_STATUS_CHANGE", 2000, &event) == 0) {
        if (g_strcmp0(xsnapJSONGetString(event, "event"), "JOB_STATUS_CHANGE") != 0)
            fuzzFail("the event waited for has another name", NULL);
        fuzzCheckEvent(event);
        json_object_put(event);
    }
    xsnapResetLastError();

    while ((event = xsnapQemuMonitorPopEvent(mon))) {
        fuzzCheckEvent(event);
        json_object_put(event);
    }

    close(sv[1]);
    return 0;
}
