/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * driverentrytest.c: the 16 snapshot callbacks, the undefine wrapper and
 * the job callbacks
 *
 * The callbacks only use public accessors of the domain they are given,
 * so a domain of libvirt's own test driver (test:///default) stands in
 * for a Xen one. Errors go through the real bridge into libvirt, and
 * are read back with virGetLastError(), as a client would see them.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutils.h"
#include "util_error.h"
#include "driver_entry.h"
#include "driver_error.h"
#include "driver_state.h"
#include "hypervisor.h"
#include "snapshot_ops.h"

static virConnectPtr conn;
static virDomainPtr dom;
static char *libDir;

#define SLOT(type, slot) ((type)xsnapDriverSnapshotSlots[slot])
#define CREATE SLOT(xsnapDrvSnapshotCreateXML, XSNAP_SLOT_SNAPSHOT_CREATE_XML)
#define GETXML SLOT(xsnapDrvSnapshotGetXMLDesc, XSNAP_SLOT_SNAPSHOT_GET_XML_DESC)
#define NUM SLOT(xsnapDrvSnapshotNum, XSNAP_SLOT_SNAPSHOT_NUM)
#define LISTNAMES SLOT(xsnapDrvSnapshotListNames, XSNAP_SLOT_SNAPSHOT_LIST_NAMES)
#define LISTALL SLOT(xsnapDrvListAllSnapshots, XSNAP_SLOT_LIST_ALL_SNAPSHOTS)
#define NUMCHILDREN SLOT(xsnapDrvSnapshotNumChildren, XSNAP_SLOT_SNAPSHOT_NUM_CHILDREN)
#define CHILDNAMES SLOT(xsnapDrvSnapshotListChildrenNames, XSNAP_SLOT_SNAPSHOT_LIST_CHILDREN_NAMES)
#define ALLCHILDREN SLOT(xsnapDrvSnapshotListAllChildren, XSNAP_SLOT_SNAPSHOT_LIST_ALL_CHILDREN)
#define LOOKUP SLOT(xsnapDrvSnapshotLookupByName, XSNAP_SLOT_SNAPSHOT_LOOKUP_BY_NAME)
#define HASCURRENT SLOT(xsnapDrvHasCurrentSnapshot, XSNAP_SLOT_HAS_CURRENT_SNAPSHOT)
#define PARENT SLOT(xsnapDrvSnapshotGetParent, XSNAP_SLOT_SNAPSHOT_GET_PARENT)
#define CURRENT SLOT(xsnapDrvSnapshotCurrent, XSNAP_SLOT_SNAPSHOT_CURRENT)
#define ISCURRENT SLOT(xsnapDrvSnapshotIsCurrent, XSNAP_SLOT_SNAPSHOT_IS_CURRENT)
#define HASMETA SLOT(xsnapDrvSnapshotHasMetadata, XSNAP_SLOT_SNAPSHOT_HAS_METADATA)
#define REVERT SLOT(xsnapDrvRevertToSnapshot, XSNAP_SLOT_REVERT_TO_SNAPSHOT)
#define DELETE SLOT(xsnapDrvSnapshotDelete, XSNAP_SLOT_SNAPSHOT_DELETE)

/* Checks the error a failed callback left in libvirt. */
static int
expectError(int code, const char *part)
{
    virErrorPtr err = virGetLastError();

    if (!err || err->code != code || err->domain != VIR_FROM_LIBXL ||
        (part && (!err->message || !strstr(err->message, part)))) {
        xsnapTestFail("expected error %d (%s), got %d/%d: %s", code,
                      part ? part : "", err ? err->code : -1,
                      err ? err->domain : -1,
                      err && err->message ? err->message : "none");
        return -1;
    }
    virResetLastError();
    return 0;
}


static virDomainSnapshotPtr
redefine(const char *name, const char *parent, unsigned int extra)
{
    g_autofree char *xml = g_strdup_printf(
        "<domainsnapshot><name>%s</name>%s%s%s<state>shutoff</state>"
        "<creationTime>%d</creationTime></domainsnapshot>",
        name, parent ? "<parent><name>" : "", parent ? parent : "",
        parent ? "</name></parent>" : "", 1700000000 + (int)strlen(name));

    return CREATE(dom, xml, VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE | extra);
}


static bool
sameName(virDomainSnapshotPtr snap, const char *name)
{
    bool ok = snap && g_str_equal(virDomainSnapshotGetName(snap), name);

    if (snap)
        virDomainSnapshotFree(snap);
    return ok;
}


static int
testEmpty(const void *data XSNAP_UNUSED)
{
    if (NUM(dom, 0) != 0 || HASCURRENT(dom, 0) != 0)
        return -1;
    if (CURRENT(dom, 0) || expectError(VIR_ERR_NO_DOMAIN_SNAPSHOT, "current") < 0)
        return -1;
    if (LOOKUP(dom, "nope", 0) ||
        expectError(VIR_ERR_NO_DOMAIN_SNAPSHOT, "nope") < 0)
        return -1;
    return 0;
}


static int
testRedefine(const void *data XSNAP_UNUSED)
{
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;

    /* s1 -> {s2, s3}, s3 -> s4; s1 current first, then s3. */
    if (!sameName(redefine("s1", NULL, VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT), "s1") ||
        !sameName(redefine("s2", "s1", 0), "s2") ||
        !sameName(redefine("s3", "s1", VIR_DOMAIN_SNAPSHOT_CREATE_VALIDATE), "s3") ||
        !sameName(redefine("s4", "s3", VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT), "s4"))
        return -1;
    /* Redefining in place keeps the children. */
    if (!sameName(redefine("s3", "s1", VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT), "s3"))
        return -1;

    path = g_build_filename(libDir, "snapshot", "test", "s3.xml", NULL);
    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !strstr(text, "<active>1</active>"))
        return -1;
    g_clear_pointer(&path, g_free);
    g_clear_pointer(&text, g_free);
    path = g_build_filename(libDir, "snapshot", "test", "s4.xml", NULL);
    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        !strstr(text, "<active>0</active>"))
        return -1;

    /* A parent that does not exist, a bad name, a foreign domain. */
    if (redefine("s9", "nope", 0) || expectError(VIR_ERR_INVALID_ARG, NULL) < 0)
        return -1;
    if (redefine(".hidden", NULL, 0) || expectError(VIR_ERR_XML_DETAIL, NULL) < 0)
        return -1;
    if (CREATE(dom, "<domainsnapshot><name>x</name><state>shutoff</state>"
               "<creationTime>1</creationTime><domain type='xen'><name>o</name>"
               "<uuid>11111111-2222-3333-4444-555555555555</uuid></domain>"
               "</domainsnapshot>", VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE) ||
        expectError(VIR_ERR_INVALID_ARG, "must use uuid") < 0)
        return -1;
    if (CREATE(dom, "<domainsnapshot>", VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE) ||
        expectError(VIR_ERR_XML_DETAIL, "domainsnapshot") < 0)
        return -1;
    return NUM(dom, 0) == 4 ? 0 : -1;
}


static int
testQueries(const void *data XSNAP_UNUSED)
{
    virDomainSnapshotPtr s1 = LOOKUP(dom, "s1", 0);
    virDomainSnapshotPtr s3 = LOOKUP(dom, "s3", 0);
    virDomainSnapshotPtr *all = NULL;
    char *names[8] = { NULL };
    g_autofree char *xml = NULL;
    int ret = -1;
    int n;
    int i;

    if (!s1 || !s3)
        goto cleanup;
    if (NUM(dom, VIR_DOMAIN_SNAPSHOT_LIST_ROOTS) != 1 ||
        NUM(dom, VIR_DOMAIN_SNAPSHOT_LIST_LEAVES) != 2 ||
        NUMCHILDREN(s1, 0) != 2 ||
        NUMCHILDREN(s1, VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS) != 3)
        goto cleanup;

    /* Names: at most maxnames, each freed by the caller with free(). */
    if ((n = LISTNAMES(dom, names, 2, 0)) != 2)
        goto cleanup;
    for (i = 0; i < n; i++)
        g_clear_pointer(&names[i], free);
    if ((n = CHILDNAMES(s1, names, 8, VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS |
                        VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL)) != 3)
        goto cleanup;
    if (!g_str_equal(names[2], "s4") && !g_str_equal(names[1], "s4"))
        goto cleanup;
    for (i = 0; i < n; i++)
        g_clear_pointer(&names[i], free);

    /* Handles: a NULL-terminated array freed with free(). */
    if (LISTALL(dom, NULL, 0) != 4 || (n = LISTALL(dom, &all, 0)) != 4 || all[4])
        goto cleanup;
    for (i = 0; i < n; i++)
        virDomainSnapshotFree(all[i]);
    free(all);
    all = NULL;
    if ((n = ALLCHILDREN(s3, &all, 0)) != 1 || !sameName(all[0], "s4") || all[1])
        goto cleanup;
    free(all);
    all = NULL;

    if (!sameName(CURRENT(dom, 0), "s3") || HASCURRENT(dom, 0) != 1 ||
        ISCURRENT(s3, 0) != 1 || ISCURRENT(s1, 0) != 0 || HASMETA(s1, 0) != 1)
        goto cleanup;
    if (!sameName(PARENT(s3, 0), "s1"))
        goto cleanup;
    if (PARENT(s1, 0) || expectError(VIR_ERR_NO_DOMAIN_SNAPSHOT, "parent") < 0)
        goto cleanup;

    if (!(xml = GETXML(s3, VIR_DOMAIN_SNAPSHOT_XML_SECURE)) ||
        !strstr(xml, "<name>s3</name>") || !strstr(xml, "<name>s1</name>") ||
        !strstr(xml, "<creationTime>") || !strstr(xml, "<state>shutoff</state>") ||
        !strstr(xml, "<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>") ||
        strstr(xml, "<active>")) {
        xsnapTestFail("%s", xml ? xml : "no XML");
        goto cleanup;
    }
    ret = 0;

 cleanup:
    if (all) {
        for (i = 0; all[i]; i++)
            virDomainSnapshotFree(all[i]);
        free(all);
    }
    for (i = 0; i < 8; i++)
        free(names[i]);
    if (s1)
        virDomainSnapshotFree(s1);
    if (s3)
        virDomainSnapshotFree(s3);
    return ret;
}


/* The test driver's domains have no Xen behind them: the operations stop
 * at their first question to the hypervisor. */
static int
fakeState(virDomainPtr d XSNAP_UNUSED, int *reason XSNAP_UNUSED)
{
    xsnapReportError(VIR_ERR_OPERATION_INVALID, "%s", "no hypervisor in this test");
    return -1;
}

static const xsnapHypervisor fakeHypervisor = { .state = fakeState };


static int
testFlagsAndUnsupported(const void *data XSNAP_UNUSED)
{
    virDomainSnapshotPtr s1 = LOOKUP(dom, "s1", 0);
    int ret = -1;

    if (!s1)
        return -1;
    if (NUM(dom, 1u << 30) >= 0 ||
        expectError(VIR_ERR_INVALID_ARG, "unsupported flags (0x40000000)") < 0)
        goto cleanup;
    if (GETXML(s1, 2) || expectError(VIR_ERR_INVALID_ARG, "unsupported flags") < 0)
        goto cleanup;
    if (redefine("s5", NULL, VIR_DOMAIN_SNAPSHOT_CREATE_LIVE) ||
        expectError(VIR_ERR_INVALID_ARG, "unsupported flags (0x100)") < 0)
        goto cleanup;
    xsnapHypervisorSet(&fakeHypervisor);
    if (CREATE(dom, "<domainsnapshot/>", VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE) ||
        expectError(VIR_ERR_INVALID_ARG, "disk-only") < 0)
        goto cleanup;
    if (CREATE(dom, "<domainsnapshot/>", VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT) ||
        expectError(VIR_ERR_INVALID_ARG, "redefining") < 0)
        goto cleanup;
    if (CREATE(dom, "<domainsnapshot/>", 0) ||
        expectError(VIR_ERR_OPERATION_INVALID, "no hypervisor") < 0)
        goto cleanup;
    if (REVERT(s1, VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING |
               VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED) >= 0 ||
        expectError(VIR_ERR_INVALID_ARG, "exclusive") < 0)
        goto cleanup;
    if (DELETE(s1, 0) >= 0 || expectError(VIR_ERR_OPERATION_INVALID, "no hypervisor") < 0)
        goto cleanup;
    ret = NUM(dom, 0) == 4 ? 0 : -1;

 cleanup:
    xsnapHypervisorSet(NULL);
    virDomainSnapshotFree(s1);
    return ret;
}


static gpointer
busyCaller(gpointer opaque XSNAP_UNUSED)
{
    if (NUM(dom, 0) >= 0)
        return GINT_TO_POINTER(-1);
    return GINT_TO_POINTER(expectError(VIR_ERR_OPERATION_TIMEOUT,
                                       "still running"));
}


/* A caller finding the domain busy gives up after the bounded wait. */
static int
testBusy(const void *data XSNAP_UNUSED)
{
    xsnapDomainSnapshots *snaps;
    GThread *thread;
    int ret;

    g_setenv("XSNAP_LOCK_WAIT_MS", "100", TRUE);
    if (!(snaps = xsnapDriverStateAcquire(dom)))
        return -1;
    thread = g_thread_new("busy", busyCaller, NULL);
    ret = GPOINTER_TO_INT(g_thread_join(thread));
    xsnapDriverStateRelease(snaps);
    g_unsetenv("XSNAP_LOCK_WAIT_MS");
    if (ret == 0 && NUM(dom, 0) < 0)
        ret = -1;
    return ret;
}


/* A stand-in for a running Xen domain with one disk left out of the
 * snapshot, so that only the memory step runs. */
static int hvSaveFails;
static int hvContinued;
static long long hvSeenWritten = -1;

/* The job callbacks, and the operation the last state query saw. */
static xsnapDriverJobSlots jobSlots;
static int hvSeenStateOperation = -1;

static int
hvState(virDomainPtr d, int *reason)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    int type;

    if (reason)
        *reason = 0;
    if (jobSlots.getJobStats &&
        jobSlots.getJobStats(d, &type, &params, &nparams, 0) == 0) {
        if (virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION,
                                 &hvSeenStateOperation) != 1)
            hvSeenStateOperation = -1;
        virTypedParamsFree(params, nparams);
    }
    return VIR_DOMAIN_RUNNING;
}

static int
hvDestroyFails(virDomainPtr d XSNAP_UNUSED)
{
    xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s", "injected destroy failure");
    return -1;
}

static char *
hvGetXML(virDomainPtr d XSNAP_UNUSED, bool inactive XSNAP_UNUSED)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    virDomainGetUUIDString(dom, uuid);
    return g_strdup_printf("<domain type='xen'><name>test</name><uuid>%s</uuid>"
                           "<devices><disk type='file' device='disk'>"
                           "<driver name='qemu' type='raw'/><source file='/nonexistent.raw'/>"
                           "<target dev='xvda'/></disk></devices></domain>", uuid);
}

static int
hvStub(virDomainPtr d XSNAP_UNUSED)
{
    return 0;
}

/* What the job callbacks showed while the memory was being saved. */
static virDomainJobInfo hvSeenInfo;
static int hvSeenStatsType = -1;
static int hvSeenOperation = -1;
static unsigned long long hvSeenStats[3];   /* processed, remaining, total */
static int hvSeenAbortCode = -1;
static virDomainJobInfo hvSeenCapped;

static void
hvSampleJob(virDomainPtr d)
{
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    virErrorPtr err;

    if (!jobSlots.getJobInfo)
        return;
    if (jobSlots.getJobInfo(d, &hvSeenInfo) < 0)
        hvSeenInfo.type = -1;
    if (jobSlots.getJobStats(d, &hvSeenStatsType, &params, &nparams, 0) == 0) {
        virTypedParamsGetInt(params, nparams, VIR_DOMAIN_JOB_OPERATION,
                             &hvSeenOperation);
        virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_PROCESSED,
                                &hvSeenStats[0]);
        virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_REMAINING,
                                &hvSeenStats[1]);
        virTypedParamsGetULLong(params, nparams, VIR_DOMAIN_JOB_DATA_TOTAL,
                                &hvSeenStats[2]);
        virTypedParamsFree(params, nparams);
    }
    if (jobSlots.abortJob(d) < 0 && (err = virGetLastError()))
        hvSeenAbortCode = err->code;
    virResetLastError();
}

static int
hvSaveMemory(virDomainPtr d, int fd, bool live XSNAP_UNUSED,
             xsnapMemoryFormat format XSNAP_UNUSED, uint64_t *streamLen,
             xsnapMemoryProgress *progress)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    xsnapOpsJobInfo job;

    if (write(fd, "stream", 6) != 6)
        return -1;
    /* Half-way, then past the total: the image's header counts too. */
    progress->total = 6;
    progress->written = 3;
    hvSampleJob(d);
    progress->written = 6;
    virDomainGetUUIDString(d, uuid);
    if (xsnapOpsGetJob(uuid, &job) == 1 && job.kind == XSNAP_OPS_JOB_CREATE &&
        job.memory && job.total == 6)
        hvSeenWritten = (long long)job.written;
    progress->written = 7;
    if (jobSlots.getJobInfo && jobSlots.getJobInfo(d, &hvSeenCapped) < 0)
        hvSeenCapped.type = -1;
    if (hvSaveFails) {
        xsnapReportError(VIR_ERR_OPERATION_FAILED, "%s", "injected save failure");
        return -1;
    }
    *streamLen = 6;
    return 0;
}


static int
hvContinue(virDomainPtr d XSNAP_UNUSED, bool paused XSNAP_UNUSED)
{
    hvContinued++;
    return 0;
}

static const xsnapHypervisor memoryHypervisor = {
    .state = hvState,
    .getXML = hvGetXML,
    .isStubdom = hvStub,
    .saveMemory = hvSaveMemory,
    .continueAfterSave = hvContinue,
    .destroy = hvDestroyFails,
};


/* The memory step: progress visible while it runs, a failure leaves no
 * image and no metadata, a success is deleted with its image. */
static int
testMemoryStep(const void *data XSNAP_UNUSED)
{
    const char *xml = "<domainsnapshot><name>mem</name>"
                      "<disks><disk name='xvda' snapshot='no'/></disks></domainsnapshot>";
    g_autofree char *image = g_build_filename(libDir, "snapshot", "test", "mem.save", NULL);
    virDomainSnapshotPtr snap = NULL;
    int before = NUM(dom, 0);
    int ret = -1;

    xsnapHypervisorSet(&memoryHypervisor);
    hvSaveFails = 1;
    if (CREATE(dom, xml, 0) || expectError(VIR_ERR_OPERATION_FAILED, "injected") < 0)
        goto cleanup;
    if (g_file_test(image, G_FILE_TEST_EXISTS) || NUM(dom, 0) != before ||
        hvSeenWritten != 6) {
        xsnapTestFail("failed memory step left an image, metadata, or no progress");
        goto cleanup;
    }
    hvSaveFails = 0;
    if (!(snap = CREATE(dom, xml, 0)) || hvContinued != 1 ||
        !g_file_test(image, G_FILE_TEST_EXISTS) || NUM(dom, 0) != before + 1) {
        xsnapTestFail("memory snapshot not created as expected");
        goto cleanup;
    }
    if (DELETE(snap, 0) < 0 || g_file_test(image, G_FILE_TEST_EXISTS) ||
        NUM(dom, 0) != before) {
        xsnapTestFail("memory snapshot not deleted with its image");
        goto cleanup;
    }
    ret = 0;

 cleanup:
    if (snap)
        virDomainSnapshotFree(snap);
    xsnapHypervisorSet(NULL);
    return ret;
}


static int stockJobCalls;
static int stockJobFails;

static int
fakeGetJobInfo(virDomainPtr d XSNAP_UNUSED, virDomainJobInfoPtr info)
{
    stockJobCalls++;
    if (stockJobFails)
        return -1;
    memset(info, 0, sizeof(*info));
    info->type = VIR_DOMAIN_JOB_NONE;
    return 0;
}


static int
fakeGetJobStats(virDomainPtr d XSNAP_UNUSED, int *type,
                virTypedParameterPtr *params, int *nparams,
                unsigned int flags XSNAP_UNUSED)
{
    stockJobCalls++;
    if (stockJobFails)
        return -1;
    *type = VIR_DOMAIN_JOB_NONE;
    *params = NULL;
    *nparams = 0;
    return 0;
}


/* A snapshot being created shows as a job with the memory counter; the
 * stock answer stands otherwise, and the stock checks always run. */
static int
testJobs(const void *data XSNAP_UNUSED)
{
    const char *xml = "<domainsnapshot><name>job</name>"
                      "<disks><disk name='xvda' snapshot='no'/></disks></domainsnapshot>";
    virDomainSnapshotPtr snap = NULL;
    virDomainJobInfo info;
    virTypedParameterPtr params = NULL;
    int nparams = 0;
    int type = -1;
    int ret = -1;

    xsnapDriverEntrySetJobs(fakeGetJobInfo, fakeGetJobStats, &jobSlots);
    xsnapHypervisorSet(&memoryHypervisor);
    hvSaveFails = 0;

    if (jobSlots.getJobInfo(dom, &info) < 0 || info.type != VIR_DOMAIN_JOB_NONE ||
        jobSlots.getJobStats(dom, &type, &params, &nparams, 0) < 0 ||
        type != VIR_DOMAIN_JOB_NONE || nparams != 0 || stockJobCalls != 2) {
        xsnapTestFail("an idle domain does not get the stock answer");
        goto cleanup;
    }
    if (jobSlots.abortJobFlags(dom, 0) >= 0 ||
        expectError(VIR_ERR_NO_SUPPORT, "cannot abort") < 0 ||
        jobSlots.abortJobFlags(dom, 0x100) >= 0 ||
        expectError(VIR_ERR_INVALID_ARG, "unsupported flags") < 0)
        goto cleanup;

    if (!(snap = CREATE(dom, xml, 0)))
        goto cleanup;
    if (hvSeenInfo.type != VIR_DOMAIN_JOB_UNBOUNDED ||
        hvSeenInfo.dataProcessed != 3 || hvSeenInfo.dataRemaining != 3 ||
        hvSeenInfo.dataTotal != 6 || hvSeenInfo.memProcessed != 3 ||
        hvSeenInfo.memTotal != 6 || hvSeenInfo.timeElapsed > 60000) {
        xsnapTestFail("job info during the save: type %d, %llu/%llu/%llu",
                      hvSeenInfo.type, hvSeenInfo.dataProcessed,
                      hvSeenInfo.dataRemaining, hvSeenInfo.dataTotal);
        goto cleanup;
    }
    if (hvSeenStatsType != VIR_DOMAIN_JOB_UNBOUNDED ||
        hvSeenOperation != VIR_DOMAIN_JOB_OPERATION_SNAPSHOT ||
        hvSeenStats[0] != 3 || hvSeenStats[1] != 3 || hvSeenStats[2] != 6) {
        xsnapTestFail("job stats during the save: type %d, operation %d, %llu/%llu/%llu",
                      hvSeenStatsType, hvSeenOperation, hvSeenStats[0],
                      hvSeenStats[1], hvSeenStats[2]);
        goto cleanup;
    }
    if (hvSeenAbortCode != VIR_ERR_OPERATION_INVALID ||
        hvSeenCapped.dataProcessed != 6 || hvSeenCapped.dataRemaining != 0) {
        xsnapTestFail("abort during the save gave %d, progress past the end %llu/%llu",
                      hvSeenAbortCode, hvSeenCapped.dataProcessed,
                      hvSeenCapped.dataRemaining);
        goto cleanup;
    }

    /* Over: the stock answer again, and a stock failure stands. */
    if (jobSlots.getJobInfo(dom, &info) < 0 || info.type != VIR_DOMAIN_JOB_NONE)
        goto cleanup;
    stockJobFails = 1;
    if (jobSlots.getJobInfo(dom, &info) >= 0 ||
        jobSlots.getJobStats(dom, &type, &params, &nparams, 0) >= 0) {
        xsnapTestFail("a stock failure was hidden");
        goto cleanup;
    }
    stockJobFails = 0;

    /* Revert and delete show as theirs; a failed one ends its job too. */
    hvSeenStateOperation = -1;
    if (REVERT(snap, 0) >= 0 || expectError(VIR_ERR_OPERATION_FAILED, "injected destroy") < 0 ||
        hvSeenStateOperation != VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_REVERT) {
        xsnapTestFail("revert showed operation %d", hvSeenStateOperation);
        goto cleanup;
    }
    if (jobSlots.getJobInfo(dom, &info) < 0 || info.type != VIR_DOMAIN_JOB_NONE) {
        xsnapTestFail("the failed revert's job is still shown");
        goto cleanup;
    }
    hvSeenStateOperation = -1;
    if (DELETE(snap, 0) < 0 ||
        hvSeenStateOperation != VIR_DOMAIN_JOB_OPERATION_SNAPSHOT_DELETE) {
        xsnapTestFail("delete showed operation %d", hvSeenStateOperation);
        goto cleanup;
    }
    ret = 0;

 cleanup:
    stockJobFails = 0;
    if (snap)
        virDomainSnapshotFree(snap);
    xsnapHypervisorSet(NULL);
    return ret;
}


static int
testReload(const void *data XSNAP_UNUSED)
{
    /* As after a libvirtd restart: everything comes back from the files. */
    xsnapDriverStateShutdown();
    xsnapDriverStateInit(libDir);
    if (NUM(dom, 0) != 4 || !sameName(CURRENT(dom, 0), "s3"))
        return -1;
    return 0;
}


static int
testDelete(const void *data XSNAP_UNUSED)
{
    virDomainSnapshotPtr s1 = LOOKUP(dom, "s1", 0);
    virDomainSnapshotPtr s2 = LOOKUP(dom, "s2", 0);
    int ret = -1;

    if (!s1 || !s2)
        goto cleanup;
    if (DELETE(s2, VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY) < 0 || NUM(dom, 0) != 3)
        goto cleanup;
    /* The handle outlives the snapshot. */
    if (ISCURRENT(s2, 0) >= 0 || expectError(VIR_ERR_NO_DOMAIN_SNAPSHOT, "s2") < 0)
        goto cleanup;
    /* The current snapshot goes with the children: s1 becomes current. */
    if (DELETE(s1, VIR_DOMAIN_SNAPSHOT_DELETE_METADATA_ONLY |
               VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY) < 0 ||
        NUM(dom, 0) != 1 || !sameName(CURRENT(dom, 0), "s1"))
        goto cleanup;
    ret = 0;

 cleanup:
    if (s1)
        virDomainSnapshotFree(s1);
    if (s2)
        virDomainSnapshotFree(s2);
    return ret;
}


static int stockCalls;
static unsigned int stockFlags;

static int
fakeUndefineFlags(virDomainPtr d XSNAP_UNUSED, unsigned int flags)
{
    stockCalls++;
    stockFlags = flags;
    return 0;
}


static int
fakeUndefine(virDomainPtr d XSNAP_UNUSED)
{
    stockCalls++;
    stockFlags = 0;
    return 0;
}


static int
testUndefine(const void *data XSNAP_UNUSED)
{
    xsnapDrvDomainUndefine undefine;
    xsnapDrvDomainUndefineFlags undefineFlags;
    g_autofree char *dir = g_build_filename(libDir, "snapshot", "test", NULL);

    xsnapDriverEntrySetUndefine(fakeUndefine, fakeUndefineFlags,
                                &undefine, &undefineFlags);
    if (virDomainDestroy(dom) < 0)
        return -1;

    if (undefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE) >= 0 ||
        expectError(VIR_ERR_OPERATION_INVALID,
                    "cannot delete inactive domain with 1 snapshots") < 0 ||
        undefine(dom) >= 0 ||
        expectError(VIR_ERR_OPERATION_INVALID, NULL) < 0 ||
        stockCalls != 0)
        return -1;

    if (undefineFlags(dom, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE |
                      VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA) < 0 ||
        stockCalls != 1 || stockFlags != VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
        return -1;
    if (g_file_test(dir, G_FILE_TEST_EXISTS) || NUM(dom, 0) != 0)
        return -1;
    /* Nothing left: plain undefine goes straight through. */
    return undefine(dom) == 0 && stockCalls == 2 ? 0 : -1;
}


/* Many threads list and redefine at once. */
static gpointer
hammer(gpointer opaque)
{
    int id = GPOINTER_TO_INT(opaque);
    int i;

    for (i = 0; i < 20; i++) {
        g_autofree char *name = g_strdup_printf("t%d-%d", id, i);
        virDomainSnapshotPtr *all = NULL;
        int n;
        int j;

        if (!sameName(redefine(name, NULL, 0), name))
            return GINT_TO_POINTER(1);
        if ((n = LISTALL(dom, &all, 0)) < 0)
            return GINT_TO_POINTER(1);
        for (j = 0; j < n; j++)
            virDomainSnapshotFree(all[j]);
        free(all);
    }
    return NULL;
}


static int
testThreads(const void *data XSNAP_UNUSED)
{
    GThread *th[6];
    int bad = 0;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(th); i++)
        th[i] = g_thread_new("hammer", hammer, GINT_TO_POINTER((int)i));
    for (i = 0; i < G_N_ELEMENTS(th); i++)
        bad |= GPOINTER_TO_INT(g_thread_join(th[i]));
    return !bad && NUM(dom, 0) == 6 * 20 ? 0 : -1;
}


static int
mymain(void)
{
    int ret = 0;

    libDir = g_build_filename(xsnapTestTmpDir(), "libxl", NULL);
    if (xsnapDriverErrorInit("LIBVIRT_PRIVATE_9.0.0") < 0) {
        fprintf(stderr, "%s\n", xsnapGetLastErrorMessage());
        return EXIT_AM_SKIP;
    }
    xsnapDriverStateInit(libDir);
    if (!(conn = virConnectOpen("test:///default")) ||
        !(dom = virDomainLookupByName(conn, "test")))
        return -1;

    ret |= xsnapTestRun("no snapshots yet", testEmpty, NULL);
    ret |= xsnapTestRun("redefine a tree", testRedefine, NULL);
    ret |= xsnapTestRun("queries", testQueries, NULL);
    ret |= xsnapTestRun("flags and unsupported operations", testFlagsAndUnsupported, NULL);
    ret |= xsnapTestRun("a busy domain times out", testBusy, NULL);
    ret |= xsnapTestRun("the memory step and its undo", testMemoryStep, NULL);
    ret |= xsnapTestRun("a running snapshot shows as a job", testJobs, NULL);
    ret |= xsnapTestRun("reload from the store", testReload, NULL);
    ret |= xsnapTestRun("delete metadata", testDelete, NULL);
    ret |= xsnapTestRun("undefine with snapshot metadata", testUndefine, NULL);
    ret |= xsnapTestRun("concurrent callers", testThreads, NULL);

    virDomainFree(dom);
    virConnectClose(conn);
    xsnapDriverStateShutdown();
    g_free(libDir);
    return ret == 0 ? 0 : -1;
}

XSNAP_TEST_MAIN(mymain)
